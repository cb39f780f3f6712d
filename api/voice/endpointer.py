"""When the utterance under way ends: its transcripts, and the silence its end needs.

While the user speaks, a partial transcript every ``partial_interval_ms``. Once they fall
silent, the final transcription and the end-of-turn classifier (``endpointing.EndOfTurn``)
start at once, so both are ready when the silence has lasted as long as the classifier asks.
If they speak again first, both are dropped. ``decide`` says, at each silent frame, whether
the answer may be prepared (``SPECULATION_LEAD_MS`` before the silence runs out) and whether
the turn ends; the session acts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np

from api.voice.endpointing import EndOfTurn, Verdict
from api.voice.partials import StreamingTranscriber
from api.voice.recorder import UtteranceRecorder
from api.voice.server_events import Emitter, PartialTranscriptEvent
from api.voice.stt import SpeechToText
from api.voice.vad import FRAME_MS
from core.messages import Transcript

Final = tuple[Transcript, float, Verdict | None]  # transcript, STT ms, end-of-turn verdict
# The answer is prepared this long before the end-of-turn silence runs out (about what NLU,
# the LLM's first clause and its speech take on 2 cores), not earlier: work started at a
# mid-sentence pause is wasted and slows the partial transcripts.
SPECULATION_LEAD_MS = 600


@dataclass(frozen=True)
class Decision:
    """What the silence so far allows, once the final pass is done (``failed``: it raised)."""

    transcript: Transcript
    stt_ms: float
    speculate: bool = False  # prepare the answer now (held back until the commit)
    commit: bool = False  # the turn has ended
    failed: bool = False


class Endpointer:
    """Per session: the transcription of the utterance the recorder holds, and its end.

    ``on_silence(unheard_ms)`` is the session's check, called when the final pass is ready
    and when frames stopped coming (``unheard_ms``: the time without frames).
    """

    def __init__(
        self,
        *,
        stt: SpeechToText,
        end_of_turn: EndOfTurn,
        recorder: UtteranceRecorder,
        emit: Emitter,
        partial_interval_ms: int,
        on_silence: Callable[[int], Coroutine[Any, Any, None]],
    ) -> None:
        self.stt, self.end_of_turn, self.recorder, self.emit = stt, end_of_turn, recorder, emit
        self.interval_s = partial_interval_ms / 1000
        self.on_silence = on_silence
        self.transcriber: StreamingTranscriber | None = None
        self.partial_task: asyncio.Task[None] | None = None
        self.final_task: asyncio.Task[Final] | None = None
        self.idle_check: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def begin(self) -> None:
        """An utterance has started: transcribe it as it grows."""
        self.transcriber = StreamingTranscriber(self.stt)
        self.partial_task = asyncio.create_task(self._partials())

    def restart(self) -> None:
        """Earlier speech was put before the utterance: transcribe it again as a whole."""
        self.transcriber = StreamingTranscriber(self.stt)

    def speech_resumed(self) -> None:
        """The speaker goes on: a final pass under way is stale."""
        if self.final_task is not None:
            self.final_task.cancel()
            self.final_task = None

    def paused(self) -> None:
        """A silent frame: from the second one on, the final pass runs (once per pause)."""
        if self.final_task is None and self.recorder.tracker.silence_ms >= 2 * FRAME_MS:
            self.final_task = asyncio.create_task(
                final_pass(self.transcriber, self.recorder.audio(), self.end_of_turn)
            )
            # frames may stop coming (a client that sent all it had): decide when it is ready
            self.final_task.add_done_callback(self._final_ready)

    def decide(self, unheard_ms: int = 0) -> Decision | None:
        """What the silence allows now; None until the final pass of this pause is done."""
        final = self.final_task
        if not self.recorder.recording or final is None or not final.done() or final.cancelled():
            return None  # checked again at the next frame, or when the final pass is done
        if final.exception() is not None:
            return Decision(Transcript(text=""), 0.0, commit=True, failed=True)
        transcript, stt_ms, verdict = final.result()
        needed = verdict.silence_ms if verdict is not None else 0
        silence_ms = self.recorder.tracker.silence_ms + unheard_ms
        if silence_ms < needed and (self.idle_check is None or self.idle_check.done()):
            self.idle_check = asyncio.create_task(self._when_frames_stop(needed))
        return Decision(
            transcript,
            stt_ms,
            speculate=silence_ms >= needed - SPECULATION_LEAD_MS,
            commit=silence_ms >= needed,
        )

    def end(self, audio: np.ndarray) -> asyncio.Task[Final]:
        """The utterance ends (``audio``): its final pass, the one under way or a new one."""
        final, transcriber = self.final_task, self.transcriber
        if self.partial_task is not None:
            self.partial_task.cancel()
        self.transcriber, self.final_task, self.partial_task = None, None, None
        return final or asyncio.create_task(final_pass(transcriber, audio))

    async def close(self) -> None:
        """Cancel whatever runs (session end)."""
        for task in (self.partial_task, self.final_task, self.idle_check, *self._tasks):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _final_ready(self, task: asyncio.Task[Final]) -> None:
        if task is self.final_task and not task.cancelled():
            self._background(self.on_silence(0))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _when_frames_stop(self, needed_ms: int) -> None:
        """A client that sent all it had sends no more silence: its absence counts as silence.

        While frames keep coming they measure the silence themselves; this only looks again.
        Frames are judged by when they were received, not processed: under load the VAD may
        lag behind frames that did come, and those are not an absence.
        """
        final, tracker = self.final_task, self.recorder.tracker
        while self.final_task is final and self.recorder.recording:
            wait_ms = max(needed_ms - tracker.silence_ms, 0)
            await asyncio.sleep(wait_ms / 1000 + 0.05)
            unheard_ms = int((time.monotonic() - self.recorder.last_frame_at) * 1000)
            if unheard_ms >= wait_ms and self.final_task is final:
                await self.on_silence(unheard_ms)
                return

    async def _partials(self) -> None:
        """While the user speaks: a partial transcript every ``partial_interval_ms``."""
        seen_voiced = -1
        next_pass = time.perf_counter() + self.interval_s
        while True:
            await asyncio.sleep(max(0.0, next_pass - time.perf_counter()))
            next_pass += self.interval_s
            if not self.recorder.recording or self.transcriber is None:
                return
            tracker = self.recorder.tracker
            if tracker.last_voiced_frame == seen_voiced or self.final_task is not None:
                continue  # nothing new said, or the speaker paused: the final pass runs
            if self.stt.busy():
                continue  # a final pass (or a stale one finishing) comes first
            seen_voiced = tracker.last_voiced_frame
            text = await self.transcriber.update(self.recorder.audio())
            if text:
                await self.emit(PartialTranscriptEvent(text=text))
            next_pass = max(next_pass, time.perf_counter())


async def final_pass(
    transcriber: StreamingTranscriber | None,
    audio: np.ndarray,
    end_of_turn: EndOfTurn | None = None,
) -> Final:
    """The end-of-turn pass, and the classifier's verdict when ``end_of_turn`` is given.

    It does not wait for a partial pass still running.
    """
    assert transcriber is not None
    started = time.perf_counter()
    transcript = await transcriber.finish(audio)
    stt_ms = (time.perf_counter() - started) * 1000
    verdict = None
    if end_of_turn is not None and transcript.text:
        verdict = await end_of_turn.judge(audio, transcript.text)
    return transcript, stt_ms, verdict
