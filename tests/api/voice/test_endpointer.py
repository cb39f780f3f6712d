"""The endpointer: partials while the user speaks, the final pass at a pause, the decision.

Fake STT and turn detector (tests/utils/fakes.py): each case runs in well under a second.
The same logic with real models is exercised by tests/api/test_voice_ws.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from api.voice.audio import float_to_pcm16
from api.voice.endpointer import SPECULATION_LEAD_MS, Decision, Endpointer
from api.voice.endpointing import EndOfTurn
from api.voice.recorder import UtteranceRecorder
from api.voice.server_events import Emitter
from api.voice.turn_detector import TurnTiming
from core.messages import Transcript
from core.settings import Settings
from tests.utils.fakes import FRAME, FakeSTT, FakeTurnDetector, FakeVAD, Script

COMPLETE_MS, INCOMPLETE_MS = 300, 1000


class BrokenSTT(FakeSTT):
    """Fails every pass."""

    async def transcribe(
        self, audio: np.ndarray, *, hotwords: list[str] | None = None, prompt: str | None = None
    ) -> AsyncIterator[Transcript]:
        raise RuntimeError("the model crashed")
        yield  # an async generator, like the real ones


class Rig:
    """A recorder and its endpointer, fed as the session feeds them; what they send."""

    def __init__(self, settings: Settings, stt: FakeSTT | None = None) -> None:
        self.sent: list[dict[str, Any] | bytes] = []
        self.checks: list[tuple[int, Decision | None]] = []  # (unheard_ms, decision)
        vad: Any = FakeVAD()
        self.recorder = UtteranceRecorder(vad, threshold=0.5, max_s=30)
        timing = TurnTiming(
            complete_ms=COMPLETE_MS, incomplete_ms=INCOMPLETE_MS, hesitant_ms=INCOMPLETE_MS
        )
        self.endpointer = Endpointer(
            stt=stt or FakeSTT(settings),
            end_of_turn=EndOfTurn(FakeTurnDetector(settings), timing),
            recorder=self.recorder,
            emit=Emitter(self._send),
            partial_interval_ms=50,
            on_silence=self._on_silence,
        )

    async def _send(self, item: dict[str, Any] | bytes) -> None:
        self.sent.append(item)

    async def _on_silence(self, unheard_ms: int) -> None:
        self.checks.append((unheard_ms, self.endpointer.decide(unheard_ms)))

    async def play(self, audio: np.ndarray) -> None:
        pcm = float_to_pcm16(audio)
        for offset in range(0, len(pcm), FRAME * 2):
            for probability in await self.recorder.push(pcm[offset : offset + FRAME * 2]):
                if self.recorder.hear(probability):
                    if self.recorder.start():
                        self.endpointer.begin()
                    self.endpointer.speech_resumed()
                elif self.recorder.recording:
                    self.endpointer.paused()
            await asyncio.sleep(0.002)

    async def final_done(self) -> None:
        assert self.endpointer.final_task is not None
        await asyncio.wait([self.endpointer.final_task])
        await asyncio.sleep(0.01)  # its done-callback's check runs


@pytest.fixture(autouse=True)
def fresh_script() -> None:
    Script.phrases.clear()
    Script.unfinished.clear()


async def test_partials_come_while_the_user_speaks(settings: Settings) -> None:
    rig = Rig(settings)
    await rig.play(Script().say("how far is the moon", 1.0).audio())
    await asyncio.sleep(0.12)
    partials = [e for e in rig.sent if isinstance(e, dict)]
    assert partials and partials[-1] == {
        "type": "partial_transcript",
        "text": "how far is the moon",
    }
    assert rig.endpointer.final_task is None  # no pause yet
    await rig.endpointer.close()


async def test_a_finished_utterance_may_end_after_the_short_silence(settings: Settings) -> None:
    rig = Rig(settings)
    await rig.play(Script().say("what is light", 0.5).pause(0.1).audio())
    await rig.final_done()
    unheard, first = rig.checks[0]  # when the final pass was ready
    assert unheard == 0 and first is not None
    assert first.transcript.text == "what is light" and first.speculate and not first.commit
    stopped = rig.endpointer.decide(unheard_ms=COMPLETE_MS)  # frames stopped that long
    assert stopped is not None and stopped.commit
    # No more frames come: their absence is noticed and counts as silence.
    await asyncio.sleep(COMPLETE_MS / 1000 + 0.1)
    unheard, late = rig.checks[-1]
    assert unheard >= COMPLETE_MS - 100 and late is not None and late.commit
    await rig.endpointer.close()


async def test_unfinished_words_ask_for_the_long_silence(settings: Settings) -> None:
    rig = Rig(settings)
    await rig.play(Script().say("what is the", 0.5, unfinished=True).pause(0.1).audio())
    await rig.final_done()
    decision = rig.endpointer.decide()
    assert decision is not None and not decision.commit
    assert not decision.speculate  # still more than SPECULATION_LEAD_MS to wait
    assert INCOMPLETE_MS - 100 > SPECULATION_LEAD_MS
    later = rig.endpointer.decide(unheard_ms=INCOMPLETE_MS - SPECULATION_LEAD_MS)
    assert later is not None and later.speculate and not later.commit
    await rig.endpointer.close()


async def test_speaking_again_drops_the_final_pass(settings: Settings) -> None:
    rig = Rig(settings)
    await rig.play(Script().say("how many", 0.5, unfinished=True).pause(0.1).audio())
    stale = rig.endpointer.final_task
    await rig.play(Script().say("moons", 0.3).audio())
    assert stale is not None and rig.endpointer.final_task is None  # (cancelled if not done)
    assert rig.endpointer.decide() is None  # nothing to decide until the next pause
    # The end of the utterance runs a final pass over all of it.
    final = rig.endpointer.end(rig.recorder.stop())
    transcript, _, verdict = await final
    assert transcript.text == "how many moons" and verdict is None
    assert rig.endpointer.partial_task is None and rig.endpointer.transcriber is None
    await rig.endpointer.close()


async def test_the_end_reuses_the_final_pass_of_the_pause(settings: Settings) -> None:
    rig = Rig(settings)
    await rig.play(Script().say("thanks", 0.4).pause(0.1).audio())
    under_way = rig.endpointer.final_task
    assert rig.endpointer.end(rig.recorder.stop()) is under_way
    await rig.endpointer.close()


async def test_a_failed_final_pass_is_a_decision_to_end_and_report(settings: Settings) -> None:
    rig = Rig(settings, stt=BrokenSTT(settings))
    await rig.play(Script().say("hello", 0.4).pause(0.1).audio())
    await rig.final_done()
    decision = rig.endpointer.decide()
    assert decision is not None and decision.failed and decision.commit
    await rig.endpointer.close()
