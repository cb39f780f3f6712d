"""Reviewers' 1-5 ratings of the answers' voices (human MOS), kept like their decisions.

On a review item's page a reviewer hears the item's answer spoken by a voice of the running
TTS and rates it. Ratings are versioned per item, reviewer and voice (the latest supersedes,
every version is kept), repeating the latest adds nothing, each is audited, and each names
the TTS version that spoke it. They go with their capture when it is erased (foreign key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from capture.models import Capture, ReviewItem, VoiceRating
from capture.queries import add_audit
from core.db import session_scope
from core.settings import Settings, VoiceName


class Rating(BaseModel):
    """The body of ``POST /v1/admin/review/items/{id}/voice-rating``."""

    model_config = ConfigDict(extra="forbid")

    voice: VoiceName
    score: int = Field(ge=1, le=5)


class NoSuchItem(LookupError):
    """No review item with that id."""


def answer_text(settings: Settings, item_id: int) -> str:
    """The (redacted) answer of an item's turn, to be spoken for rating."""
    with session_scope(settings) as session:
        item = session.get(ReviewItem, item_id)
        capture = session.get(Capture, item.turn_id) if item else None
        if item is None or capture is None:
            raise NoSuchItem(item_id)
        return capture.response


def rate(
    settings: Settings, item_id: int, rating: Rating, reviewer: str, tts: str
) -> list[dict[str, Any]]:
    """Record a rating (unless it repeats the latest); returns the item's current ratings."""
    with session_scope(settings) as session:
        item = session.get(ReviewItem, item_id)
        if item is None:
            raise NoSuchItem(item_id)
        latest = session.scalars(
            select(VoiceRating)
            .where(
                VoiceRating.item_id == item_id,
                VoiceRating.reviewer == reviewer,
                VoiceRating.voice == rating.voice,
            )
            .order_by(VoiceRating.version.desc())
        ).first()
        if latest is None or (latest.score, latest.tts) != (rating.score, tts):
            version = (latest.version if latest else 0) + 1
            session.add(
                VoiceRating(
                    item_id=item_id,
                    turn_id=item.turn_id,
                    voice=rating.voice,
                    tts=tts[:200],
                    score=rating.score,
                    version=version,
                    reviewer=reviewer,
                    at=datetime.now(UTC),
                )
            )
            add_audit(
                session,
                reviewer,
                "review.voice_rating",
                f"item:{item_id}",
                {"voice": rating.voice, "score": rating.score, "version": version},
            )
            session.flush()
        return _current(session, item_id)


def item_ratings(settings: Settings, item_id: int) -> list[dict[str, Any]]:
    """The latest rating of each reviewer and voice on an item."""
    with session_scope(settings) as session:
        if session.get(ReviewItem, item_id) is None:
            raise NoSuchItem(item_id)
        return _current(session, item_id)


def _current(session: Any, item_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(VoiceRating).where(VoiceRating.item_id == item_id).order_by(VoiceRating.version)
    )
    latest = {(r.reviewer, r.voice): r for r in rows}
    return [
        {
            "voice": r.voice,
            "score": r.score,
            "reviewer": r.reviewer,
            "tts": r.tts,
            "version": r.version,
            "at": r.at.isoformat(),
        }
        for r in sorted(latest.values(), key=lambda r: (r.voice, r.reviewer))
    ]


def all_ratings(settings: Settings, since: datetime | None = None) -> list[dict[str, Any]]:
    """The latest rating of each item, reviewer and voice: what the human MOS is made of."""
    with session_scope(settings) as session:
        query = select(VoiceRating).order_by(VoiceRating.version)
        latest = {(r.item_id, r.reviewer, r.voice): r for r in session.scalars(query)}
    return [
        {"voice": r.voice, "score": r.score, "rater": r.reviewer, "tts": r.tts, "at": r.at}
        for r in latest.values()
        if since is None or r.at >= since
    ]
