"""Server events: the models give exactly the JSON the protocol has always sent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from api.voice.protocol import ProtocolError
from api.voice.server_events import (
    AudioEndEvent,
    AudioStartEvent,
    Emitter,
    ErrorEvent,
    InterruptedEvent,
    NluEvent,
    PartialTranscriptEvent,
    ReadyEvent,
    ResponseDeltaEvent,
    TranscriptEvent,
    TurnEndEvent,
    parse_server_event,
    to_wire,
)
from api.voice.turn import Turn
from core.messages import Latency, NLUEntity, NLUResult, Transcript
from core.settings import VOICES

LATENCY = Latency(stt_ms=12.5, nlu_ms=3.0, rag_ms=0.0, llm_ms=40.1, tts_ms=22.0, total_ms=90.0)
ENTITY = NLUEntity(text="5 km", label="quantity", start=3, end=7)
# Each event and the JSON object the session built by hand before the models existed
# (the same keys, in the same order, with the same values).
CASES: list[tuple[Any, dict[str, Any]]] = [
    (
        ReadyEvent(session_id="abc", voices=list(VOICES), voice="friendly"),
        {
            "type": "ready",
            "session_id": "abc",
            "sample_rate_in": 16000,
            "voices": ["professional", "friendly", "technical"],
            "voice": "friendly",
        },
    ),
    (PartialTranscriptEvent(text="what is"), {"type": "partial_transcript", "text": "what is"}),
    (
        TranscriptEvent(turn_id="t1", text="what is light"),
        {"type": "transcript", "turn_id": "t1", "text": "what is light"},
    ),
    (
        NluEvent.of(
            NLUResult(intent="unit_conversion", domain="physics", entities=[ENTITY], confidence=1)
        ),
        {
            "type": "nlu",
            **NLUResult(intent="unit_conversion", domain="physics", entities=[ENTITY]).model_dump(
                exclude={"confidence"}
            ),
        },
    ),
    (ResponseDeltaEvent(text="Light is"), {"type": "response_delta", "text": "Light is"}),
    (
        AudioStartEvent(turn_id="t1", sample_rate=22050),
        {"type": "audio_start", "turn_id": "t1", "sample_rate": 22050, "format": "pcm16le"},
    ),
    (AudioEndEvent(turn_id="t1"), {"type": "audio_end", "turn_id": "t1"}),
    (
        TurnEndEvent(turn_id="t1", response="Light is fast.", sources=["p1"], latency=LATENCY),
        {
            "type": "turn_end",
            "turn_id": "t1",
            "response": "Light is fast.",
            "sources": ["p1"],
            "latency": LATENCY.model_dump(),
        },
    ),
    (InterruptedEvent(turn_id="t1"), {"type": "interrupted", "turn_id": "t1"}),
    (
        InterruptedEvent(turn_id="t1", resumed=True),
        {"type": "interrupted", "turn_id": "t1", "resumed": True},
    ),
    (
        ErrorEvent(code="no_speech", message="nothing heard"),
        {"type": "error", "code": "no_speech", "message": "nothing heard"},
    ),
]


@pytest.mark.parametrize(("event", "wire"), CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_each_event_is_sent_as_before_byte_for_byte(event: Any, wire: dict[str, Any]) -> None:
    sent = to_wire(event)
    # Starlette's send_json: the same text only if keys, order and values are the same.
    assert json.dumps(sent, separators=(",", ":")) == json.dumps(wire, separators=(",", ":"))
    assert parse_server_event(sent) == event


def test_the_first_audio_of_a_turn_without_audio_is_null() -> None:
    sent = to_wire(TurnEndEvent(turn_id="t", response="", sources=[], latency=Latency()))
    assert sent["latency"]["first_audio_ms"] is None
    assert list(sent["latency"]) == [
        "stt_ms",
        "nlu_ms",
        "rag_ms",
        "llm_ms",
        "tts_ms",
        "total_ms",
        "first_audio_ms",
    ]


def test_events_refuse_what_the_protocol_does_not_have() -> None:
    with pytest.raises(ValidationError):
        parse_server_event({"type": "nonsense"})
    with pytest.raises(ValidationError):
        parse_server_event({"type": "audio_end", "turn_id": "t", "extra": 1})
    with pytest.raises(ValidationError):
        InterruptedEvent(turn_id="t", resumed=False)  # absent instead


def test_an_error_event_carries_the_code_and_message_of_the_error() -> None:
    error = ProtocolError("text frames must be JSON objects", code="bad_json")
    assert to_wire(ErrorEvent.of(error)) == {
        "type": "error",
        "code": "bad_json",
        "message": "text frames must be JSON objects",
    }


async def test_a_turn_delivers_typed_events_with_the_latency_the_client_sees() -> None:
    sent: list[dict[str, Any] | bytes] = []

    async def send(item: dict[str, Any] | bytes) -> None:
        sent.append(item)

    turn = Turn("t1", Transcript(text="hi"), speech_end=0.0, emit=Emitter(send), lead_ms=60_000)
    end = TurnEndEvent(turn_id="t1", response="Hello.", sources=[], latency=LATENCY)
    turn.emit(AudioStartEvent(turn_id="t1", sample_rate=16_000))
    turn.emit_audio(b"\x00\x00" * 1600, 16_000)
    turn.emit(end)
    turn.finish()
    turn.commit()
    await turn.delivery
    start, audio, delivered = sent
    assert isinstance(start, dict) and start["type"] == "audio_start"
    assert audio == b"\x00\x00" * 1600
    assert isinstance(delivered, dict) and delivered["type"] == "turn_end"
    latency = delivered["latency"]
    # Measured from speech_end (perf_counter 0): both are large and the first comes first.
    assert 0 < latency["first_audio_ms"] <= latency["total_ms"]
    assert latency["stt_ms"] == 12.5  # the chain's timings are kept
    assert end.latency == LATENCY  # the queued event (and what capture gets) is not changed
