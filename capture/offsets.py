"""Character offsets of the original transcript carried over to its redacted text.

Each redacted span becomes a ``[TYPE]`` placeholder of another length, so everything after it
shifts; a position inside a redacted span maps to the placeholder's start (or, for the end of
a span, its end). Stored offsets (review spans, word timings) are into the redacted text, the
only text that is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.messages import Word
from redaction.audio import word_offsets
from redaction.text import Entity


def placeholder(entity: Entity) -> str:
    """What replaces a redacted span."""
    return f"[{entity.type}]"


def to_redacted(position: int, entities: Sequence[Entity], *, end: bool = False) -> int:
    """``position`` in the original text → the same place in the redacted text."""
    delta = 0
    for entity in sorted((e for e in entities if e.action == "redact"), key=lambda e: e.start):
        if position < entity.start or (end and position == entity.start):
            break
        if position < entity.end:
            start = entity.start + delta
            return start + len(placeholder(entity)) if end else start
        delta += len(placeholder(entity)) - (entity.end - entity.start)
    return position + delta


def word_times(
    words: Sequence[Word], transcript: str, entities: Sequence[Entity]
) -> list[list[float]]:
    """``[start_char, end_char, start_s, end_s]`` per word, offsets into the redacted text."""
    timed = []
    for word, (start, end, _) in zip(words, word_offsets(words, transcript), strict=True):
        first, last = to_redacted(start, entities), to_redacted(end, entities, end=True)
        timed.append([first, last, round(word.start, 3), round(word.end, 3)])
    return timed
