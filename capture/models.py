"""SQLAlchemy models of the capture pipeline (PostgreSQL in production, SQLite embedded).

No table holds a raw user token or unredacted text: users are HMAC ids, transcripts and
responses are stored redacted, the audit log says what was done, never the content.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Times in UTC, written and read back with their zone on PostgreSQL and SQLite alike.

    SQLite keeps no zone: without this, times would come back naive from it only.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store UTC (a naive time is taken to be UTC already)."""
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Give back an aware UTC time."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every capture table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,  # a JSON array, stored as it is
        datetime: UTCDateTime(),
    }


class ConsentEvent(Base):
    """The consent ledger: every grant and revocation, with the policy version shown."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)  # a change is recorded once
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))  # session, api
    at: Mapped[datetime]


class Capture(Base):
    """One captured turn; ``turn_id`` is the turn's id (the metadata's name for it)."""

    __tablename__ = "captures"

    turn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    turn_index: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date, index=True)
    timestamp: Mapped[datetime] = mapped_column(index=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    transcript: Mapped[str] = mapped_column(Text)  # redacted
    response: Mapped[str] = mapped_column(Text)  # redacted
    intent: Mapped[str] = mapped_column(String(32))
    domain: Mapped[str] = mapped_column(String(32))
    latency: Mapped[dict[str, Any]]
    models: Mapped[dict[str, Any]]
    redaction: Mapped[dict[str, Any]]  # entity types and counts, never values
    avg_logprob: Mapped[float] = mapped_column(Float, default=0.0)
    feedback: Mapped[str | None] = mapped_column(String(16), nullable=True)
    stored_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # word timings as offsets into the redacted transcript (no text), for later audio redaction
    word_times: Mapped[list[Any]] = mapped_column(default=list)  # [[start, end, start_s, end_s]]
    label: Mapped[str | None] = mapped_column(Text, nullable=True)  # a reviewer's correction


class FeedbackEvent(Base):
    """Thumbs up or down on a turn, as given (the latest also sits on the capture)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)  # a message is recorded once
    turn_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("captures.turn_id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class ReviewItem(Base):
    """A turn that needs a person: flagged spans, thumbs down or low STT confidence."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("turn_id", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("captures.turn_id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32))  # pii_review, thumbs_down, low_confidence
    spans: Mapped[list[Any]]  # [{type, start, end}], no values
    status: Mapped[str] = mapped_column(String(16), default="pending")
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    tags: Mapped[list[Any]] = mapped_column(default=list)  # error tags
    created_at: Mapped[datetime]


class DeadLetter(Base):
    """A task that kept failing: what it was given and why it failed."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(128))
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    arguments: Mapped[dict[str, Any]]  # ids and keys only
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]  # the latest failure
    failures: Mapped[int] = mapped_column(Integer, default=1)  # the same task failing again
    replayed_at: Mapped[datetime | None] = mapped_column(nullable=True)  # an operator's replay


class AuditEntry(Base):
    """Who did what, when: erasures, retention, reviews. No content, no PII values."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]]


class ApiKey(Base):
    """An admin API key: only its SHA-256 is kept; the key is shown once, when made."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # reviewer, admin
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ReviewBatch(Base):
    """The review items gathered for one week's manual review."""

    __tablename__ = "review_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    rejected: Mapped[int] = mapped_column(Integer, default=0)  # items deleted by a rejection


class ReviewDecision(Base):
    """One decision on a review item; the latest supersedes, every version is kept."""

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)  # outlives a rejected item
    turn_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))  # approve, correct, redact, reject
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)  # the correction
    spans: Mapped[list[Any]]  # [{start, end, type}] for redact; a correction's flagged spans
    tags: Mapped[list[Any]]  # [stt_error, ...]
    reviewer: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class VoiceRating(Base):
    """A reviewer's 1-5 rating of an item's answer spoken in a voice (``review/ratings.py``)."""

    __tablename__ = "voice_ratings"
    __table_args__ = (UniqueConstraint("item_id", "reviewer", "voice", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    turn_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("captures.turn_id", ondelete="CASCADE"), index=True
    )
    voice: Mapped[str] = mapped_column(String(32))
    tts: Mapped[str] = mapped_column(String(200))  # the TTS version that spoke it
    score: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
