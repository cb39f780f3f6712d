"""The capture chain through real Redis, PostgreSQL and a real Celery worker process."""

from __future__ import annotations

import json
import time
from datetime import date

import numpy as np
import pytest

from api.voice.audio import decode_audio, float_to_pcm16
from capture.flac import decode_flac
from capture.keys import object_key
from capture.models import Capture, DeadLetter, ReviewItem
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from tests.conftest import speech_clip
from tests.utils.capture import enqueue, spool_turn, wait_until
from tests.utils.celery_worker import celery_worker


def test_a_spooled_turn_is_stored_redacted_and_flagged(pipeline_env) -> None:
    settings, env = pipeline_env
    pcm = float_to_pcm16(decode_audio(speech_clip("jfk.flac"), max_seconds=60))
    spool_turn(settings, "turn-a", pcm, feedback="thumbs_down")
    with celery_worker(env):
        enqueue(env, "turn-a")
        wait_until(lambda: Spool(settings).pending() == [])
    store = open_store(settings, "eu")
    day = date(2026, 11, 25)
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
        reasons = [r.reason for r in session.query(ReviewItem).filter_by(turn_id="turn-a")]
        assert reasons == ["thumbs_down"]


@pytest.mark.parametrize("chain", ["fused", "split"])
def test_many_captures_none_lost_none_doubled(pipeline_env, chain: str) -> None:
    settings, env = pipeline_env
    env = {**env, "VOICE_CAPTURE_CHAIN": chain}  # the worker's and the enqueuing process's
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
