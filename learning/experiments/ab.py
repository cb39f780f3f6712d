"""A/B experiments: sticky assignment of users to the champion (control) or a challenger.

A user's bucket is SHA-256 of (experiment id, hashed user id) modulo the bucket count; the
first ``share`` of buckets get the challenger. The same user always lands in the same
variant of one experiment, and a new experiment reshuffles. A session without a user id
is hashed by its session id, so it is assigned per session.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from capture.queries import add_audit
from core.db import session_scope
from core.settings import Settings
from learning.errors import LearningError
from learning.registry import versions
from learning.registry.models import Experiment

BUCKETS = 10_000


def bucket(experiment_id: str, user_hash: str, buckets: int = BUCKETS) -> int:
    """The user's bucket in this experiment (0 .. buckets - 1)."""
    digest = hashlib.sha256(f"{experiment_id}\0{user_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


@dataclass(frozen=True)
class Arm:
    """What a session was assigned: the model it uses and why."""

    model_id: str | None  # None: the process' default model (not in the registry)
    experiment_id: str | None = None
    variant: str | None = None  # control, challenger

    def record(self) -> dict[str, str]:
        """The turn metadata's fields (added to ``models``)."""
        fields = {"stt_version": self.model_id or "default"}
        if self.experiment_id:
            fields.update(experiment=self.experiment_id, variant=self.variant or "control")
        return fields


@dataclass(frozen=True)
class Running:
    """A running experiment as the API keeps it in memory."""

    id: str
    control_id: str
    challenger_id: str
    share: float
    buckets: int = BUCKETS

    def assign(self, user_hash: str) -> Arm:
        """Sticky: the same user hash always gets the same arm."""
        challenger = bucket(self.id, user_hash, self.buckets) < round(self.share * self.buckets)
        if challenger:
            return Arm(self.challenger_id, self.id, "challenger")
        return Arm(self.control_id, self.id, "control")


def start(
    settings: Settings, challenger_id: str, share: float, actor: str, kind: str = "stt"
) -> Experiment:
    """Run ``challenger_id`` against the champion for ``share`` of users (one at a time)."""
    if not 0 < share < 1:
        raise LearningError(f"share must be between 0 and 1 (got {share})")
    challenger = versions.get(settings, challenger_id)
    champion = versions.champion(settings, kind)
    if champion is None:
        raise LearningError(
            f"no {kind} champion to compare {challenger_id} with", code="no_champion"
        )
    if challenger.id == champion.id or challenger.status not in ("candidate", "challenger"):
        raise LearningError(
            f"model {challenger_id} is {challenger.status}: only a candidate can be challenger"
        )
    now = datetime.now(UTC)
    with session_scope(settings) as session:
        query = select(Experiment).where(Experiment.kind == kind, Experiment.status == "running")
        if session.scalars(query).first() is not None:
            raise LearningError(
                "an experiment is already running: stop it first", code="experiment_running"
            )
        experiment = Experiment(
            id=f"exp-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}",
            kind=kind,
            control_id=champion.id,
            challenger_id=challenger.id,
            share=share,
            status="running",
            buckets=BUCKETS,
            created_at=now,
        )
        session.add(experiment)
        add_audit(
            session,
            actor,
            "experiment_start",
            experiment.id,
            {"challenger": challenger.id, "control": champion.id, "share": share},
        )
    versions.set_status(settings, challenger.id, "challenger", actor, {"experiment": experiment.id})
    return experiment


def stop(settings: Settings, experiment_id: str, actor: str) -> Experiment:
    """Stop an experiment (its challenger stays as it is: promote or retire it next)."""
    with session_scope(settings) as session:
        experiment = session.get(Experiment, experiment_id)
        if experiment is None:
            raise LearningError(f"no experiment {experiment_id!r}", code="experiment_not_found")
        experiment.status, experiment.stopped_at = "stopped", datetime.now(UTC)
        add_audit(session, actor, "experiment_stop", experiment_id, {})
    return experiment


def running(settings: Settings, kind: str = "stt") -> Running | None:
    """The running experiment, for the API to assign sessions with."""
    with session_scope(settings) as session:
        query = select(Experiment).where(Experiment.kind == kind, Experiment.status == "running")
        found = session.scalars(query).first()
        if found is None:
            return None
        return Running(found.id, found.control_id, found.challenger_id, found.share, found.buckets)
