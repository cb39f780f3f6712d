"""``voice-service worker``: the capture worker (``celery -A workers worker`` with our queues)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from core.settings import Settings
from workers.config import QUEUES


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("worker", help="run a capture worker (Celery)")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with the Celery worker."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "worker",
        "-Q",
        ",".join(QUEUES),
        f"--concurrency={max(1, args.concurrency)}",
        "--loglevel=INFO",
    ]
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and arguments
    return 0  # not reached
