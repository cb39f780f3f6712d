"""Quality rules, each a setting: a turn that fails one is left out and counted under it.

Rules on the row come first (they cost nothing), then rules on the audio, then near-duplicates
among what is left. Each turn is counted once, under the first rule it fails.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from math import gcd

import numpy as np
import soundfile
from rapidfuzz import fuzz, process
from scipy.signal import resample_poly

from capture.flac import FlacError
from core.audio import SAMPLE_RATE
from core.settings import Settings
from learning.dataset.source import Turn

RULES = (
    "not_speech_tag",
    "empty_text",
    "redacted",
    "low_confidence",
    "too_short",
    "too_long",
    "clipping",
    "speech_ratio",
    "near_duplicate",
)
PLACEHOLDER = re.compile(r"\[[A-Z_]{1,32}\]")  # what redaction puts in place of a span
FULL_SCALE = 32_767
_PUNCTUATION = re.compile(r"[^\w\s']")


@dataclass
class Clip:
    """A turn's audio as exported: 16 kHz mono, and its FLAC."""

    samples: np.ndarray  # int16
    flac: bytes

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.samples.size / SAMPLE_RATE


def encode(samples: np.ndarray) -> bytes:
    """16 kHz mono int16 samples to FLAC."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    """Float audio at ``rate`` resampled to 16 kHz (polyphase filter)."""
    if rate == SAMPLE_RATE:
        return audio
    common = gcd(SAMPLE_RATE, rate)
    return np.asarray(resample_poly(audio, SAMPLE_RATE // common, rate // common), dtype=np.float32)


def load_clip(data: bytes) -> Clip:
    """Stored FLAC to a clip; already 16 kHz mono (as captured), its bytes are kept as they are."""
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise FlacError(f"not FLAC audio: {exc}") from exc
    if rate == SAMPLE_RATE and samples.shape[1] == 1:
        return Clip(samples[:, 0].copy(), data)
    mono = samples.astype(np.float32).mean(axis=1) / 32_768
    resampled = np.clip(to_16k(mono, int(rate)) * 32_768, -32_768, FULL_SCALE).astype(np.int16)
    return Clip(resampled, encode(resampled))


def row_rule(settings: Settings, turn: Turn) -> str | None:
    """The first rule on the turn's row it fails, or None."""
    if "not_speech" in turn.tags:
        return "not_speech_tag"
    if not turn.text.strip():
        return "empty_text"
    if settings.dataset_redacted_turns == "drop" and PLACEHOLDER.search(turn.text):
        return "redacted"
    # a reviewer's approval or correction vouches for the text whatever STT thought of it
    if not turn.reviewed and (turn.unsure or turn.avg_logprob < settings.dataset_min_avg_logprob):
        return "low_confidence"
    return None


def speech_ratio(samples: np.ndarray) -> float:
    """The share of the clip Silero VAD (the model bundled in faster-whisper) hears as speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if samples.size == 0:
        return 0.0
    audio = samples.astype(np.float32) / 32_768
    options = VadOptions(min_silence_duration_ms=100, speech_pad_ms=0)
    spans = get_speech_timestamps(audio, options)
    return sum(span["end"] - span["start"] for span in spans) / samples.size


def audio_rule(settings: Settings, clip: Clip) -> str | None:
    """The first rule on the audio it fails, or None."""
    if clip.duration_s < settings.dataset_min_duration_s:
        return "too_short"
    if clip.duration_s > settings.dataset_max_duration_s:
        return "too_long"
    clipped = np.count_nonzero(np.abs(clip.samples.astype(np.int32)) >= FULL_SCALE)
    if clipped / max(1, clip.samples.size) > settings.dataset_max_clipped_ratio:
        return "clipping"
    if speech_ratio(clip.samples) < settings.dataset_min_speech_ratio:
        return "speech_ratio"
    return None


def normalized(text: str) -> str:
    """Lower case, no punctuation, single spaces: how near-duplicates are compared."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def near_duplicates(turns: Iterable[Turn], similarity: float) -> set[str]:
    """Turn ids that repeat an earlier turn of the same user (rapidfuzz ratio ≥ similarity)."""
    kept: dict[str, list[str]] = {}
    repeated: set[str] = set()
    for turn in sorted(turns, key=lambda t: (t.timestamp, t.turn_id)):
        text = normalized(turn.text)
        earlier = kept.setdefault(turn.user_id, [])
        match = process.extractOne(text, earlier, scorer=fuzz.ratio, score_cutoff=similarity * 100)
        if match is not None:
            repeated.add(turn.turn_id)
        else:
            earlier.append(text)
    return repeated
