"""Lossless FLAC for captured turns: 16 kHz mono PCM16 in, the same samples back out."""

from __future__ import annotations

import io

import numpy as np
import soundfile

from core.audio import SAMPLE_RATE


class FlacError(ValueError):
    """The bytes are not FLAC audio of the expected shape."""


def encode_flac(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """PCM16 little-endian mono bytes to FLAC bytes (level 5, bit-exact)."""
    if len(pcm) % 2:
        raise FlacError("PCM16 audio has an even number of bytes")
    samples = np.frombuffer(pcm, dtype="<i2")
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode_flac(data: bytes) -> tuple[bytes, int]:
    """FLAC bytes to PCM16 little-endian mono bytes and the sample rate."""
    try:
        samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise FlacError(f"not FLAC audio: {exc}") from exc
    if samples.shape[1] != 1:
        raise FlacError(f"expected mono, got {samples.shape[1]} channels")
    return samples[:, 0].astype("<i2").tobytes(), int(sample_rate)
