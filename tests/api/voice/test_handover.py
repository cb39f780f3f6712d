"""The capture hand-over of one session: consent changes, feedback and captured turns.

The sink here records calls instead of spooling (the real ``CaptureSink`` with a real
broker and worker is tested in tests/api/test_voice_ws.py and tests/workers).
"""

from __future__ import annotations

from typing import Any

import pytest

from api.voice.handover import CaptureHandOver
from api.voice.protocol import ProtocolError
from core.messages import Latency, NLUResult, Transcript
from core.settings import Settings


class RecordingSink:
    """Keeps what it is handed; ``allowed`` consent changes before its hourly limit."""

    def __init__(self, allowed: int = 100) -> None:
        self.allowed = allowed
        self.consents: list[bool] = []
        self.records: list[dict[str, Any]] = []
        self.feedbacks: list[tuple[str, str | None]] = []

    def consent_allowed(self, user_token: str) -> bool:
        self.allowed -= 1
        return self.allowed >= 0

    def consent_changed(self, user_token: str, granted: bool, source: str) -> None:
        assert user_token == "ada" and source == "session"
        self.consents.append(granted)

    def record(self, **turn: Any) -> None:
        self.records.append(turn)

    def feedback(self, turn_id: str, value: str | None) -> None:
        self.feedbacks.append((turn_id, value))


def _handover(
    settings: Settings, sink: RecordingSink, *, consent: bool = True, per_session: int = 10
) -> CaptureHandOver:
    config = settings.model_copy(update={"consent_changes_per_session": per_session})
    return CaptureHandOver(
        sink,  # type: ignore[arg-type]
        config,
        session_id="session-1",
        user_token="ada",
        region="eu",
        consent=consent,
    )


def _settle(handover: CaptureHandOver, turn_id: str) -> None:
    handover.turn_settled(
        turn_id,
        transcript=Transcript(text=f"question {turn_id}"),
        response="answer",
        nlu=NLUResult(),
        latency=Latency(),
        pcm=b"\x00\x00",
    )


def test_consent_is_recorded_only_when_it_changes(settings: Settings) -> None:
    sink = RecordingSink()
    handover = _handover(settings, sink)
    handover.set_consent(True)  # the same again: nothing to record
    handover.set_consent(False)
    handover.close()
    assert sink.consents == [True, False]


def test_changes_over_the_limit_apply_at_once_and_the_last_is_kept_at_the_end(
    settings: Settings,
) -> None:
    sink = RecordingSink()
    handover = _handover(settings, sink, per_session=2)
    handover.set_consent(False)  # the second change: the last allowed
    with pytest.raises(ProtocolError) as caught:
        handover.set_consent(True)
    assert caught.value.code == "rate_limited"
    handover.set_consent(False)  # said once: no second error
    handover.set_consent(True)
    assert handover.consent is True and sink.consents == [True, False]
    _settle(handover, "t1")  # the session consents now, though it is not recorded yet
    assert [r["turn_id"] for r in sink.records] == ["t1"]
    handover.close()
    assert sink.consents == [True, False, True]


def test_the_users_hourly_limit_defers_a_change_too(settings: Settings) -> None:
    sink = RecordingSink(allowed=1)
    handover = _handover(settings, sink)
    with pytest.raises(ProtocolError):
        handover.set_consent(False)
    _settle(handover, "t1")  # consent withdrawn: applies at once
    assert sink.records == []
    handover.close()
    assert sink.consents == [True, False]


def test_turns_are_handed_over_in_order_with_their_feedback(settings: Settings) -> None:
    sink = RecordingSink()
    handover = _handover(settings, sink)
    handover.turn_heard("t1")
    handover.rate("t1", "thumbs_up")  # before the hand-over: travels with the turn
    _settle(handover, "t1")
    handover.turn_heard("t2")
    _settle(handover, "t2")
    handover.rate("t2", "thumbs_down")  # after: the workers update what was stored
    first, second = sink.records
    assert (first["turn_id"], first["turn_index"], first["feedback"]) == ("t1", 0, "thumbs_up")
    assert (second["turn_id"], second["turn_index"], second["feedback"]) == ("t2", 1, None)
    assert first["conversation_id"] == "session-1" and first["region"] == "eu"
    assert sink.feedbacks == [("t2", "thumbs_down")]


def test_without_consent_nothing_is_captured(settings: Settings) -> None:
    sink = RecordingSink()
    handover = _handover(settings, sink, consent=False)
    handover.turn_heard("t1")
    _settle(handover, "t1")
    handover.close()
    assert sink.records == [] and sink.consents == []


def test_feedback_names_a_turn_of_this_session(settings: Settings) -> None:
    handover = _handover(settings, RecordingSink())
    with pytest.raises(ProtocolError) as caught:
        handover.rate("elsewhere", "thumbs_up")
    assert caught.value.code == "unknown_turn"
    handover.turn_heard("t1")
    handover.turn_dropped("t1")  # merged into the next turn: no longer rated
    with pytest.raises(ProtocolError):
        handover.rate("t1", "thumbs_up")


def test_no_sink_no_capture(settings: Settings) -> None:
    handover = CaptureHandOver(
        None, settings, session_id="s", user_token="u", region="us", consent=True
    )
    handover.set_consent(False)
    _settle(handover, "t1")
    handover.close()  # nothing to record, nothing fails
