"""One live voice session: the coordinator of turn taking, answers and barge-in.

Transport-free: the WebSocket route feeds ``on_audio`` and ``on_message`` and passes a
``send`` callable taking a text frame's JSON object or bytes (an audio frame); every event
goes through ``server_events.Emitter``, the one place they are serialized.

The parts, each its own class: the ``UtteranceRecorder`` (frames, VAD, the utterance's
audio), the ``Endpointer`` (partial and final transcripts, and the silence the end of turn
needs, from ``endpointing.EndOfTurn``), ``produce_answer`` with its ``Turn`` (the answer,
held back until the turn is committed), and the ``CaptureHandOver`` (consent, feedback,
captures). This class decides what happens between them:

End of turn: once the speaker falls silent, the final transcription and the end-of-turn
classifier start at once, so both are ready when the silence has lasted as long as the
classifier asks. If they speak again first, they are dropped and the utterance goes on. If
the user goes on just after a turn was committed, before hearing much of the answer, the
answer is dropped and both parts become one utterance (a merge).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from api.voice.answer import Answered, produce_answer
from api.voice.audio import float_to_pcm16
from api.voice.capture_sink import CaptureSink
from api.voice.chain import VoiceChain
from api.voice.endpointer import Endpointer
from api.voice.endpointing import EndOfTurn
from api.voice.handover import CaptureHandOver
from api.voice.protocol import Consent, EndOfSpeech, Feedback, Interrupt, ProtocolError, Start
from api.voice.recorder import UtteranceRecorder
from api.voice.server_events import Emitter, InterruptedEvent, Send, TranscriptEvent
from api.voice.turn import Turn
from api.voice.turn_detector import TurnTiming
from api.voice.vad import SileroVAD
from core import logs
from core.messages import Transcript
from core.settings import Settings

log = logging.getLogger(__name__)


class VoiceSession:
    """State of one conversation; all methods run on the event loop."""

    def __init__(
        self,
        *,
        chain: VoiceChain,
        vad: SileroVAD,
        capture: CaptureSink | None,
        settings: Settings,
        send: Send,
        start: Start,
        user: str | None = None,
    ) -> None:
        self.chain, self.settings = chain, settings
        self.emit = Emitter(send)
        self.session_id = uuid.uuid4().hex
        self.voice = start.voice or settings.default_voice
        self.conversation = chain.new_conversation()
        self.resume_s = settings.resume_window_ms / 1000, settings.resume_max_heard_ms / 1000
        self.turn: Turn | None = None
        # Who the captures belong to: the user a verified token names, else the client's own
        # identifier (the page keeps a random one), else this session alone.
        user_token = user or start.user or f"anonymous:{self.session_id}"
        # The STT version (registry champion, or an A/B arm's) is this session's for its life.
        self.stt, self.arm = chain.models.stt_for(user_token)
        self.recorder = UtteranceRecorder(
            vad, threshold=settings.vad_threshold, max_s=settings.max_utterance_s
        )
        self.endpointer = Endpointer(
            stt=self.stt,
            end_of_turn=EndOfTurn(chain.models.turn, TurnTiming.from_settings(settings)),
            recorder=self.recorder,
            emit=self.emit,
            partial_interval_ms=settings.partial_interval_ms,
            on_silence=self._end_of_turn,
        )
        self.handover = CaptureHandOver(
            capture,
            settings,
            session_id=self.session_id,
            user_token=user_token,
            region=start.region or settings.default_region,
            consent=start.consent,
            voice=self.voice,
            models=self.arm.record(),
        )

    @property
    def in_utterance(self) -> bool:
        """Whether the user is in the middle of an utterance (its end not yet decided)."""
        return self.recorder.recording

    # ---- input ---------------------------------------------------------------------------

    async def on_audio(self, pcm: bytes) -> None:
        """One binary frame of PCM16 mono 16 kHz."""
        for probability in await self.recorder.push(pcm):
            if self.recorder.hear(probability):
                await self._on_voiced()
            elif self.recorder.recording:
                self.endpointer.paused()
                await self._end_of_turn()
        if self.recorder.too_long():
            await self.emit.error("utterance_too_long", "the utterance reached the maximum length")
            await self._commit_turn()

    async def on_message(self, message: Any) -> None:
        """A validated control message (``start`` and ``stop`` are handled by the route)."""
        if isinstance(message, EndOfSpeech):
            if not self.recorder.recording:
                await self.emit.error("no_speech", "no speech was heard before end_of_speech")
            else:
                await self._commit_turn()
        elif isinstance(message, Interrupt):
            await self.interrupt()
        elif isinstance(message, Consent):
            self.handover.set_consent(message.granted)
        elif isinstance(message, Feedback):
            self.handover.rate(message.turn_id, message.value)
        elif isinstance(message, Start):
            raise ProtocolError("the session has already started", code="already_started")

    # ---- turn taking ---------------------------------------------------------------------

    async def _on_voiced(self) -> None:
        if self.turn is not None and not self.turn.is_committed:
            await self.turn.cancel()  # the speaker went on: drop the answer nobody heard
            self.turn = None
        elif (
            self.answer_playing()
            and self.recorder.tracker.voiced_run_ms >= self.settings.barge_in_min_ms
        ):
            await self._resume_or_interrupt()
        if self.recorder.start():
            self.endpointer.begin()
        self.endpointer.speech_resumed()

    async def _end_of_turn(self, unheard_ms: int = 0) -> None:
        """Prepare the answer and commit the turn, each once the silence allows.

        Runs at every silent frame, when the final transcript is ready, and when frames
        stopped coming (``unheard_ms``: time without frames, which counts as silence).
        """
        decision = self.endpointer.decide(unheard_ms)
        if decision is None:
            return
        if decision.failed:
            await self._commit_turn()  # reports the failure
            return
        if (
            decision.speculate
            and decision.transcript.text
            and not self.answer_playing()
            and (self.turn is None or self.turn.is_committed)
        ):
            self.turn = self._start_turn(decision.transcript, decision.stt_ms)  # held back
        if decision.commit:
            await self._commit_turn()

    async def _commit_turn(self) -> None:
        """End the utterance; let its answer (already under way, or started now) be heard."""
        # The utterance ends now, before any await: frames that arrive meanwhile start the next.
        audio = self.recorder.stop()
        final = self.endpointer.end(audio)
        try:
            transcript, stt_ms, _ = await final
        except Exception:
            log.exception("final transcription failed")
            await self.emit.error("stt_failed", "the speech could not be transcribed")
            return
        if (
            self.turn is not None
            and not self.turn.is_committed
            and self.turn.transcript != transcript
        ):
            await self.turn.cancel()
            self.turn = None
        if not transcript.text or self.answer_playing():
            return  # noise, or speech over an answer that was not interrupted (a cough)
        if self.turn is None or self.turn.is_committed:
            self.turn = self._start_turn(transcript, stt_ms)
        turn = self.turn
        turn.pcm = float_to_pcm16(audio)
        self.handover.turn_heard(turn.id)
        await self.emit(TranscriptEvent(turn_id=turn.id, text=transcript.text))
        turn.commit()

    # ---- answering -----------------------------------------------------------------------

    def _start_turn(self, transcript: Transcript, stt_ms: float) -> Turn:
        turn_id = uuid.uuid4().hex[:16]
        with logs.bound(turn_id=turn_id):  # the turn's tasks log its id
            turn = Turn(
                turn_id,
                transcript,
                self.recorder.speech_end,
                self.emit,
                self.settings.playback_lead_ms,
                variant=self.arm.variant or "none",
            )
            turn.answer_task = asyncio.create_task(
                produce_answer(
                    turn,
                    chain=self.chain,
                    conversation=self.conversation,
                    voice=self.voice,
                    stt_ms=stt_ms,
                    resume_s=self.resume_s,
                    settled=self._settled,
                )
            )
        return turn

    def _settled(self, answered: Answered) -> None:
        self.handover.turn_settled(
            answered.turn.id,
            transcript=answered.turn.transcript,
            response=answered.response,
            nlu=answered.nlu,
            latency=answered.latency,
            pcm=answered.turn.pcm,
        )

    def answer_playing(self) -> bool:
        """Whether a committed answer is being generated, sent or played at the client."""
        return self.turn is not None and self.turn.playing()

    async def _resume_or_interrupt(self) -> None:
        """The user speaks over the answer: a cut-off utterance goes on, or a barge-in."""
        turn = self.turn
        if turn is None or not self.recorder.recording or not turn.resumable(*self.resume_s):
            await self.interrupt()
            return
        self.turn = None
        await turn.cancel()  # before it settles: nothing of it reaches history or capture
        self.handover.turn_dropped(turn.id)
        await self.emit(InterruptedEvent(turn_id=turn.id, resumed=True))
        # One utterance from the start of the first part: transcribed again as a whole.
        self.recorder.prepend(turn.pcm)
        self.endpointer.restart()
        log.debug("turn %s resumed: merged with what follows", turn.id)

    async def interrupt(self) -> None:
        """Stop the answer being heard (generation and sending) and say so."""
        if self.turn is None or not self.answer_playing():
            return
        turn, self.turn = self.turn, None
        await turn.cancel()
        await self.emit(InterruptedEvent(turn_id=turn.id))

    async def close(self) -> None:
        """Cancel whatever is running (session end or server shutdown)."""
        await self.endpointer.close()
        if self.turn is not None:
            await _settle(self.turn)
            await self.turn.cancel()
        self.handover.close()


async def _settle(turn: Turn) -> None:
    """At session end an answered turn can no longer be resumed: hand it over now."""
    turn.settle_now.set()
    if turn.answer_task is not None and turn.answered:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(turn.answer_task), 1.0)
