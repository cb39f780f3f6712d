import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect, select

from capture.metadata import CaptureMetadata, user_id_for
from capture.models import Capture
from capture.queries import captures_of, upsert_capture
from core.db import get_engine, session_scope
from core.settings import Settings

TABLES = {"consent_events", "captures", "feedback", "review_items", "dead_letters", "audit_log"}


def metadata(**changes: object) -> CaptureMetadata:
    fields: dict[str, object] = {
        "turn_id": "turn-1",
        "user_id": user_id_for("user-token-123", "secret"),
        "timestamp": datetime(2026, 11, 26, 10, 30, tzinfo=UTC),
        "duration_ms": 4200,
        "transcript": "my card is [CREDIT_CARD]",
        "intent": "scientific_query",
        "domain": "physics",
        "response": "The speed of light is about 300,000 km per second.",
        "latency": {
            "stt_ms": 400,
            "nlu_ms": 10,
            "rag_ms": 1,
            "llm_ms": 300,
            "tts_ms": 200,
            "total_ms": 900,
        },
        "region": "eu",
        "conversation_id": "conv-1",
        "turn_index": 0,
        "models": {"stt": "tiny.en"},
        "redaction": {"entities": {"CREDIT_CARD": 1}, "review": False},
    }
    return CaptureMetadata.model_validate({**fields, **changes})


def test_migrations_create_every_table(database: Settings) -> None:

    assert set(inspect(get_engine(database)).get_table_names()) >= TABLES


def test_upserts_are_idempotent(database: Settings) -> None:
    for _ in range(3):  # a redelivered task
        with session_scope(database) as session:
            upsert_capture(session, metadata())
    with session_scope(database) as session:
        session.get(Capture, "turn-1").feedback = "thumbs_down"  # type: ignore[union-attr]
    with session_scope(database) as session:
        upsert_capture(session, metadata(duration_ms=5000))
    with session_scope(database) as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 1
        row = session.get(Capture, "turn-1")
        assert row is not None and row.duration_ms == 5000 and row.feedback == "thumbs_down"
        assert row.latency["total_ms"] == 900 and row.day.isoformat() == "2026-11-26"
        assert [c.turn_id for c in captures_of(session, row.user_id)] == ["turn-1"]


def test_metadata_has_exactly_the_fields() -> None:
    data = json.loads(metadata().to_json())
    assert set(data) == {
        "schema_version",
        "turn_id",
        "user_id",
        "timestamp",
        "duration_ms",
        "transcript",
        "intent",
        "domain",
        "response",
        "latency",
        "feedback",
        "consent",
        "region",
        "conversation_id",
        "turn_index",
        "models",
        "redaction",
    }
    assert data["schema_version"] == 2
    assert b"user-token-123" not in metadata().to_json()
    with pytest.raises(ValueError):
        metadata(extra_field=1)
    assert user_id_for("a", "k") != user_id_for("a", "other") and len(user_id_for("a", "k")) == 64


def test_metadata_written_before_version_2_is_read_and_written_back_as_version_2() -> None:
    old = json.loads(metadata().to_json())
    old["session_id"] = old.pop("turn_id")  # what version 1 wrote, unmarked
    del old["schema_version"]
    read = CaptureMetadata.model_validate_json(json.dumps(old))
    assert read.turn_id == "turn-1"
    again = json.loads(read.to_json())
    assert again["turn_id"] == "turn-1" and again["schema_version"] == 2
    assert "session_id" not in again


def test_the_migrations_match_the_models(database: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import learning.registry.models  # noqa: F401 - the learning loop's tables share the Base
    from capture.models import Base

    with get_engine(database).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (
                isinstance(d, tuple)
                and d[0] in ("add_table", "remove_table")
                and d[1].name == "alembic_version"
            )
        ]
    assert differences == []


def test_times_come_back_in_utc_on_every_database(database: Settings) -> None:
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=1))
    with session_scope(database) as session:
        upsert_capture(session, metadata(timestamp=datetime(2026, 11, 26, 11, 30, tzinfo=paris)))
    with session_scope(database) as session:
        row = session.get(Capture, "turn-1")
        assert row is not None and row.timestamp == datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
        assert row.timestamp.utcoffset() == timedelta(0)
