"""The capture chain through real Redis, PostgreSQL and a real Celery worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import redis

from api.voice.audio import decode_audio, float_to_pcm16
from capture.flac import decode_flac
from capture.keys import object_key
from capture.metadata import user_id_for
from capture.models import Capture, DeadLetter, ReviewItem
from capture.spool import Spool, SpoolRecord
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from migrations import upgrade
from tests.conftest import shared_clip
from tests.utils.celery_worker import celery_worker
from tests.utils.databases import fresh_database

BROKER = "redis://127.0.0.1:6379/14"


@pytest.fixture
def pipeline_env(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    redis.Redis.from_url(BROKER).flushdb()
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        env = {
            "VOICE_DATA_DIR": str(tmp_path),
            "VOICE_BROKER_URL": BROKER,
            "VOICE_DATABASE_URL": url,
        }
        settings = Settings(data_dir=tmp_path, broker_url=BROKER, database_url=url, _env_file=None)  # type: ignore[call-arg]
        yield settings, env


def spool_turn(settings: Settings, turn_id: str, pcm: bytes, **changes: object) -> None:
    fields: dict[str, object] = dict(
        turn_id=turn_id,
        user_id=user_id_for("user-1", "secret"),
        timestamp="2026-11-26T10:30:00+00:00",
        region="eu",
        conversation_id="conv-1",
        turn_index=0,
        transcript="my card number is 4111 1111 1111 1111",
        response="Noted.",
        intent="other",
        domain="none",
        latency={"stt_ms": 400.0, "total_ms": 900.0},
        models={"stt": "tiny.en"},
        avg_logprob=-0.2,
    )
    Spool(settings).put(SpoolRecord.model_validate({**fields, **changes}), pcm)


def enqueue(env: dict[str, str], *turn_ids: str) -> None:
    code = (
        "import sys\nfrom workers.config import enqueue_capture\nfrom workers.tasks import app\n"
        "for t in sys.argv[1:]: enqueue_capture(app, t)"
    )
    subprocess.run(
        [sys.executable, "-c", code, *turn_ids], check=True, timeout=60, env={**os.environ, **env}
    )


def wait_until(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the capture chain did not finish in time"
        time.sleep(0.3)


def test_a_spooled_turn_is_stored_redacted_and_flagged(pipeline_env) -> None:
    settings, env = pipeline_env
    pcm = float_to_pcm16(decode_audio(shared_clip("jfk.flac"), max_seconds=60))
    spool_turn(settings, "turn-a", pcm, feedback="thumbs_down")
    with celery_worker(env):
        enqueue(env, "turn-a")
        wait_until(lambda: Spool(settings).pending() == [])
    store = open_store(settings, "eu")
    day = date(2026, 11, 26)
    assert store.list("raw/") == sorted(
        object_key(day, "turn-a", n) for n in ("audio.flac", "metadata.json", "transcript.txt")
    )
    assert decode_flac(store.get(object_key(day, "turn-a", "audio.flac"))) == (pcm, 16_000)
    metadata = json.loads(store.get(object_key(day, "turn-a", "metadata.json")))
    assert metadata["transcript"] == "my card number is [CREDIT_CARD]"
    assert metadata["redaction"] == {"entities": {"CREDIT_CARD": 1}, "review": False}
    assert (
        store.get(object_key(day, "turn-a", "transcript.txt")) == b"my card number is [CREDIT_CARD]"
    )
    with session_scope(settings) as session:
        row = session.get(Capture, "turn-a")
        assert row is not None and "4111" not in row.transcript and row.feedback == "thumbs_down"
        reasons = [r.reason for r in session.query(ReviewItem).filter_by(session_id="turn-a")]
        assert reasons == ["thumbs_down"]


def test_many_captures_none_lost_none_doubled(pipeline_env) -> None:
    settings, env = pipeline_env
    pcm = (np.sin(np.arange(8000) / 10) * 8000).astype("<i2").tobytes()
    ids = [f"bulk-{n:03d}" for n in range(40)]
    for turn_id in ids:
        spool_turn(settings, turn_id, pcm, transcript=f"question number {turn_id}")
    with celery_worker(env):
        enqueue(env, *ids)
        enqueue(env, *ids[:10])  # redelivered work changes nothing
        wait_until(lambda: Spool(settings).pending() == [], timeout=180)
        time.sleep(1.0)
    with session_scope(settings) as session:
        assert session.query(Capture).count() == len(ids)
        assert session.query(DeadLetter).count() == 0
    keys = open_store(settings, "eu").list("raw/")
    assert len(keys) == 3 * len(ids)
