"""The dataset tests' services: PostgreSQL, moto's S3 server, captures stored by the real chain."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
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

TURNS = SPEECH / "turns"
RECENT = datetime.now(UTC) - timedelta(hours=2)
_ORDER = itertools.count()


@cache
def clips() -> list[tuple[str, str]]:
    """(file, what is said) of the turn set's spoken questions, longest kinds first."""
    found = []
    for line in (TURNS / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] != "short_complete" and not entry["file"].startswith("real-"):
            found.append((entry["file"], entry["text"]))
    return found


@cache
def pcm_of(name: str) -> bytes:
    """A clip of the turn set (or tests/data/speech) as 16 kHz PCM16."""
    path = TURNS / name if (TURNS / name).exists() else SPEECH / name
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
