"""Writes and reads of capture metadata; writes are upserts, so a redelivered task is harmless."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from capture.metadata import CaptureMetadata
from capture.models import AuditEntry, Capture, ReviewItem


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert_capture(
    session: Session, metadata: CaptureMetadata, word_times: list[list[float]] | None = None
) -> None:
    """Insert the turn's row, or bring an existing one up to date (same values: no change)."""
    values = {
        "turn_id": metadata.turn_id,
        "user_id": metadata.user_id,
        "conversation_id": metadata.conversation_id,
        "turn_index": metadata.turn_index,
        "region": metadata.region,
        "day": metadata.timestamp.astimezone(UTC).date(),
        "timestamp": metadata.timestamp,
        "duration_ms": metadata.duration_ms,
        "transcript": metadata.transcript,
        "response": metadata.response,
        "intent": metadata.intent,
        "domain": metadata.domain,
        "latency": metadata.latency,
        "models": metadata.models,
        "redaction": metadata.redaction,
        "feedback": metadata.feedback,
        "stored_at": datetime.now(UTC),
        "word_times": word_times or [],
    }
    statement = _insert(session, Capture).values(**values)
    updates = {k: statement.excluded[k] for k in values if k not in ("turn_id", "feedback")}
    session.execute(statement.on_conflict_do_update(index_elements=["turn_id"], set_=updates))


def insert_ignoring_duplicates(
    session: Session, table: Any, values: dict[str, Any], *, keys: list[str]
) -> None:
    """Insert a row unless one with the same unique ``keys`` exists (a redelivered task)."""
    statement = _insert(session, table).values(**values)
    session.execute(statement.on_conflict_do_nothing(index_elements=keys))


def captures_of(session: Session, user_id: str) -> list[Capture]:
    """Every capture of one user."""
    return list(session.scalars(select(Capture).where(Capture.user_id == user_id)))


def add_review_item(
    session: Session, turn_id: str, reason: str, spans: list[dict[str, Any]]
) -> None:
    """Queue the turn for a person (once per turn and reason)."""
    insert_ignoring_duplicates(
        session,
        ReviewItem,
        {
            "turn_id": turn_id,
            "reason": reason,
            "spans": spans,
            "status": "pending",
            "created_at": datetime.now(UTC),
        },
        keys=["turn_id", "reason"],
    )


def add_audit(
    session: Session, actor: str, action: str, subject: str, details: dict[str, Any]
) -> None:
    """An audit entry: who did what to what, when; never content or PII values."""
    session.add(
        AuditEntry(
            at=datetime.now(UTC), actor=actor, action=action, subject=subject, details=details
        )
    )
