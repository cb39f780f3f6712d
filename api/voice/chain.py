"""One turn of the voice chain: STT -> NLU -> actions -> streamed LLM -> streamed TTS.

The LLM and TTS overlap: sentence 1 is being spoken while sentence 2 is being written.
Closing the event stream (barge-in) cancels both, so nothing stale leaks into a later turn.
The conversation is only read: the caller records the turn once the answer was delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import cast

import numpy as np

from api.voice.answer_cache import CachedAnswer, knowledge_version, spoken
from api.voice.conversation import Conversation
from api.voice.events import (
    AudioOut,
    ResponseDelta,
    SourcesFound,
    TranscriptReady,
    TurnEvent,
    TurnFinished,
    Understood,
)
from api.voice.facts.answer import GuardedAnswer, Said, guard_for, guarded_sentences
from api.voice.facts.runtime import transcript_fixer
from api.voice.models import Models
from api.voice.prompts import system_prompt
from api.voice.router import ActionRequest, RouteResult
from api.voice.scheduler import Priority, get_scheduler, priority
from api.voice.threads import run_in_thread
from core.errors import AudioError
from core.messages import Latency, NLUResult, Transcript
from core.settings import VoiceName

_DONE = object()


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


class VoiceChain:
    """Runs turns against the shared models; keeps no per-session state itself."""

    def __init__(self, models: Models) -> None:
        self.models = models
        self.settings = models.settings
        self.fixer = (  # shared by every session; built once per process
            transcript_fixer(self.settings.data_dir) if self.settings.correct_transcripts else None
        )
        self.caches = models.caches.serve(models)  # none for a copy with other models
        self._kb_seen: tuple[int, int] = (0, -1)
        self._kb_version = ""

    def new_conversation(self) -> Conversation:
        """Empty history sized to the model's context."""
        return Conversation(
            context_tokens=self.settings.llm_context_tokens,
            reply_tokens=self.settings.llm_max_tokens,
        )

    async def run_turn(
        self,
        *,
        conversation: Conversation,
        voice: VoiceName,
        audio: np.ndarray | None = None,
        transcript: Transcript | None = None,
        nlu: NLUResult | None = None,
        speech_end: float | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """Answer one utterance, given as audio or as an already computed transcript.

        ``nlu`` may be passed when it was computed ahead, on a stable partial transcript.
        ``speech_end`` (a ``time.perf_counter`` value) is when the user's voiced audio ended;
        ``first_audio_ms`` is measured from it. Raises ``AudioError`` when no speech is heard.
        """
        started = time.perf_counter()
        speech_end = started if speech_end is None else speech_end
        latency = Latency()
        if transcript is None:
            if audio is None:
                raise ValueError("run_turn needs audio or a transcript")
            with priority(Priority.FINAL):
                transcript = await self.models.stt.transcribe_all(audio)
            latency.stt_ms = _ms(started)
        text = transcript.text.strip()
        if not text:
            raise AudioError("no speech was recognised in the audio", code="no_speech")
        if self.fixer is not None:  # misheard science words, corrected against the facts
            before = conversation.turns[-1][0] if conversation.turns else ""
            fixer, heard = self.fixer, text  # tens of ms on a long utterance: off the loop
            fixed, changes = await run_in_thread(lambda: fixer.correct(heard, context=before))
            if changes:
                text = fixed
                transcript = transcript.model_copy(update={"text": fixed})
        yield TranscriptReady(transcript)

        # A question that opens its conversation may have been answered before (answer_cache).
        responses, cache_key, cached = self.caches.responses, None, None
        if responses is not None and not conversation.turns:
            cache_key = responses.key(text, voice, self._knowledge())
            cached = await responses.get(cache_key) if cache_key else None

        step = time.perf_counter()
        if cached is not None:
            nlu = cached.nlu
        elif nlu is None:
            nlu = await self.models.nlu.understand(text)
            latency.nlu_ms = _ms(step)
        yield Understood(nlu)

        if cached is not None:
            route = RouteResult(passages=cached.passages)
        else:
            route = await self.models.router.route(ActionRequest(text=text, nlu=nlu))
            latency.rag_ms = round(route.elapsed_ms, 1)
        yield SourcesFound(route.passages)

        events: asyncio.Queue[TurnEvent | object] = asyncio.Queue()
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        said_all: list[Said] = []  # the sentences of the answer

        async def say(said: Said) -> None:
            # Shown with digits and units; spoken with the numbers in words.
            said_all.append(said)
            await events.put(ResponseDelta(said.text + " "))
            await sentences.put(said.speech)

        async def write() -> None:
            step = time.perf_counter()
            try:
                if cached is not None:
                    for said in cached.sentences:
                        await say(said)
                    return
                if route.answer:
                    pieces: AsyncIterator[str] = _single(route.answer)
                else:
                    messages = conversation.messages(
                        system_prompt(nlu, route), text, self.models.llm.count_tokens
                    )
                    pieces = self.models.llm.generate(
                        messages, max_tokens=self.settings.llm_max_tokens
                    )
                answer = GuardedAnswer(
                    guard_for(route, text),
                    max_sentences=self.settings.max_answer_sentences,
                    first_clause_words=self.settings.first_clause_words,
                    first_phrase_words=self.settings.first_phrase_words,
                )
                # The LLM writes the first clause: it goes before anyone's partial passes.
                slot: contextlib.AbstractAsyncContextManager[None] = (
                    contextlib.nullcontext()
                    if route.answer
                    else get_scheduler().slot("llm", Priority.FIRST_CLAUSE)
                )
                async with slot:
                    async for said in guarded_sentences(pieces, answer):
                        await say(said)
            finally:
                if not route.answer and cached is None:
                    latency.llm_ms = _ms(step)
                await sentences.put(None)

        async def speak() -> None:
            level = Priority.FIRST_CLAUSE  # the first sentence: then the rest of the answer
            while (sentence := await sentences.get()) is not None:
                step = time.perf_counter()
                tts, cache = self.models.tts, self.caches.speech
                # closed at once on barge-in, so its scheduler slot is given back at once
                async with contextlib.aclosing(spoken(cache, tts, sentence, voice, level)) as pcms:
                    async for pcm in pcms:
                        if latency.first_audio_ms is None:
                            latency.first_audio_ms = _ms(speech_end)
                        await events.put(AudioOut(pcm, self.models.tts.sample_rate))
                latency.tts_ms = round(latency.tts_ms + _ms(step), 1)
                level = Priority.ANSWER

        tasks = [asyncio.create_task(write()), asyncio.create_task(speak())]
        watcher = asyncio.create_task(_signal_when_done(tasks, events))
        try:
            while (event := await events.get()) is not _DONE:
                yield cast(TurnEvent, event)
            for task in tasks:  # re-raise an LLM or TTS failure
                if not task.cancelled() and task.exception() is not None:
                    raise cast(BaseException, task.exception())
        finally:
            for task in (*tasks, watcher):
                task.cancel()
            for task in (*tasks, watcher):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

        response = " ".join(said.text for said in said_all)
        if cache_key and responses is not None and cached is None and not route.abandoned:
            await responses.put(cache_key, CachedAnswer(nlu, route.passages, said_all))
        latency.total_ms = _ms(speech_end)
        yield TurnFinished(response=response, latency=latency, passages=route.passages)

    def _knowledge(self) -> str:
        """The knowledge base's fingerprint, recomputed only when its passages change."""
        passages = self.models.kb.passages
        if self._kb_seen != (id(passages), len(passages)):
            self._kb_seen = (id(passages), len(passages))
            self._kb_version = knowledge_version(passages)
        return self._kb_version


async def _single(text: str) -> AsyncIterator[str]:
    yield text


async def _signal_when_done(tasks: list[asyncio.Task[None]], events: asyncio.Queue[object]) -> None:
    """Put the end marker once both stages finish, or at once when one of them fails."""
    await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    if any(t.done() and not t.cancelled() and t.exception() for t in tasks):
        for task in tasks:
            task.cancel()
    await asyncio.wait(tasks)
    await events.put(_DONE)
