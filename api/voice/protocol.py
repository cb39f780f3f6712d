"""The ``/v1/voice`` WebSocket protocol: client messages, validated, and error codes.

The full description for client authors is ``docs/protocol.md``.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.errors import VoiceServiceError
from core.settings import VoiceName

MAX_TEXT_FRAME = 4096  # bytes: the largest JSON message a client legitimately sends
MAX_AUDIO_FRAME = 64 * 1024  # bytes: 2 s of 16 kHz PCM16, far above the 100 ms asked for

# WebSocket close codes
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN = 1013


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Start(_Message):
    """Opens the session; everything but ``type`` is optional."""

    type: Literal["start"]
    voice: VoiceName | None = None
    consent: bool = False
    user: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    region: Literal["eu", "us"] | None = None
    token: Annotated[str, Field(max_length=1024)] | None = None


class EndOfSpeech(_Message):
    """Push-to-talk: the user has finished speaking."""

    type: Literal["end_of_speech"]


class Consent(_Message):
    """Consent given or withdrawn mid-session."""

    type: Literal["consent"]
    granted: bool


class Feedback(_Message):
    """Thumbs up or down on one turn."""

    type: Literal["feedback"]
    turn_id: Annotated[str, Field(min_length=1, max_length=64)]
    value: Literal["thumbs_up", "thumbs_down"]


class Interrupt(_Message):
    """Stop the answer that is playing."""

    type: Literal["interrupt"]


class Stop(_Message):
    """End the session."""

    type: Literal["stop"]


ClientMessage = Start | EndOfSpeech | Consent | Feedback | Interrupt | Stop
_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(
    Annotated[ClientMessage, Field(discriminator="type")]
)
_TYPES = {"start", "end_of_speech", "consent", "feedback", "interrupt", "stop"}


class ProtocolError(VoiceServiceError):
    """A message the server cannot accept; sent to the client as an ``error`` event."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)


def parse_client_message(text: str) -> ClientMessage:
    """Parse and validate one JSON text frame, or raise ``ProtocolError``."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_FRAME:
        raise ProtocolError(
            f"text frames are limited to {MAX_TEXT_FRAME} bytes", code="message_too_large"
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("text frames must be JSON objects", code="bad_json") from exc
    if not isinstance(data, dict):
        raise ProtocolError("text frames must be JSON objects", code="bad_json")
    kind = data.get("type")
    if kind not in _TYPES:
        raise ProtocolError(f"unknown message type {str(kind)[:40]!r}", code="unknown_type")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"][1:]) or "message"
        raise ProtocolError(f"{kind}: {where}: {error['msg']}", code="invalid_message") from exc


def check_audio_frame(frame: bytes) -> None:
    """PCM16 mono: an even number of bytes, at most ``MAX_AUDIO_FRAME``."""
    if len(frame) > MAX_AUDIO_FRAME:
        raise ProtocolError(
            f"audio frames are limited to {MAX_AUDIO_FRAME} bytes", code="frame_too_large"
        )
    if len(frame) % 2:
        raise ProtocolError("audio frames are PCM16: an even number of bytes", code="bad_frame")
