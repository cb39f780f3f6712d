"""Thin Celery tasks: ids in, one function of ``capture`` each, retries, dead letters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery import Task
from celery.exceptions import Ignore
from sqlalchemy.exc import OperationalError

from capture import deadletters, erasure, pipeline
from capture.consent import ConsentOutbox
from capture.feedback import apply_feedback
from capture.spool import Spool
from capture.store import ObjectNotFound, StoreError
from core.settings import Settings, get_settings
from learning.evaluation.weekly import weekly_report
from review.batches import build_batch
from workers.config import MAX_COUNTDOWN_S, enqueue_capture, enqueue_consent, make_app

log = logging.getLogger(__name__)
app = make_app(get_settings())
RETRYABLE = (StoreError, OperationalError, ConnectionError, TimeoutError)
MAX_RETRIES = 8
Step = Callable[[Settings, str], None]


def _dead_letter(task: Task, arguments: dict[str, Any], error: BaseException) -> None:
    """Record a task that will not succeed; a chain stops here."""
    log.error("%s gave up on %s: %s", task.name, arguments, type(error).__name__)
    try:
        task_id = task.request.id or str(arguments)
        deadletters.record(
            get_settings(), task.name, task_id, arguments, f"{type(error).__name__}: {error}"
        )
    except Exception:  # the database is down too: the spool keeps the turn for the sweep
        log.exception("could not record the dead letter")


def _run(task: Task, call: Callable[[], object], arguments: dict[str, Any]) -> None:
    try:
        call()
    except pipeline.AlreadyDone as exc:  # a redelivered chain of a finished or erased turn
        raise Ignore() from exc
    except ObjectNotFound as exc:  # staged results vanished: redo from the spool next sweep
        _dead_letter(task, arguments, exc)
        raise Ignore() from exc
    except RETRYABLE as exc:
        if task.request.retries >= MAX_RETRIES:
            _dead_letter(task, arguments, exc)
            raise Ignore() from exc
        countdown = min(2**task.request.retries, MAX_COUNTDOWN_S)
        raise task.retry(exc=exc, countdown=countdown) from exc
    except Exception as exc:  # redaction or data errors: fail closed, never store unredacted
        _dead_letter(task, arguments, exc)
        raise Ignore() from exc


def _chain_task(name: str, step: Step) -> Any:
    def run(self: Task, turn_id: str) -> None:
        _run(self, lambda: step(get_settings(), turn_id), {"turn_id": turn_id})

    run.__doc__ = step.__doc__
    return app.task(bind=True, name=name, max_retries=MAX_RETRIES)(run)


# Queues come from workers.config.CHAIN and OTHER_ROUTES (task_routes).
encode = _chain_task("capture.encode", pipeline.encode_audio)
redact = _chain_task("capture.redact", pipeline.redact)
upload = _chain_task("capture.upload", pipeline.upload)
persist = _chain_task("capture.persist", pipeline.persist)
flag_review = _chain_task("capture.flag_review", pipeline.flag_review)
finish = _chain_task("capture.finish", pipeline.finish)
consent = _chain_task("capture.consent", erasure.apply_change)


@app.task(bind=True, name="capture.feedback", max_retries=MAX_RETRIES)
def feedback(self: Task, turn_id: str, value: str | None, event_id: str, at: str) -> None:
    """Feedback on a turn handed to the chain (waits for the chain to store it)."""
    _run(
        self,
        lambda: apply_feedback(
            get_settings(), turn_id, value, event_id, datetime.fromisoformat(at)
        ),
        {"turn_id": turn_id, "value": value, "event_id": event_id, "at": at},
    )


@app.task(bind=True, name="capture.expire", max_retries=MAX_RETRIES)
def expire(self: Task, now: str | None = None) -> None:
    """The daily retention run (``now``, ISO 8601, moves the clock for tests and backfills)."""
    when = datetime.fromisoformat(now) if now else None
    _run(self, lambda: log.info("expired %s", erasure.expire(get_settings(), when)), {"now": now})


@app.task(name="capture.sweep")
def sweep(older_than_s: float | None = None) -> dict[str, int]:
    """Re-enqueue spooled turns whose chain never finished, and consent changes not applied."""
    settings = get_settings()
    age = float(settings.sweep_after_s if older_than_s is None else older_than_s)
    turns = Spool(settings).pending(older_than_s=age)
    for turn_id in turns:
        enqueue_capture(app, turn_id)
    changes = ConsentOutbox(settings).pending(older_than_s=min(age, 60.0))
    for event_id in changes:
        enqueue_consent(app, event_id)
    if turns or changes:
        log.warning("sweep re-enqueued %d turns and %d consent changes", len(turns), len(changes))
    return {"turns": len(turns), "consent": len(changes)}


@app.task(bind=True, name="review.build_batch", max_retries=MAX_RETRIES)
def build_review_batch(self: Task, now: str | None = None) -> None:
    """The weekly review batch (``now``, ISO 8601, moves the clock for tests)."""
    when = datetime.fromisoformat(now) if now else None
    _run(self, lambda: build_batch(get_settings(), when), {"now": now})


@app.task(bind=True, name="evaluation.weekly_report", max_retries=MAX_RETRIES)
def evaluation_report(self: Task, now: str | None = None) -> None:
    """The weekly evaluation report, to the object store (``now``, ISO 8601, for tests)."""
    when = datetime.fromisoformat(now) if now else None
    _run(self, lambda: log.info("report %s", weekly_report(get_settings(), when)), {"now": now})
