"""``voice-service serve``: the HTTP and WebSocket service under uvicorn.

On the embedded defaults (no broker configured) it also prepares the SQLite database and
runs a capture worker with the periodic tasks as a child process, so consenting users'
turns are stored with nothing else installed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
from typing import Any

from api.cli.worker import worker_command
from core.folders import data_folder
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

    data_folder(settings)  # made 0700 on first start; one line saying why if it cannot be
    if settings.database_url is None:  # the embedded SQLite file: ours to keep up to date
        upgrade(settings.resolved_database_url())
    worker = None
    if wants_embedded_worker(settings):
        worker = subprocess.Popen(  # noqa: S603 - our own command
            # its own process group: serve stops it (and its pool and beat) as a whole
            worker_command(
                beat=True, events=not settings.resolved_broker_url().startswith("filesystem")
            ),
            preexec_fn=_die_with_parent,
            start_new_session=True,
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
    """In the child: Linux sends it SIGQUIT (Celery's cold shutdown) if ``serve`` dies first."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)


# Celery's cold shutdown, then SIGKILL. A turn cut short stays in the spool and the sweep sends
# it again (every step is idempotent), so nothing waits for a warm shutdown (beat's is slow).
STOP_SIGNALS = ((signal.SIGQUIT, 3.0), (signal.SIGKILL, 3.0))


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker's process group within seconds, whatever it is doing."""
    for number, grace_s in STOP_SIGNALS:
        try:
            os.killpg(worker.pid, number)
        except ProcessLookupError:  # the whole group is gone
            break
        try:
            worker.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            log.info("the embedded worker outlived %s by %.0f s", number.name, grace_s)
            continue
        with contextlib.suppress(ProcessLookupError):  # its pool or beat left behind
            os.killpg(worker.pid, signal.SIGKILL)
        break
