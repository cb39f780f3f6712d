"""What the server sends on ``/v1/voice``: one pydantic model per JSON event, one union.

Every server -> client text frame is one of these models, turned into JSON by ``to_wire``
and nowhere else (``Emitter`` wraps a transport's ``send`` with it). ``docs/protocol.md``'s
table of server events and ``docs/server-events.schema.json`` are generated from them
(``python -m api.voice.protocol_doc``), and a test checks that the committed files agree.

Field names are the wire format: ``session_id`` in ``ready`` names the session (the
conversation), never a turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

from core.errors import VoiceServiceError
from core.messages import Domain, Intent, Latency, NLUEntity, NLUResult
from core.settings import VoiceName


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadyEvent(_Event):
    """The session has started: send audio now."""

    type: Literal["ready"] = "ready"
    session_id: str = Field(description="this session's id")
    sample_rate_in: Literal[16000] = Field(
        16000, description="the sample rate of the audio to send (16000)"
    )
    voices: list[VoiceName] = Field(description="the voices a `start` may ask for")
    voice: VoiceName = Field(description="the voice of this session's answers")


class PartialTranscriptEvent(_Event):
    """The words so far, at least once a second while the user speaks."""

    type: Literal["partial_transcript"] = "partial_transcript"
    text: str = Field(description="the words heard so far")


class TranscriptEvent(_Event):
    """The user's turn has ended: its final words. The answer follows."""

    type: Literal["transcript"] = "transcript"
    turn_id: str = Field(description="the turn's id (what `feedback` names)")
    text: str = Field(description="the final words of the turn")


class NluEvent(_Event):
    """What the turn asks for."""

    type: Literal["nlu"] = "nlu"
    intent: Intent = Field(description="the kind of request")
    domain: Domain = Field(description="the field of science")
    entities: list[NLUEntity] = Field(
        description="key terms and quantities (`text`, `label` `term`/`quantity`, "
        "`start`, `end`: character offsets into the transcript)"
    )

    @classmethod
    def of(cls, nlu: NLUResult) -> NluEvent:
        """The event for one NLU reading (its confidence stays on the server)."""
        return cls(intent=nlu.intent, domain=nlu.domain, entities=nlu.entities)


class ResponseDeltaEvent(_Event):
    """The next piece of the answer's text.

    A sentence, or the first clause or phrase of the first one, once the number guard has
    passed it; numbers are shown in digits with units, while the voice says them in words.
    """

    type: Literal["response_delta"] = "response_delta"
    text: str = Field(description="the next piece of the answer")


class AudioStartEvent(_Event):
    """The answer's audio follows as binary frames.

    At most 200 ms each, sent at most 0.4 s ahead of real time.
    """

    type: Literal["audio_start"] = "audio_start"
    turn_id: str = Field(description="the turn answered")
    sample_rate: int = Field(description="the audio's sample rate (22050 with Piper)")
    format: Literal["pcm16le"] = Field("pcm16le", description="always `pcm16le`")


class AudioEndEvent(_Event):
    """The last audio frame of the answer has been sent."""

    type: Literal["audio_end"] = "audio_end"
    turn_id: str = Field(description="the turn answered")


class TurnEndEvent(_Event):
    """The whole answer and the turn's timings."""

    type: Literal["turn_end"] = "turn_end"
    turn_id: str = Field(description="the turn answered")
    response: str = Field(description="the whole answer")
    sources: list[str] = Field(description="ids of the knowledge-base passages it drew on")
    latency: Latency = Field(
        description="milliseconds: `stt_ms`, `nlu_ms`, `rag_ms`, `llm_ms`, `tts_ms`, "
        "`total_ms`, `first_audio_ms` (from the end of the user's voiced audio to the first "
        "audio frame sent: the delay a person hears)"
    )


class InterruptedEvent(_Event):
    """The answer was cut off (barge-in or `interrupt`).

    Drop any audio still queued for playback.
    """

    type: Literal["interrupted"] = "interrupted"
    turn_id: str = Field(description="the turn whose answer stopped")
    resumed: Literal[True] | None = Field(
        None,
        description="only when true (absent otherwise): the user had not finished, the turn "
        "is dropped (even if its `turn_end` came), and the next `transcript` holds its words "
        "and what followed, answered as one turn",
    )

    @model_serializer(mode="wrap")
    def _omit_resumed(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("resumed") is None:
            data.pop("resumed", None)
        return data


class ErrorEvent(_Event):
    """Something went wrong (the codes and what follows each: *Errors and closing*)."""

    type: Literal["error"] = "error"
    code: str = Field(description="machine-readable, stable")
    message: str = Field(description="for people")

    @classmethod
    def of(cls, error: VoiceServiceError) -> ErrorEvent:
        """The event telling the client about ``error``."""
        return cls(code=error.code, message=str(error))


ServerEvent = Annotated[
    ReadyEvent
    | PartialTranscriptEvent
    | TranscriptEvent
    | NluEvent
    | ResponseDeltaEvent
    | AudioStartEvent
    | AudioEndEvent
    | TurnEndEvent
    | InterruptedEvent
    | ErrorEvent,
    Field(discriminator="type"),
]
SERVER_EVENTS: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)
Send = Callable[[dict[str, Any] | bytes], Awaitable[None]]  # a text frame's JSON, or audio


def to_wire(event: ServerEvent) -> dict[str, Any]:
    """The JSON object of one text frame: the only serialization of server events."""
    data: dict[str, Any] = event.model_dump(mode="json")
    return data


def parse_server_event(data: dict[str, Any]) -> ServerEvent:
    """Read an event back from its JSON (clients in Python, tests)."""
    return SERVER_EVENTS.validate_python(data)


class Emitter:
    """Sends typed events and audio through a transport's ``send``."""

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, item: ServerEvent | bytes) -> None:
        """Send one event (as JSON) or one audio frame."""
        await self.send(item if isinstance(item, bytes) else to_wire(item))

    async def error(self, code: str, message: str) -> None:
        """Send an ``error`` event."""
        await self(ErrorEvent(code=code, message=message))
