"""A decision writes the store, then commits; a failure between them leaves nothing inconsistent.

Runs on PostgreSQL with moto's S3 server, and on SQLite with the local store. Failures are
injected where they happen in production: the database refusing the commit, the store
refusing a put, the deletion of a rejected capture stopping half way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from capture import pipeline
from capture.flac import decode_flac
from capture.keys import object_key
from capture.models import AuditEntry, Capture, ReviewDecision, ReviewItem
from capture.store import StoreError, open_store
from capture.store_local import LocalStore
from capture.store_s3 import S3Store
from core.audio import SAMPLE_RATE
from core.db import session_scope
from core.messages import Word
from core.settings import Settings
from migrations import upgrade
from review import changes, decisions
from review.batches import build_batch
from review.decisions import Decision, DecisionConflict, decide
from tests.utils.capture import spool_turn
from tests.utils.databases import fresh_database
from tests.utils.s3 import s3_server

PII = "my name is John Smith and I live at 12 Elm Street"
NOW = datetime.now(UTC)
SPEECH = (
    (np.sin(np.arange(4 * SAMPLE_RATE) * 2 * np.pi * 300 / SAMPLE_RATE) * 8000)
    .astype("<i2")
    .tobytes()
)
FILES = ("audio.flac", "metadata.json", "transcript.txt")


def timed_words(text: str, seconds: float = 4.0) -> list[Word]:
    step = seconds / len(text.split())
    return [
        Word(text=w, start=i * step, end=(i + 0.8) * step, probability=0.9)
        for i, w in enumerate(text.split())
    ]


@pytest.fixture(params=["postgresql", "sqlite"])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    if request.param == "sqlite":
        with fresh_database("sqlite", tmp_path) as url:
            upgrade(url)
            yield Settings(data_dir=tmp_path, database_url=url, _env_file=None)  # type: ignore[call-arg]
        return
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with s3_server() as endpoint, fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        configured = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path,
            database_url=url,
            storage="s3",
            s3_endpoint_url=endpoint,
            _env_file=None,
        )
        S3Store(configured, "voice-captures-eu").ensure_bucket()
        yield configured


def seeded(settings: Settings) -> int:
    """A stored turn with a name and an address flagged for review; its item's id."""
    spool_turn(
        settings, "pii", SPEECH, transcript=PII, words=timed_words(PII), timestamp=NOW.isoformat()
    )
    pipeline.process(settings, "pii")
    build_batch(settings, datetime.now(UTC))
    with session_scope(settings) as session:
        return session.scalars(select(ReviewItem.id).where(ReviewItem.reason == "pii_review")).one()


def objects(settings: Settings) -> dict[str, bytes]:
    store = open_store(settings, "eu")
    return {name: store.get(object_key(NOW.date(), "pii", name)) for name in FILES}


def rows(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        capture = session.get(Capture, "pii")
        item = session.scalars(select(ReviewItem).where(ReviewItem.turn_id == "pii")).one()
        return {
            "transcript": capture.transcript if capture else None,
            "word_times": capture.word_times if capture else None,
            "redaction": capture.redaction if capture else None,
            "label": capture.label if capture else None,
            "item": (item.status, item.spans, item.tags),
            "decisions": session.query(ReviewDecision).count(),
            "audits": session.query(AuditEntry).count(),
        }


def redact_john(settings: Settings, item_id: int) -> dict[str, Any]:
    start = PII.index("John Smith")
    span = {"start": start, "end": start + 10, "type": "PERSON"}
    return decide(settings, item_id, Decision(decision="redact", spans=[span]), "rita")


@pytest.fixture
def failing_commit_after_the_store() -> Iterator[None]:
    """The database refuses the commit that follows the first decision's writes to the store."""
    armed = {"on": False, "fired": False}
    real = changes.store_first

    def store_then_arm(*args: Any, **kwargs: Any) -> changes.Written:
        written = real(*args, **kwargs)
        armed["on"] = not armed["fired"]
        return written

    def refuse(session: Session) -> None:
        if armed["on"]:
            armed["on"], armed["fired"] = False, True
            raise OperationalError("COMMIT", {}, Exception("the database went away"))

    event.listen(Session, "before_commit", refuse)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(changes, "store_first", store_then_arm)
        yield
    event.remove(Session, "before_commit", refuse)


def test_a_commit_that_fails_after_the_store_leaves_both_as_they_were(
    settings: Settings, failing_commit_after_the_store: None
) -> None:
    item_id = seeded(settings)
    stored, recorded = objects(settings), rows(settings)
    with pytest.raises(OperationalError):
        redact_john(settings, item_id)
    assert objects(settings) == stored  # the compensating step put every object back
    assert rows(settings) == recorded


def test_the_same_decision_after_a_failed_commit_applies_everywhere(
    settings: Settings, failing_commit_after_the_store: None
) -> None:
    item_id = seeded(settings)
    with pytest.raises(OperationalError):
        redact_john(settings, item_id)
    item = redact_john(settings, item_id)  # the reviewer tries again
    assert item["transcript"] == "my name is [PERSON] and I live at 12 Elm Street"
    now = objects(settings)
    assert now["transcript.txt"].decode() == item["transcript"]
    metadata = json.loads(now["metadata.json"])
    assert metadata["transcript"] == item["transcript"]
    assert metadata["review"]["status"] == "redacted"
    assert metadata["redaction"] == rows(settings)["redaction"]
    samples = np.frombuffer(decode_flac(now["audio.flac"])[0], "<i2")
    john = timed_words(PII)[3]
    assert not samples[int(john.start * SAMPLE_RATE) : int(john.end * SAMPLE_RATE)].any()
    assert [d["version"] for d in item["decisions"]] == [1]


def test_a_store_failure_part_way_undoes_the_puts_and_records_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = seeded(settings)
    stored, recorded = objects(settings), rows(settings)
    store_class = S3Store if settings.storage == "s3" else LocalStore
    real_put = store_class.put

    def metadata_refused(self: Any, key: str, data: bytes, *, content_type: str) -> None:
        if key.endswith("metadata.json"):
            raise StoreError(f"put {key}: refused")
        real_put(self, key, data, content_type=content_type)

    monkeypatch.setattr(store_class, "put", metadata_refused)
    with pytest.raises(StoreError):
        redact_john(settings, item_id)
    monkeypatch.setattr(store_class, "put", real_put)
    assert objects(settings) == stored  # audio and transcript were put, then put back
    assert rows(settings) == recorded


def test_a_decision_committed_meanwhile_wins_and_ours_is_undone(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = seeded(settings)
    stored = objects(settings)
    real = changes.store_first

    def another_reviewer_between(*args: Any, **kwargs: Any) -> changes.Written:
        written = real(*args, **kwargs)
        monkeypatch.setattr(changes, "store_first", real)
        decide(settings, item_id, Decision(decision="approve", tags=["bad_response"]), "ada")
        return written

    monkeypatch.setattr(changes, "store_first", another_reviewer_between)
    with pytest.raises(DecisionConflict):
        redact_john(settings, item_id)
    now, recorded = objects(settings), rows(settings)
    assert recorded["item"][0] == "approved" and recorded["transcript"] == PII
    assert now["audio.flac"] == stored["audio.flac"]
    assert now["transcript.txt"] == stored["transcript.txt"] == PII.encode()
    metadata = json.loads(now["metadata.json"])
    assert metadata["review"]["status"] == "approved" and metadata["transcript"] == PII


def test_a_rejection_whose_deletion_failed_is_finished_by_repeating_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = seeded(settings)
    real_drop = decisions.drop_turn

    def fails_once(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(decisions, "drop_turn", real_drop)
        raise StoreError("the store went away")

    monkeypatch.setattr(decisions, "drop_turn", fails_once)
    reject = Decision(decision="reject")
    with pytest.raises(StoreError):
        decide(settings, item_id, reject, "rita")
    recorded = rows(settings)
    assert recorded["item"][0] == "rejected" and recorded["transcript"] == PII  # not yet gone
    assert len(objects(settings)) == 3
    decide(settings, item_id, reject, "rita")
    assert open_store(settings, "eu").list("raw/") == []
    with session_scope(settings) as session:
        assert session.get(Capture, "pii") is None
        audits = [a.action for a in session.scalars(select(AuditEntry))]
        assert audits.count("review.decision") == 1  # recorded once
