"""Helpers that make test audio."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from api.voice.audio import pcm16_to_float

if TYPE_CHECKING:
    from api.voice.models import Models


def resample_to_16k(pcm: bytes, sample_rate: int) -> np.ndarray:
    """PCM16 at any rate to float32 at 16 kHz (linear interpolation: fine for STT checks)."""
    audio = pcm16_to_float(pcm)
    if sample_rate == 16_000:
        return audio
    duration = audio.size / sample_rate
    target = np.linspace(0, audio.size - 1, int(duration * 16_000))
    return np.interp(target, np.arange(audio.size), audio).astype(np.float32)


def word_set(text: str) -> set[str]:
    """Lower-case words without punctuation."""
    return {w.strip(".,!?;:'\"").lower() for w in text.split() if w.strip(".,!?;:'\"")}


async def spoken(
    models: Models, text: str, *, voice: str = "professional", silence_s: float = 0.0
) -> np.ndarray:
    """``text`` said by the bundled voice at 16 kHz, then ``silence_s`` of silence."""
    pcm = b"".join([c async for c in models.tts.synthesize(text, voice)])  # type: ignore[arg-type]
    speech = resample_to_16k(pcm, models.tts.sample_rate)
    return np.concatenate([speech, np.zeros(int(silence_s * 16_000), np.float32)])


def trimmed(audio: np.ndarray, keep_s: float = 0.1, level: float = 0.01) -> np.ndarray:
    """``audio`` cut ``keep_s`` after its last sample louder than ``level`` (speech's end)."""
    loud = np.flatnonzero(np.abs(audio) > level)
    end = (loud[-1] + 1 if loud.size else 0) + int(keep_s * 16_000)
    return np.concatenate([audio[:end], np.zeros(max(0, end - audio.size), np.float32)])
