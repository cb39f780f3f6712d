"""``voice-service serve``: the HTTP and WebSocket service under uvicorn."""

from __future__ import annotations

import argparse
from typing import Any

from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("serve", help="start the service (default 127.0.0.1:8003)")
    parser.add_argument("--host", default=None, help="bind address (default from settings)")
    parser.add_argument("--port", type=int, default=None, help="port (default from settings)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted; models load in the background (watch ``/readyz``)."""
    import uvicorn

    from api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
    )
    return 0
