"""Speech-to-text: the base class and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

import numpy as np

from api.voice.registry import Registry
from api.voice.scheduler import get_scheduler
from core.audio import SAMPLE_RATE
from core.messages import Transcript
from core.settings import Settings


class SpeechToText(ABC):
    """Turns 16 kHz mono float32 audio into text with word timestamps."""

    @abstractmethod
    def transcribe(
        self, audio: np.ndarray, *, hotwords: list[str] | None = None, prompt: str | None = None
    ) -> AsyncIterator[Transcript]:
        """Yield one ``Transcript`` per recognised segment, as soon as each is decoded.

        ``prompt`` is text said just before ``audio`` (context for a continuation).
        """

    def busy(self) -> bool:
        """Whether a transcription is running now (partials yield to it)."""
        return False

    async def transcribe_all(
        self, audio: np.ndarray, *, hotwords: list[str] | None = None, prompt: str | None = None
    ) -> Transcript:
        """The whole utterance as one transcript, in a slot of the process's scheduler.

        The caller's ``scheduler.priority`` decides how soon the pass starts under load.
        """
        async with get_scheduler().slot("stt"):
            segments = [
                segment
                async for segment in self.transcribe(audio, hotwords=hotwords, prompt=prompt)
            ]
        words = [word for segment in segments for word in segment.words]
        logprob = sum(s.avg_logprob for s in segments) / len(segments) if segments else 0.0
        return Transcript(
            text=" ".join(s.text for s in segments if s.text).strip(),
            words=words,
            avg_logprob=logprob,
            duration_s=audio.size / SAMPLE_RATE,
        )


registry: Registry[SpeechToText] = Registry("stt")
registry.register("faster_whisper", "api.voice.backends.stt_faster_whisper:FasterWhisperSTT")


def load_stt(settings: Settings) -> SpeechToText:
    """The configured speech-to-text backend, loaded."""
    backend = registry.load(settings.stt_backend)
    return backend(settings)  # type: ignore[call-arg]
