"""The weekly batch: review items not yet batched, gathered for people to work through.

Items exist only for captures that still exist (an opt-out or the retention run deletes
them with the capture), and captures about to expire are left out, so no batch holds data a
user withdrew or that is past its retention.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from capture.models import Capture, ReviewBatch, ReviewItem
from capture.queries import add_audit
from core.db import session_scope
from core.settings import Settings

STATUSES = ("pending", "approved", "corrected", "redacted", "rejected")


def build_batch(settings: Settings, now: datetime | None = None) -> int | None:
    """Put every pending, unbatched item created before ``now`` into a new batch.

    Returns the batch id, or None when there was nothing to review.
    """
    now = now or datetime.now(UTC)
    expiring = now - timedelta(days=settings.retention_days)
    with session_scope(settings) as session:
        items = session.scalars(
            select(ReviewItem)
            .join(Capture, Capture.turn_id == ReviewItem.turn_id)
            .where(
                ReviewItem.batch_id.is_(None),
                ReviewItem.status == "pending",
                ReviewItem.created_at < now,
                Capture.timestamp >= expiring,
            )
            .order_by(ReviewItem.id)
        ).all()
        if not items:
            return None
        batch = ReviewBatch(
            created_at=now,
            period_start=min(item.created_at for item in items),
            period_end=now,
            rejected=0,
        )
        session.add(batch)
        session.flush()
        for item in items:
            item.batch_id = batch.id
        add_audit(session, "beat", "review.build_batch", f"batch:{batch.id}", {"items": len(items)})
        return batch.id


def describe(session: Any, batch: ReviewBatch) -> dict[str, Any]:
    """A batch with its progress counts."""
    counts = dict.fromkeys(STATUSES, 0)
    for (status,) in session.execute(
        select(ReviewItem.status).where(ReviewItem.batch_id == batch.id)
    ):
        counts[status] = counts.get(status, 0) + 1
    counts["rejected"] += batch.rejected
    total = sum(counts.values())
    return {
        "id": batch.id,
        "created_at": batch.created_at.isoformat(),
        "period_start": batch.period_start.isoformat(),
        "period_end": batch.period_end.isoformat(),
        "total": total,
        "done": total - counts["pending"],
        "counts": counts,
    }
