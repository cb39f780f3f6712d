"""``/v1/voice``: the streaming voice WebSocket (protocol in ``docs/protocol.md``).

This module owns the transport: admission (origin, connections per client address, a
deadline for ``start``, then token and capacity), frame validation, flood control (frames
per second and seconds of audio per second), idle timeout, and one writer task per
connection. The conversation itself is ``api.voice.session.VoiceSession``.

A connection takes one of ``max_sessions`` slots only once its ``start`` is valid: sockets
that say nothing cost their client address one of its ``max_connections_per_client`` and
are closed after ``start_timeout_s``, so idle sockets cannot keep anyone else out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api import metrics
from api.routes.deps import SettingsDep
from api.routes.limits import client_of
from api.shared_state import Connections, LocalConnections
from api.voice.chain import VoiceChain
from api.voice.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNSUPPORTED,
    EndOfSpeech,
    Feedback,
    ProtocolError,
    Start,
    Stop,
    check_audio_frame,
    parse_client_message,
)
from api.voice.scheduler import get_scheduler
from api.voice.server_events import Emitter, ErrorEvent, ReadyEvent, Send, to_wire
from api.voice.session import VoiceSession
from api.voice.turn_detector import TurnTiming
from core import logs
from core.audio import SAMPLE_BYTES, SAMPLE_RATE
from core.settings import VOICES, Settings
from core.tokens import TokenError, verify_token

log = logging.getLogger(__name__)
router = APIRouter()
MAX_ERRORS = 50  # protocol errors tolerated in one connection before it is closed
BYTES_PER_S = SAMPLE_RATE * SAMPLE_BYTES  # PCM16 mono 16 kHz


class SessionManager:
    """The open connections of this process and its sessions, bounded by ``max_sessions``."""

    def __init__(self, limit: int, per_client: int, connections: Connections | None = None) -> None:
        self.limit, self.per_client = limit, per_client
        self.sockets: dict[WebSocket, VoiceSession | None] = {}  # every open connection
        self.clients: dict[WebSocket, tuple[str, str]] = {}  # client address and its lease
        # open connections per address: in Redis when replicas share it (api/shared_state.py)
        self.connections = connections or LocalConnections(per_client)
        self.admitted: set[WebSocket] = set()

    def connect(self, websocket: WebSocket, client: str) -> bool:
        """Count an open connection of ``client``, unless it has too many open already."""
        lease = self.connections.acquire(client)
        if lease is None:
            return False
        self.clients[websocket] = (client, lease)
        self.sockets[websocket] = None
        return True

    def admit(self, websocket: WebSocket) -> bool:
        """Give the connection a session slot (after a valid start), unless none is free.

        None is free when all are taken, or when the machine is past what it holds: end-of-turn
        passes and first clauses already wait too long for the cores
        (``Scheduler.overloaded``). Sessions already admitted go on. With no session open the
        first is always admitted: the waits measured then are stale, none of ours.
        """
        if len(self.admitted) >= self.limit:
            return False
        if self.admitted and get_scheduler().overloaded():
            return False
        self.admitted.add(websocket)
        metrics.ACTIVE.inc()
        return True

    def release(self, websocket: WebSocket) -> None:
        """Forget a finished connection."""
        self.sockets.pop(websocket, None)
        if websocket in self.admitted:
            self.admitted.discard(websocket)
            metrics.ACTIVE.dec()
        held = self.clients.pop(websocket, None)
        if held is not None:
            self.connections.release(*held)

    async def close_all(self) -> None:
        """Graceful shutdown: cancel every turn, tell each client the server is going away."""
        for websocket, session in list(self.sockets.items()):
            if session is not None:
                await session.close()
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_GOING_AWAY)


class Budget:
    """Token bucket: ``rate`` per second sustained, at most ``capacity`` saved up."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.updated = self.capacity, time.monotonic()

    def take(self, amount: float = 1.0) -> bool:
        """Spend ``amount``; False when the client sends faster than allowed."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True


def _origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    origin = websocket.headers.get("origin")
    # Origin protects browsers from other sites; clients outside a browser send none.
    return not settings.allowed_origins or origin is None or origin in settings.allowed_origins


async def _refuse(
    websocket: WebSocket, code: str, message: str, close_code: int, reason: str | None = None
) -> None:
    metrics.refused(reason or code)
    metrics.ERRORS.labels(code).inc()
    await websocket.send_json(to_wire(ErrorEvent(code=code, message=message)))
    await websocket.close(close_code)


@router.websocket("/v1/voice")
async def voice(websocket: WebSocket, settings: SettingsDep) -> None:
    """Admit the client, then run its session until it stops, fails or goes idle."""
    app = websocket.app
    manager: SessionManager = app.state.sessions
    await websocket.accept()
    if not _origin_allowed(websocket, settings):
        await _refuse(websocket, "unauthorized", "origin not allowed", CLOSE_POLICY, "origin")
        return
    models = app.state.model_state.models
    if models is None:
        await _refuse(websocket, "not_ready", "models are still loading", CLOSE_TRY_AGAIN)
        return
    if getattr(app.state, "draining", False):  # POST /drainz: this replica is stopping
        await _refuse(websocket, "draining", "this server is stopping; reconnect", CLOSE_TRY_AGAIN)
        return
    if not manager.connect(websocket, client_of(websocket)):
        message = "too many open connections from this address"
        await _refuse(websocket, "too_many_connections", message, CLOSE_TRY_AGAIN)
        return
    outbox: asyncio.Queue[dict[str, Any] | bytes | None] = asyncio.Queue()
    writer = asyncio.create_task(_write(websocket, outbox))

    async def send(item: dict[str, Any] | bytes) -> None:
        if not isinstance(item, bytes):
            metrics.sent(item)  # error codes, barge-ins and merges, whoever sends them
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
        send: Send,
        manager: SessionManager,
    ) -> None:
        self.websocket, self.settings, self.chain, self.send = websocket, settings, chain, send
        self.emit = Emitter(send)
        self.manager = manager
        self.session: VoiceSession | None = None
        self.frames = Budget(settings.max_frames_per_s, 2.0 * settings.max_frames_per_s)
        self.audio = Budget(settings.max_audio_rate, settings.audio_burst_s)
        self.start_deadline = time.monotonic() + settings.start_timeout_s
        self.last_input = time.monotonic()
        # The longest silence a turn can need: if audio stops for that long in the middle of
        # an utterance, the client has stopped sending (end of a clip, a muted or stalled
        # microphone) and no silence will come to end the turn, so it ends as with
        # end_of_speech. Without this the turn waited for frames until the idle timeout.
        self.audio_gap_s = TurnTiming.from_settings(settings).longest_ms / 1000
        self.errors = 0
        self.close_code = CLOSE_NORMAL

    async def run(self) -> None:
        """Receive until stop, disconnect, a timeout or a fatal error."""
        try:
            await self._receive_loop()
        except Exception:  # a bug, not the client's doing: say so rather than close with 1000
            log.exception("voice connection failed")
            await self.emit.error("internal_error", "server error")
            self.close_code = CLOSE_INTERNAL

    def _timeout(self) -> float:
        now = time.monotonic()
        if self.session is None:
            return max(0.0, self.start_deadline - now)
        timeout = self.last_input + self.settings.idle_timeout_s - now
        if self.session.in_utterance:
            timeout = min(timeout, self.last_input + self.audio_gap_s - now)
        return max(0.0, timeout)

    async def _timed_out(self) -> bool:
        """Handle a receive timeout; True when the connection should close."""
        if self.session is None:
            message = f"send start within {self.settings.start_timeout_s:g} s of connecting"
            metrics.refused("start_timeout")
            await self.emit.error("start_timeout", message)
            self.close_code = CLOSE_POLICY
            return True
        if time.monotonic() - self.last_input >= self.settings.idle_timeout_s:
            if self.session.answer_playing():  # the client is listening, not idle
                self.last_input = time.monotonic()  # the idle clock starts again
                return False
            await self.emit.error("idle_timeout", "no input")
            return True
        if self.session.in_utterance:  # the audio stopped mid-utterance
            await self.session.on_message(EndOfSpeech(type="end_of_speech"))
        return False  # (or the utterance ended meanwhile: nothing to do)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), self._timeout())
            except TimeoutError:
                if await self._timed_out():
                    return
                continue
            except WebSocketDisconnect:
                return
            self.last_input = time.monotonic()
            if message["type"] == "websocket.disconnect":
                return
            try:
                if not self.frames.take():
                    self.close_code = CLOSE_POLICY
                    raise ProtocolError("too many frames; slow down", code="rate_limited")
                if message.get("bytes") is not None:
                    await self._audio(message["bytes"])
                elif message.get("text") is not None and await self._control(message["text"]):
                    return
            except ProtocolError as exc:
                await self.emit(ErrorEvent.of(exc))
                if exc.code == "frame_too_large":
                    self.close_code = CLOSE_TOO_BIG
                if self.close_code != CLOSE_NORMAL:  # set by the errors that end a connection
                    return
                self.errors += 1
                if self.errors >= MAX_ERRORS:
                    self.close_code = CLOSE_UNSUPPORTED
                    return

    async def _audio(self, frame: bytes) -> None:
        check_audio_frame(frame)
        if self.session is None:
            raise ProtocolError("send a start message before audio", code="not_started")
        if not self.audio.take(len(frame) / BYTES_PER_S):
            self.close_code = CLOSE_POLICY
            raise ProtocolError(
                f"audio faster than {self.settings.max_audio_rate:g}x real time; slow down",
                code="rate_limited",
            )
        if frame:
            await self.session.on_audio(frame)

    async def _control(self, text: str) -> bool:
        """Handle one text frame; True when the session should end."""
        message = parse_client_message(text)
        if isinstance(message, Stop):
            return True
        if self.session is None:
            if not isinstance(message, Start):
                raise ProtocolError("the first message must be start", code="not_started")
            user = self._authorize(message)
            if getattr(self.websocket.app.state, "draining", False):
                self.close_code = CLOSE_TRY_AGAIN
                metrics.refused("draining")
                raise ProtocolError("this server is stopping; reconnect", code="draining")
            if not self.manager.admit(self.websocket):
                self.close_code = CLOSE_TRY_AGAIN
                metrics.refused("busy")
                raise ProtocolError("the service is at capacity; try again later", code="busy")
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
            # this connection's task and every task it starts from now on log the session id
            logs.session_id.set(self.session.session_id)
            ready = ReadyEvent(
                session_id=self.session.session_id, voices=list(VOICES), voice=self.session.voice
            )
            await self.emit(ready)
            return False
        await self.session.on_message(message)
        if isinstance(message, Feedback):
            metrics.feedback(message.value, self.session.arm.variant or "none")
        return False

    def _authorize(self, start: Start) -> str | None:
        """The user a valid token names (None when tokens are not required)."""
        if not self.settings.require_token:
            return None
        try:
            return verify_token(start.token or "", self.settings.token_secret)
        except TokenError as exc:
            self.close_code = CLOSE_POLICY
            metrics.refused("unauthorized")
            raise ProtocolError(f"a valid token is required ({exc})", code="unauthorized") from exc
