"""A real Celery worker as a subprocess, configured through VOICE_* variables."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.utils.processes import stop

QUEUES = "capture,redaction,persist,review"


@contextmanager
def celery_worker(
    env: dict[str, str], log_path: Path | None = None, queues: str = QUEUES
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``celery -A workers worker`` until the block ends (then stop it).

    Its output goes to ``log_path`` when given (kept for the test to read), else a temporary file.
    """
    with open(log_path, "w+b") if log_path else tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers",
                "worker",
                "-Q",
                queues,
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(0.5)
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the worker exited: {log.read().decode()[-3000:]}")
            yield process
        except BaseException:
            log.seek(0)
            print("---- worker log ----\n" + log.read().decode(errors="replace")[-6000:])
            raise
        finally:
            stop(process, timeout_s=20)
