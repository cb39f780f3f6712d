"""The ``datasets`` queue's task: a dataset export (``voice-service worker --queues datasets``).

Exports take minutes and CPU, so they have a queue of their own and the capture workers never
pick one up. The task takes the export's options (paths and flags, no data); a redelivered
task finds its own finished export by its task id and does nothing more.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from core.settings import get_settings
from workers.tasks import MAX_RETRIES, _run, app

log = logging.getLogger(__name__)


@app.task(bind=True, name="dataset.export", max_retries=MAX_RETRIES)
def export(self: Task, options: dict[str, Any]) -> None:
    """Export a dataset as ``voice-service dataset export`` would (without a progress bar)."""
    from learning.dataset.export import export_dataset
    from learning.dataset.options import ExportOptions

    def call() -> None:
        chosen = ExportOptions.model_validate({**options, "task_id": self.request.id})
        report = export_dataset(get_settings(), chosen)
        log.info("dataset export %s: %s", chosen.out, report["message"])

    _run(self, call, {"out": str(options.get("out"))})
