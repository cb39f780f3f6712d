"""Tables of the learning loop: model versions, training jobs, experiments, gate decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capture.models import Base

STATUSES = ("candidate", "challenger", "champion", "retired", "failed")


class ModelVersion(Base):
    """One model (base or fine-tuned): where it came from, how it did, where its folder is."""

    __tablename__ = "model_versions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # stt
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    dataset_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    dataset_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    training: Mapped[dict[str, Any]]  # settings, steps, dev WER history
    evaluation: Mapped[dict[str, Any]]  # the latest `models evaluate` figures ({} if none)
    status: Mapped[str] = mapped_column(String(16), index=True)
    artefact_prefix: Mapped[str] = mapped_column(String(256))
    artefact_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TrainingJob(Base):
    """A fine-tune run: its settings, live progress, and the model it registered."""

    __tablename__ = "training_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued running done failed
    dataset: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]]
    progress: Mapped[dict[str, Any]]  # {"last": {...}, "history": [...]}
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Experiment(Base):
    """An A/B test: the champion against a challenger, for a share of users."""

    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # stt
    control_id: Mapped[str] = mapped_column(String(64))
    challenger_id: Mapped[str] = mapped_column(String(64))
    share: Mapped[float] = mapped_column(Float)  # of users on the challenger, 0..1
    status: Mapped[str] = mapped_column(String(16), index=True)  # running, stopped
    buckets: Mapped[int] = mapped_column(Integer, default=10_000)
    created_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None] = mapped_column(nullable=True)
