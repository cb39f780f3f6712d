"""Figures from what the service captured: latency, satisfaction, human MOS, reviewed WER.

Read from the capture database (its rows mirror each turn's ``metadata.json``: latency,
models, domain, feedback) over the last ``Settings.eval_weeks`` weeks, and from reviewers'
voice ratings. Only consenting users' turns are captured, so these figures describe them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from capture.models import Capture, ReviewItem
from core.db import session_scope
from core.settings import Settings
from learning.evaluation.latency import from_turns, slo
from learning.evaluation.mos import human_mos
from learning.evaluation.satisfaction import satisfaction
from learning.evaluation.stt import score
from review.ratings import all_ratings

MODEL_KINDS = ("stt", "nlu", "llm", "tts")


def captured_turns(settings: Settings, since: datetime) -> list[dict[str, Any]]:
    """Every captured turn since ``since``: the fields the figures use, and review outcome."""
    with session_scope(settings) as session:
        reviewed = dict(
            session.execute(
                select(ReviewItem.turn_id, ReviewItem.status).where(
                    ReviewItem.status.in_(("approved", "corrected"))
                )
            ).all()
        )
        return [
            {
                "id": c.turn_id,
                "timestamp": c.timestamp,
                "latency": dict(c.latency),
                "models": dict(c.models),
                "domain": c.domain,
                "feedback": c.feedback,
                "transcript": c.transcript,
                "label": c.label,
                "reviewed": c.turn_id in reviewed,
            }
            for c in session.scalars(
                select(Capture).where(Capture.timestamp >= since).order_by(Capture.timestamp)
            )
        ]


def model_versions(turns: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """For each model kind, the versions that produced the turns, with turn counts."""
    versions: dict[str, dict[str, int]] = {kind: {} for kind in MODEL_KINDS}
    for turn in turns:
        for kind in MODEL_KINDS:
            name = str(turn["models"].get(kind, "unknown"))
            versions[kind][name] = versions[kind].get(name, 0) + 1
    return versions


def reviewed_wer(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The live STT's WER on turns a reviewer approved (text right) or corrected (the label).

    Reviewed turns are the doubtful ones (low confidence, thumbs down, personal data), so this
    over-states the error rate of all traffic; it follows the same turns week to week.
    """
    pairs = [
        (t["id"], t["domain"], t["label"] or t["transcript"], t["transcript"])
        for t in turns
        if t["reviewed"]
    ]
    return score(pairs)


def production_figures(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Latency, satisfaction, human MOS and reviewed WER over the report's weeks."""
    now = now or datetime.now(UTC)
    since = now - timedelta(weeks=settings.eval_weeks)
    turns = captured_turns(settings, since)
    return {
        "period": {"from": since.isoformat(), "to": now.isoformat(), "turns": len(turns)},
        "models": model_versions(turns),
        "latency": from_turns(turns, slo(settings)),
        "satisfaction": satisfaction(turns),
        "human_mos": human_mos(all_ratings(settings, since)),
        "stt_reviewed": reviewed_wer(turns),
    }
