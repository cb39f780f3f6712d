"""Thin Celery tasks of the learning loop, on the ``training`` queue (one job at a time)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import Task

from core.db import session_scope
from core.settings import get_settings
from learning.errors import TrainingBusy
from workers.tasks import app

log = logging.getLogger(__name__)
BUSY_RETRY_S = 60


@app.task(bind=True, name="learning.finetune", max_retries=60)
def finetune(self: Task, job_id: str, out: str, base: str | None = None) -> str | None:
    """Run the queued job ``job_id``; waits (retries) while another job trains."""
    from learning.finetune.job import run_finetune
    from learning.finetune.train import TrainSettings
    from learning.registry.models import TrainingJob

    settings = get_settings()
    with session_scope(settings) as session:
        job = session.get(TrainingJob, job_id)
        if job is None or job.status in ("done", "failed"):
            log.warning("training job %s is unknown or finished: skipped", job_id)
            return None
        dataset, record = Path(job.dataset), dict(job.settings)
    record["targets"] = tuple(record.get("targets", ("q_proj", "v_proj")))
    try:
        result: dict[str, Any] = run_finetune(
            settings,
            dataset,
            Path(out),
            TrainSettings(**record),
            base=Path(base) if base else None,
            job_id=job_id,
            echo=log.info,
        )
    except TrainingBusy as exc:
        raise self.retry(exc=exc, countdown=BUSY_RETRY_S) from exc
    model_id: str | None = result["model_id"]
    return model_id


@app.task(name="learning.loop")
def loop() -> dict[str, Any] | None:
    """The weekly loop (export -> fine-tune -> evaluate -> A/B -> promote or retire), when on."""
    settings = get_settings()
    if settings.learning_loop != "on":
        log.info("learning loop is off (VOICE_LEARNING_LOOP)")
        return None
    from learning.loop import run_loop

    return run_loop(settings)
