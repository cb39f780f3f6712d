"""A WebSocket test client for /v1/voice that records every event with its arrival time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import websockets

from api.voice.audio import float_to_pcm16


class VoiceClient:
    """Connect, send, and wait for events; binary frames are recorded as ``{"type": "audio"}``."""

    def __init__(self, url: str, local_addr: str | None = None, **headers: str) -> None:
        self.url, self.headers = url, headers
        self.local_addr = local_addr  # a loopback source address (127.0.0.2, ...)
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.closed: tuple[int | None, str] | None = None
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> VoiceClient:
        extra = {"local_addr": (self.local_addr, 0)} if self.local_addr else {}
        self.ws = await websockets.connect(
            self.url, max_size=1 << 22, additional_headers=self.headers or None, **extra
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                now = time.monotonic()
                if isinstance(message, bytes):
                    self.events.append({"type": "audio", "bytes": len(message), "at": now})
                else:
                    self.events.append({**json.loads(message), "at": now})
                self.changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = (self.ws.close_code, self.ws.close_reason)
            self.changed.set()

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def start(self, **fields: Any) -> dict[str, Any]:
        after = len(self.events)
        await self.send_json({"type": "start", **fields})
        return await self.wait_for(lambda e: e["type"] in ("ready", "error"), after=after)

    async def stream(self, audio: np.ndarray, *, frame_ms: int = 40, speed: float = 1.0) -> None:
        """Send 16 kHz float audio as PCM16 frames, paced like a microphone (``speed`` x)."""
        pcm = float_to_pcm16(audio)
        step = 16_000 * frame_ms // 1000 * 2
        started = time.monotonic()
        for index, offset in enumerate(range(0, len(pcm), step)):
            due = started + index * frame_ms / 1000 / speed
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await self.ws.send(pcm[offset : offset + step])

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 60,  # noqa: ASYNC109 - a deadline for the whole wait
        after: int = 0,
    ) -> dict[str, Any]:
        """The first event from index ``after`` on (received or to come) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            if self.closed is not None:
                raise AssertionError(f"connection closed {self.closed} before the event came")
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event in {timeout} s; got {self.summary()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)

    async def wait_closed(self, timeout: float = 10) -> tuple[int | None, str]:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while self.closed is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not close the connection")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=0.2)
        return self.closed

    def summary(self) -> list[str]:
        return [e.get("code") or e.get("text") or e["type"] for e in self.events[-20:]]
