"""``voice-service serve``: the HTTP and WebSocket service under uvicorn.

On the embedded defaults (no broker configured) it also prepares the SQLite database and
runs a capture worker with the periodic tasks as a child process, so consenting users'
turns are stored with nothing else installed.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import signal
import subprocess
import sys
from typing import Any

from api.cli.worker import worker_command
from core.settings import Settings

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # prctl(2)


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("serve", help="start the service (default 127.0.0.1:8003)")
    parser.add_argument("--host", default=None, help="bind address (default from settings)")
    parser.add_argument("--port", type=int, default=None, help="port (default from settings)")
    parser.set_defaults(run=run)


def wants_embedded_worker(settings: Settings) -> bool:
    """``VOICE_EMBEDDED_WORKER``, by default on exactly when the broker is the embedded one."""
    if settings.embedded_worker is not None:
        return settings.embedded_worker
    return settings.resolved_broker_url().startswith("filesystem")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted; models load in the background (watch ``/readyz``)."""
    import uvicorn

    from api.app import create_app
    from migrations import upgrade

    if settings.database_url is None:  # the embedded SQLite file: ours to keep up to date
        upgrade(settings.resolved_database_url())
    worker = None
    if wants_embedded_worker(settings):
        worker = subprocess.Popen(  # noqa: S603 - our own command
            worker_command(beat=True), preexec_fn=_die_with_parent
        )
    try:
        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_level="info",
            # X-Forwarded-For is believed only from VOICE_FORWARDED_ALLOW_IPS, by the app
            # (api/routes/limits.py); uvicorn's default would believe any loopback peer.
            proxy_headers=False,
        )
    finally:
        if worker is not None:
            _stop(worker)
    return 0


def _die_with_parent() -> None:
    """In the child: Linux sends it SIGTERM if ``serve`` dies without stopping it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Warm shutdown: the running task finishes (or is redelivered: acks are late)."""
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        log.warning("the embedded worker did not stop in 30 s; killing it")
        worker.kill()
        worker.wait()
