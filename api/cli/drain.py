"""``voice-service drain``: take this host's service out of rotation and wait for its turns.

Meant for a Kubernetes preStop hook (deploy/k8s/api.yaml): it asks the local server to stop
taking sessions (``POST /drainz``; ``/readyz`` then fails, so no new client is sent here),
then waits until no session is in the middle of a turn, or ``--timeout`` seconds. The pod is
then stopped; idle sessions are closed with 1001 (going away) and their clients reconnect to
another replica.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx

from core.errors import VoiceServiceError
from core.settings import Settings

POLL_S = 0.5


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("drain", help="stop taking sessions; wait for running turns")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait at most")
    parser.add_argument(
        "--url", default=None, help="the local server (default http://127.0.0.1:PORT)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Drain; exit 0 once no turn is running, 1 if some still were at the timeout."""
    if not 0 <= args.timeout <= 3600:
        raise VoiceServiceError("--timeout must be 0 to 3600 s", code="bad_argument")
    base = (args.url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    deadline = time.monotonic() + args.timeout
    try:
        with httpx.Client(timeout=5.0) as client:
            status = _checked(client.post(f"{base}/drainz"))
            print(f"draining: {status['sessions']} sessions, {status['in_turn']} in a turn")
            while status["in_turn"] and time.monotonic() < deadline:
                time.sleep(POLL_S)
                status = _checked(client.get(f"{base}/drainz"))
    except httpx.HTTPError as exc:
        raise VoiceServiceError(f"cannot reach {base}: {exc}", code="unreachable") from exc
    if status["in_turn"]:
        print(f"gave up after {args.timeout:g} s: {status['in_turn']} turns still running")
        return 1
    print(f"drained: {status['sessions']} idle sessions left (closed when the server stops)")
    return 0


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise VoiceServiceError(
            f"the server refused to drain ({response.status_code}): {response.text[:200]}",
            code="drain_refused",
        )
    body: dict[str, Any] = response.json()
    return body
