"""Starting real servers as subprocesses on free loopback ports."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    command: Sequence[str], ready_url: str, *, timeout_s: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``; wait until ``ready_url`` answers 200; stop it afterwards."""
    with tempfile.TemporaryFile() as log:  # a pipe would fill up and block a chatty server
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        yield from _serve(process, log, ready_url, timeout_s)


def _serve(
    process: subprocess.Popen[bytes], log: IO[bytes], ready_url: str, timeout_s: float
) -> Iterator[subprocess.Popen[bytes]]:
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                log.seek(0)
                error = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{process.args!r} exited early: {error}")
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{ready_url} did not answer within {timeout_s} s")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


PYTHON = sys.executable
