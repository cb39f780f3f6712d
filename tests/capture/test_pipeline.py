"""The fused chain and the split one store the same thing; audio is encoded once; S3 clients
are made once per process; the three objects go up together. On PostgreSQL and SQLite.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from capture import objects, pipeline
from capture.flac import decode_flac
from capture.keys import object_key
from capture.models import Capture, ReviewItem
from capture.spool import Spool
from capture.store import StoreError, open_store
from capture.store_local import LocalStore
from capture.store_s3 import S3Store
from core.audio import SAMPLE_RATE
from core.db import session_scope
from core.messages import Word
from core.settings import Settings
from redaction.audio import redact_audio
from redaction.text import redact_text
from tests.utils.capture import TONE, run_chain, spool_turn

DAY = date(2026, 11, 25)
SAID = "my name is John Smith and my card is 4111 1111 1111 1111"
WORDS = [
    Word(text=w, start=i * 0.04, end=i * 0.04 + 0.03, probability=0.9)
    for i, w in enumerate(SAID.split())
]


def stored(settings: Settings, turn_id: str) -> dict[str, bytes]:
    store = open_store(settings, "eu")
    return {
        name: store.get(object_key(DAY, turn_id, name))
        for name in ("audio.flac", "metadata.json", "transcript.txt")
    }


def row(settings: Settings, turn_id: str) -> dict[str, Any]:
    with session_scope(settings) as session:
        capture = session.get(Capture, turn_id)
        assert capture is not None
        items = session.scalars(select(ReviewItem).where(ReviewItem.turn_id == turn_id))
        return {
            "transcript": capture.transcript,
            "word_times": capture.word_times,
            "redaction": capture.redaction,
            "items": sorted((i.reason, json.dumps(i.spans)) for i in items),
        }


def test_fused_and_split_store_the_same_and_encode_the_audio_once(
    database: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    encodes: list[int] = []
    real = objects.encode_flac

    def counted(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
        encodes.append(len(pcm))
        return real(pcm, sample_rate)

    monkeypatch.setattr(objects, "encode_flac", counted)
    for turn_id in ("fused", "split"):
        spool_turn(database, turn_id, transcript=SAID, words=WORDS, feedback="thumbs_down")
    pipeline.process(database, "fused")
    assert len(encodes) == 1
    run_chain(database, "split")
    assert len(encodes) == 2  # once each, though the card number silenced words
    fused, split = stored(database, "fused"), stored(database, "split")
    assert fused["audio.flac"] == split["audio.flac"]
    assert fused["transcript.txt"] == split["transcript.txt"]
    assert b"4111" not in fused["transcript.txt"] and b"[CREDIT_CARD]" in fused["transcript.txt"]
    as_fused = json.loads(fused["metadata.json"])
    assert as_fused == {**json.loads(split["metadata.json"]), "turn_id": "fused"}
    assert row(database, "fused") == row(database, "split")
    assert {reason for reason, _ in row(database, "fused")["items"]} == {
        "pii_review",
        "thumbs_down",
    }
    pcm, rate = decode_flac(fused["audio.flac"])
    entities = redact_text(SAID).entities
    assert (pcm, rate) == (
        redact_audio(TONE, SAMPLE_RATE, WORDS, SAID, entities, pad_ms=database.redaction_pad_ms),
        SAMPLE_RATE,
    )
    assert pcm != TONE  # some words were silenced
    assert Spool(database).pending() == [] and pipeline.staging(database).list("") == []


def test_the_fused_step_twice_changes_nothing(database: Settings) -> None:
    spool_turn(database, "twice")
    pipeline.process(database, "twice")
    before = stored(database, "twice")
    with pytest.raises(pipeline.AlreadyDone):
        pipeline.process(database, "twice")
    assert stored(database, "twice") == before


@pytest.mark.parametrize("check", [2, 3])  # after the uploads, after the rows
def test_an_opt_out_during_the_fused_step_leaves_nothing(
    database: Settings, monkeypatch: pytest.MonkeyPatch, check: int
) -> None:
    spool_turn(database, "racing", transcript=SAID, words=WORDS)
    real_exists = Spool.exists
    calls = {"n": 0}

    def opt_out_meanwhile(self: Spool, turn_id: str) -> bool:
        calls["n"] += 1
        if calls["n"] == check:  # the check after a write
            self.delete(turn_id)
        return real_exists(self, turn_id)

    monkeypatch.setattr(Spool, "exists", opt_out_meanwhile)
    with pytest.raises(pipeline.AlreadyDone):
        pipeline.process(database, "racing")
    assert open_store(database, "eu").list("raw/") == []
    with session_scope(database) as session:
        assert session.query(Capture).count() == 0 and session.query(ReviewItem).count() == 0


def test_every_put_is_tried_and_the_failure_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    real_put = LocalStore.put

    def audio_refused(self: LocalStore, key: str, data: bytes, *, content_type: str) -> None:
        if key.endswith("audio.flac"):
            raise StoreError("refused")
        real_put(self, key, data, content_type=content_type)

    monkeypatch.setattr(LocalStore, "put", audio_refused)
    three = {"audio.flac": b"a", "metadata.json": b"{}", "transcript.txt": b"t"}
    store = open_store(settings, "eu")
    with pytest.raises(StoreError, match="refused"):
        objects.put_objects(store, DAY, "t1", three)
    assert store.list("raw/") == [
        object_key(DAY, "t1", "metadata.json"),
        object_key(DAY, "t1", "transcript.txt"),
    ]


def test_one_s3_client_per_process_and_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Endpoints of this test only: a client made here is kept for the rest of the process.
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    one = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, storage="s3", s3_endpoint_url="http://127.0.0.2:9", _env_file=None
    )
    other = one.model_copy(update={"s3_endpoint_url": "http://127.0.0.3:9"})
    eu, us = S3Store(one, "voice-captures-eu"), S3Store(one, "voice-captures-us")
    assert eu.client is us.client
    assert S3Store(other, "voice-captures-eu").client is not eu.client
