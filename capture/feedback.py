"""Feedback that arrives after a turn was handed to the capture chain.

It is recorded once per message (the event id is unique), the capture row takes the latest
value by time, ``metadata.json`` in the store is rewritten to match, and a thumbs-down puts
the turn in the review queue (a later thumbs-up takes it out while nobody has batched it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from capture.metadata import CaptureMetadata
from capture.models import Capture, FeedbackEvent, ReviewItem
from capture.objects import rewrite_metadata
from capture.queries import add_review_item, insert_ignoring_duplicates
from capture.spool import Spool
from capture.store import StoreError, open_store
from core.db import session_scope
from core.settings import Settings

VALUES = ("thumbs_up", "thumbs_down")


class NotStoredYet(StoreError):
    """The turn's chain is still running: try again later (retryable)."""


def apply_feedback(
    settings: Settings, turn_id: str, value: str | None, event_id: str, at: datetime
) -> None:
    """Record ``value`` (or its removal, None) for a captured turn."""
    if value is not None and value not in VALUES:
        raise ValueError(f"unknown feedback {value!r}")
    with session_scope(settings) as session:
        capture = session.get(Capture, turn_id)
        if capture is None:
            if Spool(settings).exists(turn_id):
                raise NotStoredYet(turn_id)
            return  # never captured, or erased: nothing to update
        insert_ignoring_duplicates(
            session,
            FeedbackEvent,
            {"event_id": event_id, "turn_id": turn_id, "value": value or "none", "at": at},
            keys=["event_id"],
        )
        latest = session.scalars(
            select(FeedbackEvent.value)
            .where(FeedbackEvent.turn_id == turn_id)
            .order_by(FeedbackEvent.at.desc(), FeedbackEvent.id.desc())
        ).first()
        capture.feedback = None if latest in (None, "none") else latest
        if capture.feedback == "thumbs_down":
            add_review_item(session, turn_id, "thumbs_down", [])
        else:
            session.execute(
                delete(ReviewItem).where(
                    ReviewItem.turn_id == turn_id,
                    ReviewItem.reason == "thumbs_down",
                    ReviewItem.batch_id.is_(None),
                )
            )
        feedback, day, region = capture.feedback, capture.day, capture.region

    def change(metadata: CaptureMetadata) -> None:
        metadata.feedback = feedback

    rewrite_metadata(open_store(settings, region), day, turn_id, change)  # gone since: nothing
