"""Which turns may leave the store: the time window, consent, retention and review status.

Only the capture rows are read here (their transcripts are the redacted ones); the audio is
fetched later. ``recheck`` asks again just before the dataset is published, so a turn erased
or withdrawn while the export ran is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.consent import ConsentOutbox
from capture.models import Capture, ConsentEvent, ReviewItem
from core.db import session_scope
from core.settings import Settings
from learning.dataset.options import ExportOptions

CHUNK = 500  # ids per IN (...) query
REVIEWED = ("approved", "corrected", "redacted")


def items(value: Any) -> list[Any]:
    """A JSON list column as stored: ``{"items": [...]}`` (the first schema) or a plain list."""
    if isinstance(value, dict):
        return list(value.get("items") or [])
    if isinstance(value, list):
        return list(value)
    return []


@dataclass
class Turn:
    """One captured turn as the export sees it (redacted text only)."""

    turn_id: str
    user_id: str
    region: str
    day: date
    timestamp: datetime
    transcript: str  # the STT text, redacted
    label: str | None  # a reviewer's correction, redacted
    intent: str
    domain: str
    avg_logprob: float
    tags: frozenset[str]  # reviewers' error tags
    reviewed: bool  # approved, corrected or redacted by a reviewer
    unsure: bool  # flagged for low STT confidence and not confirmed by a reviewer

    @property
    def text(self) -> str:
        """The label: a reviewer's correction where there is one, else what STT heard."""
        return self.label if self.label else self.transcript


@dataclass
class Selection:
    """The turns to export, and how many of the window's turns were left out and why."""

    turns: list[Turn]
    considered: int
    excluded: Counter[str]


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def withdrawals(settings: Settings, session: Session, users: Iterable[str]) -> dict[str, datetime]:
    """Each user's latest consent withdrawal: in the ledger, or kept and not yet applied.

    Turns recorded at or before it are being (or have been) erased and are never exported.
    """
    wanted = sorted(set(users))
    latest: dict[str, datetime] = {}
    for chunk in _chunks(wanted):
        rows = session.execute(
            select(ConsentEvent.user_id, ConsentEvent.at).where(
                ConsentEvent.user_id.in_(chunk), ConsentEvent.granted.is_(False)
            )
        )
        for user_id, at in rows:
            latest[user_id] = max(at, latest.get(user_id, at))
    outbox = ConsentOutbox(settings)
    chosen = set(wanted)
    for event_id in outbox.pending():
        change = outbox.get(event_id)
        if change is not None and not change.granted and change.user_id in chosen:
            latest[change.user_id] = max(change.at, latest.get(change.user_id, change.at))
    return latest


def _reviews(session: Session, turn_ids: list[str]) -> dict[str, list[ReviewItem]]:
    found: dict[str, list[ReviewItem]] = {}
    for chunk in _chunks(turn_ids):
        for item in session.scalars(select(ReviewItem).where(ReviewItem.turn_id.in_(chunk))):
            found.setdefault(item.turn_id, []).append(item)
    return found


def _turn(row: Capture, reviews: list[ReviewItem]) -> Turn:
    reviewed = row.label is not None or any(i.status in REVIEWED for i in reviews)
    return Turn(
        turn_id=row.turn_id,
        user_id=row.user_id,
        region=row.region,
        day=row.day,
        timestamp=row.timestamp,
        transcript=row.transcript,
        label=row.label,
        intent=row.intent,
        domain=row.domain,
        avg_logprob=float(row.avg_logprob or 0.0),
        tags=frozenset(str(tag) for item in reviews for tag in items(item.tags)),
        reviewed=reviewed,
        unsure=any(i.reason == "low_confidence" and i.status not in REVIEWED for i in reviews),
    )


def _refusal(
    turn: Turn, withdrawn: dict[str, datetime], oldest: datetime, rejected: bool
) -> str | None:
    """Why the turn may not leave the store, or None."""
    if turn.user_id in withdrawn and turn.timestamp <= withdrawn[turn.user_id]:
        return "consent_withdrawn"
    if turn.timestamp < oldest:
        return "past_retention"
    if rejected:
        return "rejected"
    return None


def select_turns(settings: Settings, options: ExportOptions, started: datetime) -> Selection:
    """The window's turns that consent, retention and review allow, oldest first."""
    start, end = options.window()
    oldest = started - timedelta(days=settings.retention_days)
    query = select(Capture).order_by(Capture.timestamp, Capture.turn_id)
    if start is not None:
        query = query.where(Capture.timestamp >= start)
    if end is not None:
        query = query.where(Capture.timestamp < end)
    excluded: Counter[str] = Counter()
    turns: list[Turn] = []
    with session_scope(settings) as session:
        rows = list(session.scalars(query))
        reviews = _reviews(session, [r.turn_id for r in rows])
        withdrawn = withdrawals(settings, session, (r.user_id for r in rows))
        for row in rows:
            found = reviews.get(row.turn_id, [])
            turn = _turn(row, found)
            rejected = any(i.status == "rejected" for i in found)
            reason = _refusal(turn, withdrawn, oldest, rejected)
            if reason is None and options.min_reviewed and not turn.reviewed:
                reason = "not_reviewed"
            if reason:
                excluded[reason] += 1
            else:
                turns.append(turn)
    return Selection(turns, len(rows), excluded)


def recheck(settings: Settings, turns: list[Turn], started: datetime) -> dict[str, str]:
    """Turns that may no longer be exported, with the reason: erased, withdrawn or rejected."""
    oldest = started - timedelta(days=settings.retention_days)
    ids = [t.turn_id for t in turns]
    present: set[str] = set()
    with session_scope(settings) as session:
        for chunk in _chunks(ids):
            present.update(
                session.scalars(select(Capture.turn_id).where(Capture.turn_id.in_(chunk)))
            )
        reviews = _reviews(session, ids)
        withdrawn = withdrawals(settings, session, (t.user_id for t in turns))
    dropped: dict[str, str] = {}
    for turn in turns:
        rejected = any(i.status == "rejected" for i in reviews.get(turn.turn_id, []))
        reason = "erased" if turn.turn_id not in present else None
        reason = reason or _refusal(turn, withdrawn, oldest, rejected)
        if reason:
            dropped[turn.turn_id] = reason
    return dropped
