"""``GET /v1/admin/stats``: where review stands and what goes wrong most."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from capture.models import Capture, ReviewBatch, ReviewDecision, ReviewItem
from core.db import session_scope
from core.settings import Settings
from review.batches import STATUSES


def stats(settings: Settings, top: int = 5) -> dict[str, Any]:
    """Items by status, the thumbs-up rate of rated turns, the most frequent error tags."""
    with session_scope(settings) as session:
        by_status = dict.fromkeys(STATUSES, 0)
        for status, count in session.execute(
            select(ReviewItem.status, func.count()).group_by(ReviewItem.status)
        ):
            by_status[status] = count
        by_status["rejected"] += (
            session.scalar(select(func.coalesce(func.sum(ReviewBatch.rejected), 0))) or 0
        )
        ratings = dict(
            session.execute(
                select(Capture.feedback, func.count())
                .where(Capture.feedback.is_not(None))
                .group_by(Capture.feedback)
            ).all()
        )
        latest: dict[int, ReviewDecision] = {}
        for decision in session.scalars(select(ReviewDecision).order_by(ReviewDecision.version)):
            latest[decision.item_id] = decision
    rated = ratings.get("thumbs_up", 0) + ratings.get("thumbs_down", 0)
    tags = Counter(tag for d in latest.values() for tag in d.tags)
    return {
        "items_by_status": by_status,
        "thumbs_up_rate": round(ratings.get("thumbs_up", 0) / rated, 3) if rated else None,
        "top_error_tags": [{"tag": tag, "count": n} for tag, n in tags.most_common(top)],
    }
