"""An S3 API on a free loopback port: moto's server mode, reached through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from tests.utils.processes import free_port


@contextmanager
def s3_server() -> Iterator[str]:
    """Yield the endpoint URL while the server runs."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
