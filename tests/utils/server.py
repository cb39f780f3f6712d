"""Serving an ASGI app in-process: uvicorn in a background thread on a free loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.utils.processes import free_port, wait_for_http

WS_MAX_SIZE = 1024 * 1024  # above the protocol's 64 KiB, so the app itself refuses big frames


@contextmanager
def serve_app(app: Any, *, timeout_s: float = 30, ws_max_size: int = WS_MAX_SIZE) -> Iterator[str]:
    """Serve ``app``; yield its base URL once ``/healthz`` answers; stop it afterwards."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        # as `voice-service serve`: uvicorn's loggers are left to core.logs (its default
        # config would give them handlers of their own for the rest of the test run)
        log_config=None,
        log_level=None,
        ws_max_size=ws_max_size,
        proxy_headers=False,  # as `voice-service serve`: the app decides whom to believe
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        if not wait_for_http(f"{base_url}/healthz", timeout_s, alive=thread.is_alive):
            raise RuntimeError(f"the server on port {port} did not answer /healthz")
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
