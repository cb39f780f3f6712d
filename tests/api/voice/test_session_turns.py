"""The session's turn-taking state machine, driven by a scripted timeline with fake backends.

Fakes (tests/utils/fakes.py) replace the models so that each case runs in a fraction of a
second: the timeline is fed about 8 times faster than real time. The same behaviours are
tested with real models and real speech in tests/api/test_voice_ws.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from api.voice.audio import float_to_pcm16
from api.voice.chain import VoiceChain
from api.voice.models import Models
from api.voice.protocol import Feedback, ProtocolError, Start
from api.voice.session import VoiceSession
from core.settings import Settings
from tests.utils.fakes import FRAME, RATE, FakeVAD, Script, fake_settings

SPEED = 8.0  # timeline seconds per wall-clock second


class RecordingCapture:
    """Stands in for ``CaptureSink``: keeps what the session hands over."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def record(self, **turn: Any) -> None:
        self.records.append(turn)

    def consent_changed(self, user_token: str, granted: bool, source: str) -> None:
        pass

    def consent_allowed(self, user_token: str) -> bool:
        return True

    def feedback(self, turn_id: str, value: str | None) -> None:
        pass


class Harness:
    """One session, its events (each with the timeline second it came at) and its capture."""

    def __init__(self, models: Models, settings: Settings) -> None:
        self.events: list[dict[str, Any]] = []
        self.capture = RecordingCapture()
        self.at = 0.0  # timeline position, seconds
        self.session = VoiceSession(
            chain=VoiceChain(models),
            vad=FakeVAD(),  # type: ignore[arg-type]
            capture=self.capture,  # type: ignore[arg-type]
            settings=settings,
            send=self._send,
            start=Start(type="start", consent=True),
        )

    async def _send(self, item: dict[str, Any] | bytes) -> None:
        if isinstance(item, bytes):
            self.events.append({"type": "audio", "bytes": len(item), "at": self.at})
        else:
            self.events.append({**item, "at": self.at})

    async def play(self, audio: np.ndarray) -> None:
        """Feed the timeline frame by frame, ``SPEED`` times faster than real time."""
        pcm = float_to_pcm16(audio)
        for offset in range(0, len(pcm), FRAME * 2):
            await self.session.on_audio(pcm[offset : offset + FRAME * 2])
            self.at += FRAME / RATE
            await asyncio.sleep(FRAME / RATE / SPEED)

    async def wait_for(self, check: Callable[[dict[str, Any]], bool], within: float = 5) -> dict:
        async def poll() -> dict[str, Any]:
            while True:
                for event in self.events:
                    if check(event):
                        return event
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(poll(), within)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


@pytest.fixture(scope="module")
def fake_models(settings: Settings) -> Iterator[Models]:
    yield Models.load(fake_settings(settings))


@pytest.fixture(autouse=True)
def fresh_script() -> None:
    Script.phrases.clear()
    Script.unfinished.clear()


def harness(models: Models, **overrides: Any) -> Harness:
    base = {"playback_lead_ms": 60_000, "end_of_turn_silence_ms": 300}
    return Harness(models, fake_settings(models.settings, **{**base, **overrides}))


async def test_a_pause_after_unfinished_words_does_not_end_the_turn(fake_models: Models) -> None:
    h = harness(fake_models)
    await h.play(
        Script()
        .say("um so how many", 0.8, unfinished=True)
        .pause(0.8)
        .say("moons does jupiter have", 1.0)
        .pause(1.0)
        .audio()
    )
    end = await h.wait_for(lambda e: e["type"] == "turn_end")
    await h.session.close()
    transcripts = h.of("transcript")
    assert [t["text"] for t in transcripts] == ["um so how many moons does jupiter have"]
    assert end["response"] == "You said: um so how many moons does jupiter have."
    assert transcripts[0]["at"] < 2.6 + 1.0  # answered within the final silence
    assert not h.of("interrupted")


async def test_a_finished_question_is_answered_after_the_short_silence(fake_models: Models) -> None:
    h = harness(fake_models)
    await h.play(Script().say("thanks", 0.5).pause(1.5).audio())
    await h.wait_for(lambda e: e["type"] == "turn_end")
    await h.session.close()
    (transcript,) = h.of("transcript")
    assert transcript["text"] == "thanks"
    assert transcript["at"] <= 0.5 + 0.5  # 300 ms of silence asked, not the long wait


async def test_an_unfinished_utterance_waits_for_the_long_silence(fake_models: Models) -> None:
    h = harness(fake_models, incomplete_turn_silence_ms=1800)
    await h.play(Script().say("what is the", 0.5, unfinished=True).pause(3.0).audio())
    await h.wait_for(lambda e: e["type"] == "transcript")
    await h.session.close()
    assert h.of("transcript")[0]["at"] >= 0.5 + 1.8


async def test_resuming_right_after_a_commit_merges_the_two_parts(fake_models: Models) -> None:
    h = harness(fake_models, resume_window_ms=3000, resume_max_heard_ms=1500)
    await h.play(
        Script()
        .say("what is the boiling point", 0.8)
        .pause(0.6)  # the turn is committed after 300 ms and its answer starts
        .say("of water at altitude", 1.0)
        .pause(1.0)
        .audio()
    )
    end = await h.wait_for(lambda e: e["type"] == "turn_end" and "altitude" in e["response"])
    first, second = h.of("transcript")
    assert first["text"] == "what is the boiling point"
    (interrupted,) = h.of("interrupted")
    assert interrupted == {**interrupted, "turn_id": first["turn_id"], "resumed": True}
    assert second["text"] == "what is the boiling point of water at altitude"
    assert end["turn_id"] == second["turn_id"]
    # The first answer was cut off: its end (if it was sent at all) came before the merge.
    assert h.events.index(end) > h.events.index(interrupted)
    assert {e["turn_id"] for e in h.of("turn_end")} <= {first["turn_id"], second["turn_id"]}
    await h.session.close()
    # History and capture hold one turn: the whole utterance, with all its audio.
    assert h.session.conversation.turns == [
        (second["text"], "You said: what is the boiling point of water at altitude.")
    ]
    (captured,) = h.capture.records
    assert captured["turn_id"] == second["turn_id"] and captured["turn_index"] == 0
    assert captured["transcript"].text == second["text"]
    assert len(captured["pcm"]) / 2 / RATE >= 0.8 + 1.0  # both parts
    with pytest.raises(ProtocolError):  # the dropped turn cannot be rated
        await h.session.on_message(
            Feedback(type="feedback", turn_id=first["turn_id"], value="thumbs_up")
        )


async def test_speaking_after_hearing_the_answer_is_a_barge_in_not_a_merge(
    fake_models: Models,
) -> None:
    h = harness(fake_models, resume_window_ms=3000, resume_max_heard_ms=100)
    await h.play(Script().say("tell me about the speed of light", 0.8).pause(0.6).audio())
    first = await h.wait_for(lambda e: e["type"] == "audio_start")
    await asyncio.sleep(0.3)  # the user hears more than 100 ms of it
    await h.play(Script().say("stop", 0.6).pause(1.0).audio())
    await h.wait_for(lambda e: e["type"] == "transcript" and e["text"] == "stop")
    await h.wait_for(lambda e: e["type"] == "turn_end")
    await h.session.close()
    (interrupted,) = h.of("interrupted")
    assert interrupted["turn_id"] == first["turn_id"] and "resumed" not in interrupted
    assert h.session.conversation.turns[0][0] == "tell me about the speed of light"
    assert h.capture.records[0]["transcript"].text == "tell me about the speed of light"


async def test_an_answer_is_kept_once_it_can_no_longer_be_resumed(fake_models: Models) -> None:
    h = harness(fake_models, resume_window_ms=3000, resume_max_heard_ms=1500)
    await h.play(Script().say("what is a photon", 0.8).pause(0.6).audio())
    await h.wait_for(lambda e: e["type"] == "turn_end")
    assert h.session.conversation.turns == []  # it could still be merged
    assert h.capture.records == []
    await h.session.close()  # the session ends: nothing can resume it now
    assert [t for t, _ in h.session.conversation.turns] == ["what is a photon"]
    assert len(h.capture.records) == 1


async def test_silence_only_makes_no_turn(fake_models: Models) -> None:
    h = harness(fake_models)
    await h.play(Script().pause(3.0).audio())
    await asyncio.sleep(0.1)
    await h.session.close()
    assert h.events == []


async def test_speech_without_a_pause_is_cut_at_the_maximum_length(fake_models: Models) -> None:
    h = harness(fake_models, max_utterance_s=2.0)
    await h.play(Script().say("and then and then and then", 3.0).audio())
    error = await h.wait_for(lambda e: e["type"] == "error")
    await h.wait_for(lambda e: e["type"] == "transcript")
    await h.session.close()
    assert error["code"] == "utterance_too_long"
    assert len(h.of("transcript")) == 1


async def test_a_client_that_stops_sending_still_gets_an_answer(fake_models: Models) -> None:
    """No frames after the speech (a file sent whole): their absence counts as silence."""
    h = harness(fake_models, incomplete_turn_silence_ms=600)
    await h.play(Script().say("what is the", 0.5, unfinished=True).pause(0.2).audio())
    transcript = await h.wait_for(lambda e: e["type"] == "transcript")
    await h.wait_for(lambda e: e["type"] == "turn_end")
    await h.session.close()
    assert transcript["text"] == "what is the"
    assert transcript["at"] == pytest.approx(0.7, abs=0.05)  # no frame came after the audio


async def test_a_session_in_an_experiment_counts_its_turns_under_its_arm(
    fake_models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.metrics import REGISTRY
    from learning.experiments.ab import Arm

    arm = Arm("stt-challenger", experiment_id="exp-1", variant="challenger")
    monkeypatch.setattr(fake_models, "stt_for", lambda user: (fake_models.stt, arm))

    def turns() -> float:
        return REGISTRY.get_sample_value("voice_turns_total", {"variant": "challenger"}) or 0.0

    before = turns()
    h = harness(fake_models)
    await h.play(Script().say("thanks", 0.5).pause(1.5).audio())
    await h.wait_for(lambda e: e["type"] == "turn_end")
    await h.session.close()
    assert turns() == before + 1
    (record,) = h.capture.records  # the capture names the arm too, for the experiment's figures
    assert record["models"]["variant"] == "challenger"
    assert record["models"]["stt_version"] == "stt-challenger"
