"""Starting real servers as subprocesses on free loopback ports."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    command: Sequence[str],
    ready_url: str,
    *,
    timeout_s: float = 60,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` (in ``cwd``); wait until ``ready_url`` answers 200; stop it afterwards."""
    with tempfile.TemporaryFile() as log:  # a pipe would fill up and block a chatty server
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        yield from _serve(process, log, ready_url, timeout_s)


def _serve(
    process: subprocess.Popen[bytes], log: IO[bytes], ready_url: str, timeout_s: float
) -> Iterator[subprocess.Popen[bytes]]:
    try:
        if not wait_for_http(ready_url, timeout_s, alive=lambda: process.poll() is None):
            log.seek(0)
            error = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{process.args!r} did not answer {ready_url}: {error}")
        yield process
    finally:
        stop(process, timeout_s=45)  # a server stops its children first


def stop(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()


PYTHON = sys.executable


def wait_for_http(url: str, timeout_s: float, alive: Callable[[], bool]) -> bool:
    """Poll ``url`` until it answers 200 (True), or time runs out or ``alive()`` fails."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False
