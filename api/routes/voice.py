"""``/v1/voice``: the streaming voice WebSocket (protocol in ``docs/protocol.md``).

This module owns the transport: admission (origin, capacity, token), frame validation,
flood control, idle timeout, and one writer task per connection. The conversation itself
is ``api.voice.session.VoiceSession``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.voice.chain import VoiceChain
from api.voice.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNSUPPORTED,
    ProtocolError,
    Start,
    Stop,
    check_audio_frame,
    parse_client_message,
)
from api.voice.session import VoiceSession
from core.settings import VOICES, Settings
from core.tokens import TokenError, verify_token

log = logging.getLogger(__name__)
router = APIRouter()
MAX_ERRORS = 50  # protocol errors tolerated in one connection before it is closed


class SessionManager:
    """The live sessions of this process, bounded by ``max_sessions``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sockets: dict[WebSocket, VoiceSession | None] = {}

    def admit(self, websocket: WebSocket) -> bool:
        """Count the connection in, unless the service is full."""
        if len(self.sockets) >= self.limit:
            return False
        self.sockets[websocket] = None
        return True

    def release(self, websocket: WebSocket) -> None:
        """Forget a finished connection."""
        self.sockets.pop(websocket, None)

    async def close_all(self) -> None:
        """Graceful shutdown: cancel every turn, tell each client the server is going away."""
        for websocket, session in list(self.sockets.items()):
            if session is not None:
                await session.close()
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_GOING_AWAY)


class FrameBudget:
    """Token bucket against floods of frames: ``rate`` per second, bursts of twice that."""

    def __init__(self, rate: int) -> None:
        self.rate, self.capacity = rate, 2.0 * rate
        self.tokens, self.updated = self.capacity, time.monotonic()

    def take(self) -> bool:
        """Spend one token; False when the client sends faster than allowed."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    origin = websocket.headers.get("origin")
    # Origin protects browsers from other sites; clients outside a browser send none.
    return not settings.allowed_origins or origin is None or origin in settings.allowed_origins


async def _refuse(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
    await websocket.send_json({"type": "error", "code": code, "message": message})
    await websocket.close(close_code)


@router.websocket("/v1/voice")
async def voice(websocket: WebSocket) -> None:
    """Admit the client, then run its session until it stops, fails or goes idle."""
    app = websocket.app
    settings: Settings = app.state.settings
    manager: SessionManager = app.state.sessions
    await websocket.accept()
    if not _origin_allowed(websocket, settings):
        await _refuse(websocket, "unauthorized", "origin not allowed", CLOSE_POLICY)
        return
    models = app.state.model_state.models
    if models is None:
        await _refuse(websocket, "not_ready", "models are still loading", CLOSE_TRY_AGAIN)
        return
    if not manager.admit(websocket):
        await _refuse(websocket, "busy", "too many sessions; try again later", CLOSE_TRY_AGAIN)
        return
    outbox: asyncio.Queue[dict[str, Any] | bytes | None] = asyncio.Queue()
    writer = asyncio.create_task(_write(websocket, outbox))

    async def send(item: dict[str, Any] | bytes) -> None:
        await outbox.put(item)

    connection = _Connection(websocket, settings, VoiceChain(models), send, manager)
    try:
        await connection.run()
    finally:
        if connection.session is not None:
            await connection.session.close()
        manager.release(websocket)
        await outbox.put(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, timeout=2)
        with contextlib.suppress(Exception):
            await websocket.close(connection.close_code)


async def _write(
    websocket: WebSocket, outbox: asyncio.Queue[dict[str, Any] | bytes | None]
) -> None:
    """The only sender on the socket, so frames never interleave."""
    while (item := await outbox.get()) is not None:
        try:
            if isinstance(item, bytes):
                await websocket.send_bytes(item)
            else:
                await websocket.send_json(item)
        except Exception:  # the client went away; the reader sees it too
            return


class _Connection:
    """The receive loop of one WebSocket."""

    def __init__(
        self,
        websocket: WebSocket,
        settings: Settings,
        chain: VoiceChain,
        send: Any,
        manager: SessionManager,
    ) -> None:
        self.websocket, self.settings, self.chain, self.send = websocket, settings, chain, send
        self.manager = manager
        self.session: VoiceSession | None = None
        self.budget = FrameBudget(settings.max_frames_per_s)
        self.errors = 0
        self.close_code = CLOSE_NORMAL

    async def run(self) -> None:
        """Receive until stop, disconnect, idle timeout or a fatal protocol error."""
        while True:
            try:
                message = await asyncio.wait_for(
                    self.websocket.receive(), timeout=self.settings.idle_timeout_s
                )
            except TimeoutError:
                await self.send({"type": "error", "code": "idle_timeout", "message": "no input"})
                return
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                if not self.budget.take():
                    self.close_code = CLOSE_POLICY
                    raise ProtocolError("rate_limited", "too many frames; slow down")
                if message.get("bytes") is not None:
                    await self._audio(message["bytes"])
                elif message.get("text") is not None and await self._control(message["text"]):
                    return
            except ProtocolError as exc:
                await self.send({"type": "error", "code": exc.code, "message": str(exc)})
                if exc.code == "frame_too_large":
                    self.close_code = CLOSE_TOO_BIG
                if (
                    exc.code in ("frame_too_large", "unauthorized")
                    or self.close_code != CLOSE_NORMAL
                ):
                    return
                self.errors += 1
                if self.errors >= MAX_ERRORS:
                    self.close_code = CLOSE_UNSUPPORTED
                    return

    async def _audio(self, frame: bytes) -> None:
        check_audio_frame(frame)
        if self.session is None:
            raise ProtocolError("not_started", "send a start message before audio")
        if frame:
            await self.session.on_audio(frame)

    async def _control(self, text: str) -> bool:
        """Handle one text frame; True when the session should end."""
        message = parse_client_message(text)
        if isinstance(message, Stop):
            return True
        if self.session is None:
            if not isinstance(message, Start):
                raise ProtocolError("not_started", "the first message must be start")
            user = self._authorize(message)
            models = self.chain.models
            self.session = VoiceSession(
                user=user,
                chain=self.chain,
                vad=models.vad,
                capture=self.websocket.app.state.model_state.capture,
                settings=self.settings,
                send=self.send,
                start=message,
            )
            self.manager.sockets[self.websocket] = self.session
            await self.send(
                {
                    "type": "ready",
                    "session_id": self.session.session_id,
                    "sample_rate_in": 16_000,
                    "voices": list(VOICES),
                    "voice": self.session.voice,
                }
            )
            return False
        await self.session.on_message(message)
        return False

    def _authorize(self, start: Start) -> str | None:
        """The user a valid token names (None when tokens are not required)."""
        if not self.settings.require_token:
            return None
        try:
            return verify_token(start.token or "", self.settings.token_secret)
        except TokenError as exc:
            self.close_code = CLOSE_POLICY
            raise ProtocolError("unauthorized", f"a valid token is required ({exc})") from exc
