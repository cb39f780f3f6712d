"""The output of one turn, held back until the turn is committed, then delivered in order.

The answer starts while the speaker may still go on (the end-of-turn silence has not yet
run out). Everything it produces waits in a queue; once the turn is committed a delivery
task sends it, audio paced to stay at most ``lead_ms`` ahead of real time. If the speaker
goes on instead, the turn is cancelled and nothing of it was ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from api import metrics
from api.voice.server_events import Emitter, ServerEvent, TurnEndEvent
from core.messages import Transcript


class Turn:
    """One answer: the task producing it (set by the owner) and this object's delivery task."""

    def __init__(
        self,
        turn_id: str,
        transcript: Transcript,
        speech_end: float,
        emit: Emitter,
        lead_ms: int,
        variant: str = "none",
    ) -> None:
        self.id, self.transcript, self.speech_end = turn_id, transcript, speech_end
        self.variant = variant  # the session's A/B arm (control, challenger) or none: a label
        self.out, self.lead_s = emit, lead_ms / 1000
        self.answer_task: asyncio.Task[None] | None = None
        self.committed = asyncio.Event()
        # events and (pcm, sample rate) audio chunks; None: no more output
        self.queue: asyncio.Queue[ServerEvent | tuple[bytes, int] | None] = asyncio.Queue()
        self.playback_started = 0.0
        self.playback_s = 0.0
        self.first_audio_at: float | None = None
        self.committed_at = 0.0
        self.settle_now = asyncio.Event()  # the user can no longer resume (session end)
        self.answered = False  # the answer is complete; it waits to be settled
        self.pcm = b""  # the user's utterance (16 kHz PCM16), set when the turn is committed
        self.delivery = asyncio.create_task(self._deliver())

    def emit(self, event: ServerEvent) -> None:
        """Queue an event."""
        self.queue.put_nowait(event)

    def emit_audio(self, pcm: bytes, sample_rate: int) -> None:
        """Queue an audio chunk."""
        self.queue.put_nowait((pcm, sample_rate))

    def finish(self) -> None:
        """No more output will come."""
        self.queue.put_nowait(None)

    def commit(self) -> None:
        """The speaker has finished: let the answer be heard."""
        self.committed_at = time.perf_counter()
        self.committed.set()

    @property
    def is_committed(self) -> bool:
        """Whether the answer may be (or is being) heard."""
        return self.committed.is_set()

    def playing(self) -> bool:
        """Committed, and still being produced, sent, or played at the client."""
        if not self.is_committed:
            return False
        if not self.delivery.done():
            return True
        return time.perf_counter() < self.playback_started + self.playback_s

    def heard_s(self) -> float:
        """About how much of the answer the user has heard so far (sent audio, real time)."""
        if self.first_audio_at is None:
            return 0.0
        return min(self.playback_s, time.perf_counter() - self.playback_started)

    def resumable(self, window_s: float, max_heard_s: float) -> bool:
        """Whether speech now continues the user's utterance rather than answering the answer.

        True while the answer plays, less than ``window_s`` after the commit, with at most
        ``max_heard_s`` of it heard.
        """
        return (
            self.playing()
            and not self.settle_now.is_set()
            and time.perf_counter() - self.committed_at < window_s
            and self.heard_s() <= max_heard_s
        )

    async def settled(self, window_s: float, max_heard_s: float) -> None:
        """Wait until the turn can no longer be merged with what the user says next."""
        while self.resumable(window_s, max_heard_s):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.settle_now.wait(), 0.05)

    async def cancel(self) -> None:
        """Stop generating and sending."""
        for task in (self.answer_task, self.delivery):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _deliver(self) -> None:
        await self.committed.wait()
        while (item := await self.queue.get()) is not None:
            if isinstance(item, tuple):
                await self._send_audio(*item)
            elif isinstance(item, TurnEndEvent):
                await self.out(self._measured(item))
            else:
                await self.out(item)

    async def _send_audio(self, pcm: bytes, sample_rate: int) -> None:
        now = time.perf_counter()
        if self.first_audio_at is None:
            self.first_audio_at = self.playback_started = now
        ahead = self.playback_s - (now - self.playback_started)
        if ahead > self.lead_s:
            await asyncio.sleep(ahead - self.lead_s)
        await self.out(pcm)
        self.playback_s += len(pcm) / 2 / sample_rate

    def _measured(self, end: TurnEndEvent) -> TurnEndEvent:
        """First audio and total as the client experiences them (output may have been held)."""
        measured: dict[str, float] = {}
        if self.first_audio_at is not None:
            measured["first_audio_ms"] = round((self.first_audio_at - self.speech_end) * 1000, 1)
        measured["total_ms"] = round((time.perf_counter() - self.speech_end) * 1000, 1)
        delivered = end.model_copy(update={"latency": end.latency.model_copy(update=measured)})
        metrics.turn_measured(
            delivered.latency.model_dump(exclude_none=True),
            end_of_turn_s=self.committed_at - self.speech_end,
            variant=self.variant,
        )
        return delivered
