"""``voice-service worker`` and ``voice-service beat``: the Celery fleet with our queues.

They are shortcuts for ``celery -A workers worker -Q capture,redaction,persist,review`` and
``celery -A workers beat``; ``serve`` starts an embedded worker (with beat) the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from core.settings import Settings
from workers.config import QUEUES, TRAINING_QUEUE


def add_parser(subparsers: Any) -> None:
    """Register the commands."""
    worker = subparsers.add_parser("worker", help="run a capture worker (Celery)")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--beat", action="store_true", help="also run the periodic tasks")
    worker.add_argument(
        "-Q",
        "--queues",
        default=",".join(QUEUES),
        help=f"queues to take (default {','.join(QUEUES)}; fine-tuning: {TRAINING_QUEUE})",
    )
    worker.set_defaults(run=run)
    beat = subparsers.add_parser("beat", help="run the periodic tasks' scheduler (Celery beat)")
    beat.set_defaults(run=run_beat)


def worker_command(
    concurrency: int = 1, *, beat: bool = False, queues: str | None = None
) -> list[str]:
    """The Celery worker's command line (a training worker runs one job at a time)."""
    queues = queues or ",".join(QUEUES)
    command = [sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", queues]
    if TRAINING_QUEUE in queues.split(","):
        concurrency = 1
    command += [f"--concurrency={max(1, concurrency)}", "--loglevel=INFO"]
    return command + (["--beat"] if beat else [])


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with the Celery worker."""
    command = worker_command(args.concurrency, beat=args.beat, queues=args.queues)
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and arguments
    return 0  # not reached


def run_beat(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with Celery beat (one per deployment)."""
    command = [sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel=INFO"]
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and arguments
    return 0  # not reached
