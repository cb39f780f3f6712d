"""Deleting captures everywhere: one turn, one user (opt-out), or everything too old.

Objects go first and rows last, so a failure half way leaves rows that point at what is
left; a retried run finds them and finishes. Every run that deletes writes an audit entry
saying what went, never what it contained, and ends by compacting the database so that the
deleted rows are not left readable in its files (``core.db.compact_after_delete``).

A user's erasure leaves one thing keyed by their hashed id: the consent ledger's record of
the withdrawal itself (their earlier grants and withdrawals go). Its audit entry names that
record (``consent:{event id}``), not the user.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from capture.consent import ConsentChange, ConsentOutbox, StoredTurn
from capture.keys import PREFIX, REGIONS, LayoutError, parse_key, turn_prefix
from capture.models import (
    Capture,
    ConsentEvent,
    DeadLetter,
    FeedbackEvent,
    ReviewDecision,
    ReviewItem,
)
from capture.queries import add_audit, insert_ignoring_duplicates
from capture.spool import Spool
from capture.store import open_store
from capture.store_local import LocalStore
from core.db import compact_after_delete, session_scope
from core.settings import Settings

STAGED = ("audio.flac", "metadata.json", "review.json")
# what erasure and retention delete from (VACUUMed afterwards where the operator asks)
TOUCHED = (
    Capture.__tablename__,
    FeedbackEvent.__tablename__,
    ReviewItem.__tablename__,
    ReviewDecision.__tablename__,
    ConsentEvent.__tablename__,
    DeadLetter.__tablename__,
)


def drop_objects(settings: Settings, turn: StoredTurn) -> int:
    """Delete a turn's stored and staged objects; returns how many were stored."""
    stored = open_store(settings, turn.region).delete_prefix(
        turn_prefix(date.fromisoformat(turn.day), turn.turn_id)
    )
    staging = LocalStore(settings, "staging")
    for name in STAGED:
        staging.delete(f"{turn.turn_id}/{name}")
    return stored


def _delete_rows(session: Session, turn_ids: list[str]) -> None:
    """The turns' rows, reviewers' decisions (and their corrected transcripts) included."""
    for table in (ReviewDecision, ReviewItem, FeedbackEvent, Capture):
        session.execute(delete(table).where(table.turn_id.in_(turn_ids)))


def _stored(capture: Capture) -> StoredTurn:
    return StoredTurn.on(capture.turn_id, capture.timestamp, capture.region)


def drop_turn(settings: Settings, turn: StoredTurn) -> None:
    """Delete one turn everywhere (a chain that found its user had opted out)."""
    drop_objects(settings, turn)
    with session_scope(settings) as session:
        _delete_rows(session, [turn.turn_id])
    compact_after_delete(settings, TOUCHED, vacuum=False)


def erase_user(settings: Settings, change: ConsentChange) -> dict[str, int]:
    """Erase every capture of the user made before the revocation; returns counts."""
    with session_scope(settings) as session:
        captures = session.scalars(
            select(Capture).where(Capture.user_id == change.user_id, Capture.timestamp <= change.at)
        ).all()
        turns = {c.turn_id: _stored(c) for c in captures}
    spool = Spool(settings)
    late = spool.records_of(change.user_id, until=change.at)  # spooled since the request
    for record in late:
        spool.delete(record.turn_id)
    spooled = [*change.spooled_turns, *(StoredTurn.of_record(r) for r in late)]
    for turn in spooled:
        turns.setdefault(turn.turn_id, turn)
    objects = sum(drop_objects(settings, turn) for turn in turns.values())
    counts = {"captures": len(captures), "spooled": len(spooled), "objects": objects}
    with session_scope(settings) as session:
        _delete_rows(session, list(turns))
        session.execute(  # the ledger keeps only this withdrawal of theirs
            delete(ConsentEvent).where(
                ConsentEvent.user_id == change.user_id,
                ConsentEvent.at <= change.at,
                ConsentEvent.event_id != change.event_id,
            )
        )
        add_audit(session, change.source, "erase_user", f"consent:{change.event_id}", counts)
    compact_after_delete(settings, TOUCHED)
    return counts


def _superseded(session: Session, change: ConsentChange) -> bool:
    """A grant applied after a later withdrawal of the same user (a retried task)."""
    later = select(ConsentEvent.id).where(
        ConsentEvent.user_id == change.user_id,
        ConsentEvent.granted.is_(False),
        ConsentEvent.at > change.at,
    )
    return change.granted and session.scalar(later.limit(1)) is not None


def apply_change(settings: Settings, event_id: str) -> None:
    """Record a consent change in the ledger and, for a revocation, erase; then drop the file."""
    outbox = ConsentOutbox(settings)
    change = outbox.get(event_id)
    if change is None:
        return  # applied already
    with session_scope(settings) as session:
        if _superseded(session, change):
            outbox.delete(event_id)  # erased with what it allowed: not recorded
            return
        insert_ignoring_duplicates(
            session,
            ConsentEvent,
            {
                "event_id": change.event_id,
                "user_id": change.user_id,
                "granted": change.granted,
                "policy_version": change.policy_version,
                "source": change.source,
                "at": change.at,
            },
            keys=["event_id"],
        )
    if not change.granted:
        erase_user(settings, change)
    outbox.delete(event_id)


def expire(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Delete everything captured before the retention period; returns what went."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=settings.retention_days)
    with session_scope(settings) as session:
        old = session.scalars(select(Capture).where(Capture.timestamp < cutoff)).all()
        turns = [_stored(c) for c in old]
    objects = sum(drop_objects(settings, turn) for turn in turns)
    objects += _expire_unlisted(settings, cutoff.date())
    spool = Spool(settings)
    stale = [
        turn_id
        for turn_id in spool.pending(older_than_s=settings.retention_days * 86_400.0)
        if not _keep_spooled(spool, turn_id, cutoff)
    ]
    for turn_id in stale:
        spool.delete(turn_id)
    counts: dict[str, Any] = {
        "cutoff": cutoff.isoformat(),
        "captures": len(turns),
        "objects": objects,
        "spooled": len(stale),
    }
    with session_scope(settings) as session:
        _delete_rows(session, [t.turn_id for t in turns])
        session.execute(delete(DeadLetter).where(DeadLetter.at < cutoff))
        add_audit(session, "retention", "expire", "captures", counts)
    compact_after_delete(settings, TOUCHED)
    return counts


def _keep_spooled(spool: Spool, turn_id: str, cutoff: datetime) -> bool:
    try:
        record, _ = spool.get(turn_id)
    except Exception:  # unreadable and older than the retention period: nothing to keep
        return False
    return datetime.fromisoformat(record.timestamp) >= cutoff


def _expire_unlisted(settings: Settings, before: date) -> int:
    """Objects of days before ``before`` that no row points at (a chain stopped half way)."""
    deleted = 0
    for region in REGIONS:
        store = open_store(settings, region)
        for key in store.list_all(f"{PREFIX}/"):
            try:
                day, _, _ = parse_key(key)
            except LayoutError:
                continue
            if day < before:
                store.delete(key)
                deleted += 1
    return deleted
