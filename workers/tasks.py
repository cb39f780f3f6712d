"""Thin Celery tasks: an id in, one step of ``capture.pipeline``, retries, dead letters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery import Task
from celery.exceptions import Ignore
from sqlalchemy.exc import OperationalError

from capture import pipeline
from capture.models import DeadLetter
from capture.store import ObjectNotFound, StoreError
from core.db import session_scope
from core.settings import Settings, get_settings
from workers.config import MAX_COUNTDOWN_S, make_app

log = logging.getLogger(__name__)
app = make_app(get_settings())
RETRYABLE = (StoreError, OperationalError, ConnectionError, TimeoutError)
MAX_RETRIES = 8
Step = Callable[[Settings, str], None]


def _dead_letter(task: Task, turn_id: str, error: BaseException) -> None:
    """Record a task that will not succeed; the chain stops here."""
    log.error("%s gave up on %s: %s", task.name, turn_id, type(error).__name__)
    try:
        with session_scope(get_settings()) as session:
            exists = session.query(DeadLetter).filter_by(task_id=task.request.id).first()
            if exists is None:
                session.add(
                    DeadLetter(
                        task=task.name,
                        task_id=task.request.id or turn_id,
                        arguments={"turn_id": turn_id},
                        error=f"{type(error).__name__}: {error}"[:2000],
                        at=datetime.now(UTC),
                    )
                )
    except Exception:  # the database is down too: the spool keeps the turn for the sweep
        log.exception("could not record the dead letter")


def _run(task: Task, step: Step, turn_id: str) -> None:
    try:
        step(get_settings(), turn_id)
    except pipeline.AlreadyDone as exc:  # a redelivered chain of a finished or erased turn
        raise Ignore() from exc
    except RETRYABLE as exc:
        if task.request.retries >= MAX_RETRIES:
            _dead_letter(task, turn_id, exc)
            raise Ignore() from exc
        countdown = min(2**task.request.retries, MAX_COUNTDOWN_S)
        raise task.retry(exc=exc, countdown=countdown) from exc
    except ObjectNotFound as exc:  # staged results vanished: redo from the spool next sweep
        _dead_letter(task, turn_id, exc)
        raise Ignore() from exc
    except Exception as exc:  # redaction or data errors: fail closed, never store unredacted
        _dead_letter(task, turn_id, exc)
        raise Ignore() from exc


def _task(name: str, step: Step) -> Any:
    def run(self: Task, turn_id: str) -> None:
        _run(self, step, turn_id)

    run.__doc__ = step.__doc__
    return app.task(bind=True, name=name, max_retries=MAX_RETRIES)(run)


# Queues come from workers.config.CHAIN (task_routes).
encode = _task("capture.encode", pipeline.encode_audio)
redact = _task("capture.redact", pipeline.redact)
upload = _task("capture.upload", pipeline.upload)
persist = _task("capture.persist", pipeline.persist)
flag_review = _task("capture.flag_review", pipeline.flag_review)
finish = _task("capture.finish", pipeline.finish)
