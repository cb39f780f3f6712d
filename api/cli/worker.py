"""``voice-service worker`` and ``voice-service beat``: the Celery fleet with our queues.

They are shortcuts for ``celery -A workers worker -E -Q capture,redaction,persist,review`` and
``celery -A workers beat``; ``serve`` starts an embedded worker (with beat) the same way.
Task events (``-E``, for Flower and ``celery events``) are on unless the broker is the embedded
one, which nothing can watch from outside.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from core.errors import VoiceServiceError
from core.settings import Settings
from workers.config import ALL_QUEUES, QUEUES, TRAINING_QUEUE

POOLS = ("prefork", "threads", "solo")  # Celery's execution pools that this service runs on


def add_parser(subparsers: Any) -> None:
    """Register the commands."""
    worker = subparsers.add_parser("worker", help="run a capture worker (Celery)")
    worker.add_argument("--concurrency", type=int, default=1, help="tasks at once (default 1)")
    worker.add_argument(
        "--pool",
        choices=POOLS,
        default="prefork",
        help="prefork (default: processes), or threads: one process whose tasks overlap their "
        "waits on S3, the database and the broker (docs/PERFORMANCE.md: capture throughput)",
    )
    worker.add_argument(
        "-Q",
        "--queues",
        default=",".join(QUEUES),
        help="comma-separated queues (default: the capture queues; also datasets, training)",
    )
    worker.add_argument("--beat", action="store_true", help="also run the periodic tasks")
    worker.set_defaults(run=run, needs_database=True)
    beat = subparsers.add_parser("beat", help="run the periodic tasks' scheduler (Celery beat)")
    beat.set_defaults(run=run_beat, needs_database=True)


def worker_command(
    concurrency: int = 1,
    *,
    beat: bool = False,
    events: bool = False,
    queues: Sequence[str] = QUEUES,
    pool: str = "prefork",
) -> list[str]:
    """The Celery worker's command line (a training worker runs one job at a time)."""
    command = [sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", ",".join(queues)]
    if TRAINING_QUEUE in queues:
        concurrency = 1
    command += [f"--pool={pool}", f"--concurrency={max(1, concurrency)}", "--loglevel=INFO"]
    return command + (["-E"] if events else []) + (["--beat"] if beat else [])


def parse_queues(text: str) -> list[str]:
    """``capture,redaction`` as a list; an unknown queue is an error naming the known ones."""
    queues = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in queues if name not in ALL_QUEUES]
    if not queues or unknown:
        named = ", ".join(unknown) or "(none given)"
        raise VoiceServiceError(
            f"unknown queue {named}; choose from {', '.join(ALL_QUEUES)}", code="bad_argument"
        )
    return queues


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with the Celery worker."""
    events = not settings.resolved_broker_url().startswith("filesystem")
    queues = parse_queues(args.queues)
    command = worker_command(
        args.concurrency, beat=args.beat, events=events, queues=queues, pool=args.pool
    )
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and arguments
    return 0  # not reached


def run_beat(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with Celery beat (one per deployment)."""
    command = [sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel=INFO"]
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and arguments
    return 0  # not reached
