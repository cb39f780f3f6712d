"""The Celery configuration, from settings, for at-least-once, idempotent work.

Late acks and reject-on-worker-lost redeliver a task whose worker died; prefetch 1 keeps a
crash from taking queued tasks with it; Redis' visibility timeout is longer than any retry
countdown, so a countdown never causes a second delivery.
"""

from __future__ import annotations

from celery import Celery, chain
from kombu import Queue

from core.settings import Settings

QUEUES = ("capture", "redaction", "persist", "review")
CHAIN = (  # the capture chain, in order: task name and queue
    ("capture.encode", "capture"),
    ("capture.redact", "redaction"),
    ("capture.upload", "capture"),
    ("capture.persist", "persist"),
    ("capture.flag_review", "review"),
    ("capture.finish", "capture"),
)
MAX_COUNTDOWN_S = 300
VISIBILITY_TIMEOUT_S = 3600  # > MAX_COUNTDOWN_S: see the module docstring


def make_app(settings: Settings) -> Celery:
    """A Celery app for ``settings``."""
    app = Celery("voice-service", broker=settings.resolved_broker_url(), include=["workers.tasks"])
    transport: dict[str, object] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    if settings.resolved_broker_url().startswith("filesystem"):
        folder = settings.data_dir / "broker"
        folder.mkdir(parents=True, exist_ok=True)
        transport.update(data_folder_in=str(folder), data_folder_out=str(folder))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="capture",
        task_routes={name: {"queue": queue} for name, queue in CHAIN},
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


def enqueue_capture(celery: Celery, turn_id: str) -> None:
    """Start the chain for a spooled turn on ``celery``'s broker (ids only travel)."""
    signatures = [celery.signature(name, args=(turn_id,), immutable=True) for name, _ in CHAIN]
    chain(*signatures).apply_async()
