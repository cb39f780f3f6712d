"""One live voice session: VAD, partial transcripts, end of turn, streamed answers, barge-in.

Transport-free: the WebSocket route feeds ``on_audio`` and ``on_message`` and passes a
``send`` callable taking a JSON-able dict (a text frame) or bytes (an audio frame).

End of turn: once the speaker falls silent, the final transcription and the end-of-turn
classifier start at once, so both are ready when the silence has lasted as long as the
classifier asks (``endpointing.EndOfTurn``). If they speak again first, they are dropped and
the utterance goes on. If the user goes on just after a turn was committed, before hearing
much of the answer, the answer is dropped and both parts become one utterance (a merge).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import numpy as np

from api.voice.audio import SAMPLE_RATE, float_to_pcm16, pcm16_to_float
from api.voice.capture_sink import CaptureSink
from api.voice.chain import VoiceChain
from api.voice.endpointing import EndOfTurn, Verdict
from api.voice.events import AudioOut, ResponseDelta, SourcesFound, TurnFinished, Understood
from api.voice.partials import StreamingTranscriber
from api.voice.protocol import Consent, EndOfSpeech, Feedback, Interrupt, ProtocolError, Start
from api.voice.turn import Turn
from api.voice.turn_detector import TurnTiming
from api.voice.vad import FRAME_MS, SileroVAD, SpeechTracker
from core.errors import VoiceServiceError
from core.messages import Latency, NLUResult, Transcript
from core.settings import Settings

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any] | bytes], Awaitable[None]]
PREROLL_S = 0.3  # audio kept from before the first voiced frame
Final = tuple[Transcript, float, Verdict | None]  # transcript, STT ms, end-of-turn verdict
# The answer is prepared this long before the end-of-turn silence runs out (about what NLU,
# the LLM's first clause and its speech take on 2 cores), not earlier: work started at a
# mid-sentence pause is wasted and slows the partial transcripts.
SPECULATION_LEAD_MS = 600


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
        self.chain, self.settings, self.send, self.capture = chain, settings, send, capture
        self.session_id = uuid.uuid4().hex
        # Who the captures belong to: the user a verified token names, else the client's own
        # identifier (the page keeps a random one), else this session alone.
        self.user_token = user or start.user or f"anonymous:{self.session_id}"
        self.stt, self.arm = chain.models.stt_for(self.user_token)  # kept for the session
        self.turn_index = 0
        self.voice = start.voice or settings.default_voice
        self.consent = start.consent
        self.region = start.region or settings.default_region
        self.conversation = chain.new_conversation()
        self.vad = vad.stream()
        self.tracker = SpeechTracker(threshold=settings.vad_threshold)
        self.end_of_turn = EndOfTurn(chain.models.turn, TurnTiming.from_settings(settings))
        self.resume_s = settings.resume_window_ms / 1000, settings.resume_max_heard_ms / 1000
        self.preroll: list[np.ndarray] = []
        self.utterance: list[np.ndarray] | None = None
        self.utterance_samples = 0
        self.transcriber: StreamingTranscriber | None = None
        self.partial_task: asyncio.Task[None] | None = None
        self.final_task: asyncio.Task[Final] | None = None
        self.speech_end = 0.0
        self.turn: Turn | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle_check: asyncio.Task[None] | None = None
        self.last_frame_at = time.monotonic()  # when the last frame was received
        self.feedback: dict[str, str | None] = {}  # turn id -> thumbs_up/thumbs_down/None
        self.captured: set[str] = set()  # turns handed to the capture pipeline
        # Consent is recorded only when it changes, a limited number of times; a change over
        # the limit applies to this session at once and is recorded when the session ends.
        self.consent_recorded: bool | None = None
        self.consent_changes = 0
        self.consent_deferred = self.consent_limit_said = False
        if self.consent:
            self._record_consent(True)

    # ---- input ---------------------------------------------------------------------------

    async def on_audio(self, pcm: bytes) -> None:
        """One binary frame of PCM16 mono 16 kHz."""
        self.last_frame_at = time.monotonic()  # received: it may wait for the VAD a while
        audio = pcm16_to_float(pcm)
        probabilities = await asyncio.to_thread(self.vad.push, audio)
        self._keep(audio)
        for probability in probabilities:
            voiced = self.tracker.update(probability)
            if voiced:
                self.speech_end = time.perf_counter()
                await self._on_voiced()
            elif self.utterance is not None:
                await self._on_silence()
        limit = self.settings.max_utterance_s * SAMPLE_RATE
        if self.utterance is not None and self.utterance_samples > limit:
            await self._error("utterance_too_long", "the utterance reached the maximum length")
            await self._commit_turn()

    async def on_message(self, message: Any) -> None:
        """A validated control message (``start`` and ``stop`` are handled by the route)."""
        if isinstance(message, EndOfSpeech):
            if self.utterance is None:
                await self._error("no_speech", "no speech was heard before end_of_speech")
            else:
                await self._commit_turn()
        elif isinstance(message, Interrupt):
            await self.interrupt()
        elif isinstance(message, Consent):
            self.consent = message.granted  # a revocation erases what was captured
            if not self._record_consent(message.granted) and not self.consent_limit_said:
                self.consent_limit_said = True  # once: the client may go on sending
                raise ProtocolError(
                    "rate_limited", "too many consent changes; the last is kept at the end"
                )
        elif isinstance(message, Feedback):
            if message.turn_id not in self.feedback:
                raise ProtocolError("unknown_turn", "feedback names a turn of another session")
            self.feedback[message.turn_id] = message.value
            if message.turn_id in self.captured and self.capture is not None:
                self.capture.feedback(message.turn_id, message.value)
        elif isinstance(message, Start):
            raise ProtocolError("already_started", "the session has already started")

    def _record_consent(self, granted: bool, *, limited: bool = True) -> bool:
        """Hand a change of consent to the capture pipeline; False when deferred by a limit."""
        if self.capture is None or granted == self.consent_recorded:
            self.consent_deferred = False
            return True
        if limited and (
            self.consent_changes >= self.settings.consent_changes_per_session
            or not self.capture.consent_allowed(self.user_token)
        ):
            self.consent_deferred = True
            return False
        self.capture.consent_changed(self.user_token, granted, "session")
        self.consent_recorded, self.consent_deferred = granted, False
        self.consent_changes += 1
        return True

    def _keep(self, audio: np.ndarray) -> None:
        if self.utterance is not None:
            self.utterance.append(audio)
            self.utterance_samples += audio.size
            return
        self.preroll.append(audio)
        while sum(a.size for a in self.preroll[1:]) > PREROLL_S * SAMPLE_RATE:
            self.preroll.pop(0)

    def _audio(self) -> np.ndarray:
        return np.concatenate(self.utterance) if self.utterance else np.zeros(0, np.float32)

    # ---- turn taking ---------------------------------------------------------------------

    async def _on_voiced(self) -> None:
        if self.turn is not None and not self.turn.is_committed:
            await self.turn.cancel()  # the speaker went on: drop the answer nobody heard
            self.turn = None
        elif self.answer_playing() and self.tracker.voiced_run_ms >= self.settings.barge_in_min_ms:
            await self._resume_or_interrupt()
        if self.utterance is None:
            self.utterance, self.preroll = self.preroll, []
            self.utterance_samples = sum(a.size for a in self.utterance)
            self.transcriber = StreamingTranscriber(self.stt)
            self.partial_task = asyncio.create_task(self._partials())
        if self.final_task is not None:  # that final transcript is stale now
            self.final_task.cancel()
            self.final_task = None

    async def _on_silence(self) -> None:
        if self.final_task is None and self.tracker.silence_ms >= 2 * FRAME_MS:
            self.final_task = asyncio.create_task(
                self._final(self.transcriber, self._audio(), self.end_of_turn)
            )
            # frames may stop coming (a client that sent all it had): decide when it is ready
            self.final_task.add_done_callback(self._final_ready)
        await self._end_of_turn()

    def _final_ready(self, task: asyncio.Task[Final]) -> None:
        if task is self.final_task and not task.cancelled():
            self._background(self._end_of_turn())

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end_of_turn(self, unheard_ms: int = 0) -> None:
        """Prepare the answer and commit the turn, each once the silence allows.

        Runs at every silent frame, when the final transcript is ready, and when frames
        stopped coming (``unheard_ms``: time without frames, which counts as silence).
        """
        final = self.final_task
        if self.utterance is None or final is None or not final.done() or final.cancelled():
            return  # checked again at the next frame, or when the final pass is done
        if final.exception() is not None:
            await self._commit_turn()  # reports the failure
            return
        transcript, stt_ms, verdict = final.result()
        needed = verdict.silence_ms if verdict is not None else 0
        silence_ms = self.tracker.silence_ms + unheard_ms
        if silence_ms < needed and (self._idle_check is None or self._idle_check.done()):
            self._idle_check = asyncio.create_task(self._when_frames_stop(needed))
        speculate = silence_ms >= needed - SPECULATION_LEAD_MS
        if (
            speculate
            and transcript.text
            and not self.answer_playing()
            and (self.turn is None or self.turn.is_committed)
        ):
            self.turn = self._start_turn(transcript, stt_ms)  # output held back until commit
        if silence_ms >= needed:
            await self._commit_turn()

    async def _when_frames_stop(self, needed_ms: int) -> None:
        """A client that sent all it had sends no more silence: its absence counts as silence.

        While frames keep coming they measure the silence themselves; this only looks again.
        Frames are judged by when they were received, not processed: under load the VAD may
        lag behind frames that did come, and those are not an absence.
        """
        final = self.final_task
        while self.final_task is final and self.utterance is not None:
            wait_ms = max(needed_ms - self.tracker.silence_ms, 0)
            await asyncio.sleep(wait_ms / 1000 + 0.05)
            unheard_ms = int((time.monotonic() - self.last_frame_at) * 1000)
            if unheard_ms >= wait_ms and self.final_task is final:
                await self._end_of_turn(unheard_ms=unheard_ms)
                return

    async def _partials(self) -> None:
        """While the user speaks: a partial transcript every ``partial_interval_ms``."""
        interval = self.settings.partial_interval_ms / 1000
        seen_voiced = -1
        next_pass = time.perf_counter() + interval
        while True:
            await asyncio.sleep(max(0.0, next_pass - time.perf_counter()))
            next_pass += interval
            if self.utterance is None or self.transcriber is None:
                return
            if self.tracker.last_voiced_frame == seen_voiced or self.final_task is not None:
                continue  # nothing new said, or the speaker paused: the final pass runs
            if self.stt.busy():
                continue  # a final pass (or a stale one finishing) comes first
            seen_voiced = self.tracker.last_voiced_frame
            text = await self.transcriber.update(self._audio())
            if text:
                await self.send({"type": "partial_transcript", "text": text})
            next_pass = max(next_pass, time.perf_counter())

    @staticmethod
    async def _final(
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

    async def _commit_turn(self) -> None:
        """End the utterance; let its answer (already under way, or started now) be heard."""
        audio, final, transcriber = self._audio(), self.final_task, self.transcriber
        if self.partial_task is not None:
            self.partial_task.cancel()
        # The utterance ends now, before any await: frames that arrive meanwhile start the next.
        self.utterance, self.transcriber, self.final_task, self.partial_task = (
            None,
            None,
            None,
            None,
        )
        if final is None:
            final = asyncio.create_task(self._final(transcriber, audio))
        try:
            transcript, stt_ms, _ = await final
        except Exception:
            log.exception("final transcription failed")
            await self._error("stt_failed", "the speech could not be transcribed")
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
        self.feedback[turn.id] = None
        await self.send({"type": "transcript", "turn_id": turn.id, "text": transcript.text})
        turn.commit()

    # ---- answering -----------------------------------------------------------------------

    def _start_turn(self, transcript: Transcript, stt_ms: float) -> Turn:
        turn = Turn(
            uuid.uuid4().hex[:16],
            transcript,
            self.speech_end,
            self.send,
            self.settings.playback_lead_ms,
        )
        turn.generator = asyncio.create_task(self._answer(turn, stt_ms))
        return turn

    def answer_playing(self) -> bool:
        """Whether a committed answer is being generated, sent or played at the client."""
        return self.turn is not None and self.turn.playing()

    async def _answer(self, turn: Turn, stt_ms: float) -> None:
        """Run the chain for ``turn``, queueing its output in protocol order."""
        started_audio = False
        sources: list[str] = []
        nlu = NLUResult()
        try:
            async for event in self.chain.run_turn(
                conversation=self.conversation,
                voice=self.voice,
                transcript=turn.transcript,
                speech_end=turn.speech_end,
            ):
                if isinstance(event, Understood):
                    nlu = event.nlu
                    turn.emit({"type": "nlu", **event.nlu.model_dump(exclude={"confidence"})})
                elif isinstance(event, SourcesFound):
                    sources = [p.id for p in event.passages]
                elif isinstance(event, ResponseDelta):
                    turn.emit({"type": "response_delta", "text": event.text})
                elif isinstance(event, AudioOut):
                    if not started_audio:
                        started_audio = True
                        turn.emit(
                            {
                                "type": "audio_start",
                                "turn_id": turn.id,
                                "sample_rate": event.sample_rate,
                                "format": "pcm16le",
                            }
                        )
                    turn.emit_audio(event.pcm, event.sample_rate)
                elif isinstance(event, TurnFinished):
                    if started_audio:
                        turn.emit({"type": "audio_end", "turn_id": turn.id})
                    latency = event.latency.model_copy(update={"stt_ms": round(stt_ms, 1)})
                    turn.emit(
                        {
                            "type": "turn_end",
                            "turn_id": turn.id,
                            "response": event.response,
                            "sources": sources,
                            "latency": latency.model_dump(),
                        }
                    )
                    await turn.committed.wait()  # history holds only answers that were heard
                    turn.answered = True
                    await turn.settled(*self.resume_s)  # and not merged into the next utterance
                    self.conversation.add(turn.transcript.text, event.response)
                    self._capture(turn, nlu, event.response, latency)
        except VoiceServiceError as exc:
            turn.emit({"type": "error", "code": exc.code, "message": str(exc)})
        except Exception:
            log.exception("turn %s failed", turn.id)
            turn.emit(
                {
                    "type": "error",
                    "code": "internal_error",
                    "message": "the answer could not be produced",
                }
            )
        finally:
            turn.finish()

    def _capture(self, turn: Turn, nlu: NLUResult, response: str, latency: Latency) -> None:
        """Hand the answered turn to the capture pipeline, if the user consents right now."""
        if not self.consent or self.capture is None:
            return
        self.capture.record(
            turn_id=turn.id,
            user_token=self.user_token,
            region=self.region,
            conversation_id=self.session_id,
            turn_index=self.turn_index,
            transcript=turn.transcript,
            response=response,
            nlu=nlu,
            latency=latency,
            pcm=turn.pcm,
            feedback=self.feedback.get(turn.id),
            models=self.arm.record(),
        )
        self.captured.add(turn.id)
        self.turn_index += 1

    async def _resume_or_interrupt(self) -> None:
        """The user speaks over the answer: a cut-off utterance goes on, or a barge-in."""
        turn = self.turn
        if turn is None or self.utterance is None or not turn.resumable(*self.resume_s):
            await self.interrupt()
            return
        self.turn = None
        await turn.cancel()  # before it settles: nothing of it reaches history or capture
        self.feedback.pop(turn.id, None)
        await self.send({"type": "interrupted", "turn_id": turn.id, "resumed": True})
        # One utterance from the start of the first part: transcribed again as a whole.
        self.utterance.insert(0, pcm16_to_float(turn.pcm))
        self.utterance_samples += len(turn.pcm) // 2
        self.transcriber = StreamingTranscriber(self.stt)
        log.debug("turn %s resumed: merged with what follows", turn.id)

    async def interrupt(self) -> None:
        """Stop the answer being heard (generation and sending) and say so."""
        if self.turn is None or not self.answer_playing():
            return
        turn, self.turn = self.turn, None
        await turn.cancel()
        await self.send({"type": "interrupted", "turn_id": turn.id})

    async def close(self) -> None:
        """Cancel whatever is running (session end or server shutdown)."""
        for task in (self.partial_task, self.final_task, self._idle_check, *self._tasks):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.turn is not None:
            await self._settle(self.turn)
            await self.turn.cancel()
        if self.consent_deferred:  # the user's last word on consent is kept
            self._record_consent(self.consent, limited=False)

    @staticmethod
    async def _settle(turn: Turn) -> None:
        """At session end an answered turn can no longer be resumed: hand it over now."""
        turn.settle_now.set()
        if turn.generator is not None and turn.answered:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(turn.generator), 1.0)

    async def _error(self, code: str, message: str) -> None:
        await self.send({"type": "error", "code": code, "message": message})
