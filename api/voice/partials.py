"""Streaming transcription with the "local agreement" policy (as in whisper_streaming).

Each pass transcribes only the audio after the committed words; the words two successive
passes agree on are committed, so a pass costs the same however long the utterance grows.
Words are committed only once they lie ``MIN_TAIL_S`` behind the newest audio: the tiny
model needs seconds of context, and tails cut short come out garbled ("And so I all
America"). Utterances shorter than that are re-read whole, which costs about the same (the
encoder always sees a 30 s window).
"""

from __future__ import annotations

import re

import numpy as np

from api.voice.scheduler import Priority, get_scheduler, priority
from api.voice.stt import SpeechToText
from core.audio import SAMPLE_RATE
from core.messages import Transcript, Word

CONTEXT_WORDS = 12  # committed words given to Whisper as the prompt of the next pass
MIN_TAIL_S = 6.0
_NORMALIZE = re.compile(r"[^\w']+")


def _key(word: Word) -> str:
    return _NORMALIZE.sub("", word.text.lower())


def _shifted(words: list[Word], offset_s: float) -> list[Word]:
    return [
        w.model_copy(update={"start": w.start + offset_s, "end": w.end + offset_s}) for w in words
    ]


class StreamingTranscriber:
    """Partial and final transcripts of one growing utterance."""

    def __init__(self, stt: SpeechToText) -> None:
        self.stt = stt
        self.committed: list[Word] = []
        self.committed_until_s = 0.0
        self.tail: list[Word] = []
        self.logprobs: list[float] = []
        self.finishing = 0  # final passes running: a partial that ends meanwhile changes nothing

    @property
    def text(self) -> str:
        """Committed words, then the latest guess for the rest."""
        return " ".join(w.text for w in (*self.committed, *self.tail)).strip()

    async def _transcribe_tail(self, audio: np.ndarray) -> tuple[list[Word], Transcript]:
        offset = self.committed_until_s
        tail_audio = audio[int(offset * SAMPLE_RATE) :]
        if tail_audio.size < SAMPLE_RATE // 10:
            return [], Transcript(text="")
        context = " ".join(w.text for w in self.committed[-CONTEXT_WORDS:]) if CONTEXT_WORDS else ""
        result = await self.stt.transcribe_all(tail_audio, prompt=context or None)
        return _shifted(result.words, offset), result

    async def update(self, audio: np.ndarray) -> str:
        """One partial pass over ``audio`` (the whole utterance so far); returns the text.

        It may run alongside a final pass (which does not wait for it); then its words are
        only shown, not committed. Under load (``Scheduler.thin_partials``) the pass is skipped
        and "" returned: nothing new to show; the next pass covers the audio skipped.
        """
        if get_scheduler().thin_partials():
            get_scheduler().skipped_partials += 1
            return ""
        with priority(Priority.PARTIAL):
            words, result = await self._transcribe_tail(audio)
        if self.finishing:
            return " ".join(w.text for w in (*self.committed, *words)).strip()
        horizon = audio.size / SAMPLE_RATE - MIN_TAIL_S
        agreed = 0
        for previous, current in zip(self.tail, words, strict=False):
            if _key(previous) != _key(current) or current.end > horizon:
                break
            agreed += 1
        if agreed > 0:
            self.committed.extend(words[:agreed])
            self.committed_until_s = words[agreed - 1].end
            self.logprobs.append(result.avg_logprob)
        self.tail = words[agreed:]
        return self.text

    async def finish(self, audio: np.ndarray) -> Transcript:
        """The final transcript: committed words plus one last pass over the rest."""
        self.finishing += 1
        try:
            with priority(Priority.FINAL):  # before anyone's partial passes
                words, result = await self._transcribe_tail(audio)
        finally:
            self.finishing -= 1
        self.tail = words
        all_words = [*self.committed, *words]
        logprobs = [*self.logprobs, result.avg_logprob] if words else self.logprobs
        return Transcript(
            text=" ".join(w.text for w in all_words).strip(),
            words=all_words,
            avg_logprob=sum(logprobs) / len(logprobs) if logprobs else 0.0,
            duration_s=audio.size / SAMPLE_RATE,
        )
