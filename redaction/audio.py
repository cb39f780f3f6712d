"""Audio redaction: silence (or beep over) the words of the redacted spans.

Speech-to-text gives each word a time span; the transcript is those words joined. Each word
is found in the transcript in order, so a text entity maps to the words it overlaps and those
to samples. A word that cannot be found is given the gap between its neighbours, so an entity
there still silences it (fails closed). Word timings are approximate: a word's start moves
back to the pause before it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Literal

import numpy as np

from core.messages import Word
from redaction.text import Entity

TONE_HZ = 1_000
TONE_AMPLITUDE = 0.2  # of full scale: audible, not painful
FRAME_MS = 10  # resolution of the pause search
QUIET = 0.05  # a frame this much quieter than the loud frames is silent
WIDEN_MS = 300  # how far beyond the padding a range may grow to reach a pause
_SEARCH_AHEAD = 40  # characters a word may lie beyond the end of the previous one
_PUNCTUATION = re.compile(r"\W+")


def word_offsets(words: Sequence[Word], transcript: str) -> list[tuple[int, int, bool]]:
    """``(start, end, found)`` character span of each word in ``transcript``.

    Words are searched one after the other from the end of the previous one, exactly, then
    without punctuation and case. Words not found get the gap between their found neighbours.
    """
    lowered = transcript.lower()
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for word in words:
        span = _find(word.text.strip(), transcript, lowered, cursor)
        spans.append(span)
        if span:
            cursor = span[1]
    offsets = []
    for index, span in enumerate(spans):
        if span:
            offsets.append((span[0], span[1], True))
            continue
        before = next((s[1] for s in reversed(spans[:index]) if s), 0)
        after = next((s[0] for s in spans[index + 1 :] if s), len(transcript))
        offsets.append((before, after, False))
    return offsets


def _find(token: str, transcript: str, lowered: str, cursor: int) -> tuple[int, int] | None:
    limit = cursor + _SEARCH_AHEAD + len(token)
    for needle, haystack in ((token, transcript), (_PUNCTUATION.sub("", token).lower(), lowered)):
        if needle:
            at = haystack.find(needle, cursor, limit)
            if at >= 0:
                return at, at + len(needle)
    return None


def sample_spans(
    pcm: bytes,
    sample_rate: int,
    words: Sequence[Word],
    transcript: str,
    entities: Sequence[Entity],
    *,
    pad_ms: int = 150,
) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` sample ranges to blank: the words under ``redact`` entities.

    Each word is padded by ``pad_ms`` each side and clamped to the audio. Recognisers time a
    word's start late when the word before absorbs the pause between them, so the start
    moves on back to the quietest point within ``WIDEN_MS`` if that is silent; the end moves
    on only if no silence follows the word within the padding.
    """
    audio = _samples(pcm)
    pauses = _Pauses(audio, sample_rate)
    redacted = [e for e in entities if e.action == "redact"]
    pad = round(pad_ms * sample_rate / 1000)
    ranges = []
    for word, (start, end, found) in zip(words, word_offsets(words, transcript), strict=True):
        if found:
            hit = any(e.start < end and start < e.end for e in redacted)
        else:  # somewhere in the gap: silence it if an entity touches the gap
            hit = any(e.start <= end and start <= e.end for e in redacted)
        first = min(audio.size, max(0, math.floor(word.start * sample_rate)))
        last = min(audio.size, max(first, math.ceil(word.end * sample_rate)))
        if hit:
            ranges.append(
                (
                    pauses.before(max(0, first - pad)),
                    pauses.after(last, min(audio.size, last + pad)),
                )
            )
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if first >= last:
            continue
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _samples(pcm: bytes) -> np.ndarray:
    if len(pcm) % 2:
        raise ValueError("PCM16 audio has an even number of bytes")
    return np.frombuffer(pcm, dtype="<i2")


class _Pauses:
    """How loud each ``FRAME_MS`` frame is, as a share of the loud frames' level."""

    def __init__(self, audio: np.ndarray, sample_rate: int) -> None:
        self.frame = max(1, sample_rate * FRAME_MS // 1000)
        self.steps = WIDEN_MS // FRAME_MS
        count = audio.size // self.frame
        frames = np.abs(audio[: count * self.frame].astype(np.float32)).reshape(count, -1)
        level = frames.mean(axis=1)
        loud = float(np.percentile(level, 95)) if count else 0.0
        self.level = level / loud if loud > 0 else np.ones(count)

    def before(self, sample: int) -> int:
        """``sample``, or the end of the quietest silent frame within ``WIDEN_MS`` before it."""
        end = min(sample // self.frame, self.level.size)
        window = self.level[max(0, end - self.steps) : end][::-1]  # nearest first
        if not window.size or window.min() >= QUIET:
            return sample
        return min(sample, (end - int(window.argmin())) * self.frame)

    def after(self, word_end: int, sample: int) -> int:
        """``sample``, or the start of the quietest silent frame within ``WIDEN_MS`` after it.

        It moves only if no silence follows ``word_end`` before ``sample``.
        """
        start, end = -(-word_end // self.frame), -(-sample // self.frame)
        window = self.level[end : end + self.steps]
        if (self.level[start:end] < QUIET).any() or not window.size or window.min() >= QUIET:
            return sample
        return max(sample, (end + int(window.argmin())) * self.frame)


def redact_audio(
    pcm: bytes,
    sample_rate: int,
    words: Sequence[Word],
    transcript: str,
    entities: Sequence[Entity],
    *,
    pad_ms: int = 150,
    mode: Literal["silence", "tone"] = "silence",
) -> bytes:
    """PCM16 mono with the redacted words silenced or replaced by a 1 kHz tone; same length."""
    audio = _samples(pcm).copy()
    for first, last in sample_spans(pcm, sample_rate, words, transcript, entities, pad_ms=pad_ms):
        if mode == "tone":
            t = np.arange(first, last) / sample_rate
            audio[first:last] = TONE_AMPLITUDE * 32767 * np.sin(2 * np.pi * TONE_HZ * t)
        else:
            audio[first:last] = 0
    return audio.tobytes()
