"""Decoding any common audio format to 16 kHz mono, and writing PCM16 WAV files."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from core.audio import SAMPLE_RATE
from core.errors import AudioError


def decode_audio(source: str | Path | bytes, *, max_seconds: float) -> np.ndarray:
    """Decode a file (or its bytes) of any format PyAV reads to float32 mono at 16 kHz.

    Decoding stops as soon as the audio runs past ``max_seconds``, so a huge upload costs
    no more than the limit. Every failure is an ``AudioError`` with a one-line reason.
    """
    import av  # PyAV, installed with faster-whisper

    data = source if isinstance(source, bytes) else _read(Path(source))
    if not data:
        raise AudioError("the audio file is empty", code="empty_audio")
    max_samples = int(max_seconds * SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("the file has no audio stream", code="not_audio")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    pieces.append(samples)
                    total += samples.size
                if total > max_samples:
                    raise AudioError(
                        f"the audio is longer than the maximum utterance of {max_seconds:g} s",
                        code="audio_too_long",
                    )
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError(f"the file is not readable audio ({exc})", code="not_audio") from exc
    audio = np.concatenate(pieces).astype(np.float32) / 32768.0 if pieces else np.zeros(0)
    if audio.size > max_samples:
        raise AudioError(
            f"the audio is longer than the maximum utterance of {max_seconds:g} s",
            code="audio_too_long",
        )
    if audio.size < SAMPLE_RATE // 10:
        raise AudioError("the audio holds less than 0.1 s of sound", code="empty_audio")
    return audio.astype(np.float32)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise AudioError(f"no such file: {path}", code="not_found") from exc
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise AudioError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable") from exc


def float_to_pcm16(audio: np.ndarray) -> bytes:
    """Float samples in [-1, 1] to little-endian PCM16 bytes."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """Little-endian PCM16 bytes to float32 samples in [-1, 1]."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: str | Path, pcm: bytes, sample_rate: int) -> None:
    """Write mono PCM16 bytes as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)


def rechunk(pieces: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """Split PCM16 pieces into chunks of at most ``max_bytes`` (kept even: whole samples)."""
    step = max(2, max_bytes - max_bytes % 2)
    for piece in pieces:
        for start in range(0, len(piece), step):
            yield piece[start : start + step]
