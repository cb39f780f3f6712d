"""The Celery configuration, from settings, for at-least-once, idempotent work.

Late acks and reject-on-worker-lost redeliver a task whose worker died; prefetch 1 keeps a
crash from taking queued tasks with it; Redis' visibility timeout is longer than any retry
countdown, so a countdown never causes a second delivery.
"""

from __future__ import annotations

from datetime import datetime

from celery import Celery, chain
from celery.schedules import crontab
from kombu import Exchange, Queue

from core.folders import data_folder
from core.settings import Settings

QUEUES = ("capture", "redaction", "persist", "review")
DATASETS = "datasets"  # long exports, on workers of their own: ``worker --queues datasets``
TRAINING_QUEUE = "training"  # GPU workers take it: `voice-service worker -Q training`
ALL_QUEUES = (*QUEUES, DATASETS, TRAINING_QUEUE)  # what ``worker --queues`` may name
# The capture chain per VOICE_CAPTURE_CHAIN: its steps (``capture.pipeline.STEPS``) in order,
# and the queue of each; task names are ``capture.{step}``. ``fused`` runs a turn in one task;
# ``split`` puts redaction, uploads and database writes on queues that scale apart.
CHAINS = {
    "fused": (("process", "capture"),),
    "split": (
        ("redact", "redaction"),
        ("upload", "capture"),
        ("persist", "persist"),
        ("flag_review", "review"),
        ("finish", "capture"),
    ),
}
LEGACY_STEPS = (("encode", "capture"),)  # still in chains an earlier version enqueued
OTHER_ROUTES = (  # tasks outside the chain
    ("capture.consent", "persist"),
    ("capture.feedback", "persist"),
    ("capture.sweep", "capture"),
    ("capture.expire", "persist"),
    ("review.build_batch", "review"),
    ("dataset.export", DATASETS),
    ("evaluation.weekly_report", "review"),
    ("learning.finetune", TRAINING_QUEUE),
    ("learning.loop", TRAINING_QUEUE),
)
MAX_COUNTDOWN_S = 300
VISIBILITY_TIMEOUT_S = 3600  # > MAX_COUNTDOWN_S: see the module docstring


def weekly(settings: Settings) -> crontab:
    """``VOICE_REVIEW_BATCH_CRON`` (minute hour day-of-month month day-of-week, UTC)."""
    return cron(settings.review_batch_cron)


def cron(expression: str) -> crontab:
    """A five-field cron expression (minute hour day-of-month month day-of-week, UTC)."""
    minute, hour, day_of_month, month, day_of_week = expression.split()
    return crontab(minute, hour, day_of_week, day_of_month, month)


def make_app(settings: Settings) -> Celery:
    """A Celery app for ``settings``."""
    app = Celery(
        "voice-service",
        broker=settings.resolved_broker_url(),
        include=["workers.tasks", "workers.datasets", "workers.learning_tasks"],
    )
    transport: dict[str, object] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    if settings.resolved_broker_url().startswith("filesystem"):
        folder = data_folder(settings, "broker")
        data_folder(settings, "broker", "control")
        transport.update(
            data_folder_in=str(folder),
            data_folder_out=str(folder),
            control_folder=str(folder / "control"),
        )
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # One direct exchange per queue: with Celery's default (every queue bound to the
        # default exchange under one key) a message would reach all four queues.
        task_queues=[
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in ALL_QUEUES
        ],
        task_default_queue="capture",
        task_routes={name: {"queue": queue} for name, queue in (*chain_routes(), *OTHER_ROUTES)},
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        # A publish while the broker is down fails within about a second, on the capture
        # sink's thread; the spool and the consent outbox keep the work for the sweep.
        broker_connection_timeout=1.0,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.4,
        },
        worker_hijack_root_logger=False,
        beat_schedule={
            "capture-sweep": {
                "task": "capture.sweep",
                "schedule": float(settings.sweep_interval_s),
            },
            "capture-expire": {
                "task": "capture.expire",
                "schedule": crontab(hour=settings.retention_hour_utc, minute=0),
            },
            "review-batch": {"task": "review.build_batch", "schedule": weekly(settings)},
            "evaluation-report": {
                "task": "evaluation.weekly_report",
                "schedule": cron(settings.eval_report_cron),
            },
            # runs every week; does nothing unless VOICE_LEARNING_LOOP=on
            "learning-loop": {
                "task": "learning.loop",
                "schedule": cron(settings.learning_loop_cron),
            },
        },
        timezone="UTC",
        # beat wakes at least every minute and writes its schedule file every 3 minutes:
        # the file's age is beat's health check (docker-compose.yml, deploy/k8s)
        beat_max_loop_interval=60,
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        capture_chain=settings.capture_chain,  # read by enqueue_capture
    )
    return app


def task_name(step: str) -> str:
    """The Celery task of a capture chain step."""
    return f"capture.{step}"


def chain_routes() -> list[tuple[str, str]]:
    """(task name, queue) of every capture chain step, whichever chain is configured."""
    steps = {step: queue for chain in CHAINS.values() for step, queue in chain}
    return [(task_name(step), queue) for step, queue in {**steps, **dict(LEGACY_STEPS)}.items()]


def enqueue_capture(celery: Celery, turn_id: str, start: str | None = None) -> None:
    """Start the chain for a spooled turn on ``celery``'s broker (ids only travel).

    ``start`` names a task of the configured chain to begin at (a replay resumes where
    results are already staged); otherwise, or when it is not in that chain, from the start.
    """
    names = [task_name(step) for step, _ in CHAINS[celery.conf.get("capture_chain") or "fused"]]
    if start in names:
        names = names[names.index(start) :]
    signatures = [celery.signature(name, args=(turn_id,), immutable=True) for name in names]
    (signatures[0] if len(signatures) == 1 else chain(*signatures)).apply_async()


def enqueue_consent(celery: Celery, event_id: str) -> None:
    """Apply a kept consent change (ledger, and erasure for a revocation)."""
    celery.send_task("capture.consent", args=(event_id,))


def enqueue_feedback(
    celery: Celery, turn_id: str, value: str | None, event_id: str, at: datetime
) -> None:
    """Record feedback on a turn already handed to the capture chain."""
    celery.send_task("capture.feedback", args=(turn_id, value, event_id, at.isoformat()))


def enqueue_dataset_export(celery: Celery, options: dict[str, object]) -> str:
    """A dataset export on the ``datasets`` queue (``options``: ExportOptions as JSON); its id."""
    return str(celery.send_task("dataset.export", args=(options,)).id)


def enqueue_training(celery: Celery, job_id: str, out: str, base: str | None) -> None:
    """Run a queued fine-tune job on the ``training`` queue."""
    celery.send_task("learning.finetune", args=(job_id, out, base))
