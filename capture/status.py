"""Where one turn is in the capture pipeline: ``voice-service capture status TURN_ID``.

Each place is looked at on its own: the spool (and the results staged by the chain's first
steps), the object store, the metadata row, the review queue, dead letters. The broker is the
workers' business: the caller adds what ``workers.inspect.queued`` finds. An erasure leaves no
trace of a turn by design, so a turn found nowhere reads "erased or never captured"; one
rejected in review is known as such from the decisions kept about it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from capture.deadletters import letters
from capture.keys import FILES, check_id, turn_prefix
from capture.models import Capture, ReviewDecision, ReviewItem
from capture.spool import SUFFIX, Spool, SpoolError
from capture.store import StoreError, open_store
from capture.store_local import LocalStore
from core.db import session_scope
from core.settings import Settings


@dataclass
class TurnStatus:
    """What was found of a turn, place by place."""

    turn_id: str
    spool: dict[str, Any] | None = None  # age_s, staged results, region and day
    queued: dict[str, int] = field(default_factory=dict)  # queue -> messages naming the turn
    stored: dict[str, Any] | None = None  # region, prefix, objects found
    persisted: dict[str, Any] | None = None  # stored_at, day, region
    review: list[dict[str, Any]] = field(default_factory=list)  # reason, status
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    rejected: bool = False  # deleted by a reviewer's rejection

    @property
    def where(self) -> str:
        """The one word for where the turn is now."""
        if any(letter["state"] == "open" for letter in self.dead_letters):
            return "dead-lettered"
        if self.spool is not None:
            return "queued" if self.queued else "spool"
        if any(item["status"] == "pending" for item in self.review):
            return "in review"
        if self.persisted is not None:
            return "persisted"
        if self.stored is not None:
            return "stored"
        return "erased" if self.rejected else "erased or never captured"

    def as_json(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "turn_id": self.turn_id,
            "where": self.where,
            "spool": self.spool,
            "queued": self.queued,
            "stored": self.stored,
            "persisted": self.persisted,
            "review": self.review,
            "dead_letters": self.dead_letters,
            "rejected": self.rejected,
        }


def turn_status(settings: Settings, turn_id: str) -> TurnStatus:
    """Look everywhere but the broker."""
    status = TurnStatus(check_id(turn_id))
    spool = Spool(settings)
    region: str | None = None
    day: date | None = None
    if spool.exists(turn_id):
        staged = sorted(
            key.rsplit("/", 1)[-1] for key in LocalStore(settings, "staging").list(f"{turn_id}/")
        )
        entry: dict[str, Any] = {"staged": staged}
        try:
            path = spool.root / f"{turn_id}{SUFFIX}"
            entry["age_s"] = round(time.time() - path.stat().st_mtime, 1)
            record, _ = spool.get(turn_id)
            region, day = record.region, date.fromisoformat(record.timestamp[:10])
        except (OSError, SpoolError) as exc:
            entry["error"] = str(exc)
        status.spool = entry
    with session_scope(settings) as session:
        capture = session.get(Capture, turn_id)
        if capture is not None:
            region, day = capture.region, capture.day
            stored_at = capture.stored_at.isoformat() if capture.stored_at else None
            status.persisted = {"stored_at": stored_at, "day": capture.day.isoformat()}
        items = session.scalars(select(ReviewItem).where(ReviewItem.turn_id == turn_id))
        status.review = [
            {"reason": item.reason, "status": item.status, "batch": item.batch_id} for item in items
        ]
        decisions = session.scalars(
            select(ReviewDecision.decision).where(ReviewDecision.turn_id == turn_id)
        ).all()
        status.rejected = capture is None and "reject" in decisions
    status.dead_letters = [
        letter.as_json()
        for letter in letters(settings, everything=True)
        if letter.arguments.get("turn_id") == turn_id
    ]
    if region is not None and day is not None:
        prefix = turn_prefix(day, turn_id)
        try:
            keys = open_store(settings, region).list(prefix)
        except StoreError as exc:
            status.stored = {"region": region, "prefix": prefix, "error": str(exc)}
        else:
            found = sorted(key.rsplit("/", 1)[-1] for key in keys)
            if found:
                status.stored = {"region": region, "prefix": prefix, "objects": found}
                status.stored["complete"] = set(FILES) <= set(found)
    return status
