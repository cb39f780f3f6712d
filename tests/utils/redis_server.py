"""A Redis server of the test's own on a free loopback port, which the test may stop.

Tests that take the broker away use this one, never the machine's shared Redis.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from tests.utils.processes import free_port, stop


class RedisServer:
    """``redis-server`` without persistence; ``stop()`` and ``start()`` keep the port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (needed to stop a broker of our own)")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait until it answers PING."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (its data goes with it: it keeps nothing on disk)."""
        if self.process is not None:
            stop(self.process, timeout_s=10)
            self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A running server until the block ends."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
