"""Cutting a token stream into speakable sentences, so TTS can start on the first one."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a line break) followed by white space, unless the period
# belongs to a number ("3.14") or a common abbreviation.
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_ABBREVIATIONS = (
    "e.g.",
    "i.e.",
    "dr.",
    "mr.",
    "mrs.",
    "ms.",
    "vs.",
    "etc.",
    "approx.",
    "no.",
    "st.",
)
_MARKUP = re.compile(r"[*_#`>|~]+|\[(\d+|[a-z0-9-]+)\]")
_BULLET = re.compile(r"(?m)^\s*(?:[-•]|\d+[.)])\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,!?;:])")


def speakable(text: str) -> str:
    """Drop markdown, list bullets and citation brackets a voice would read out."""
    plain = _MARKUP.sub("", _BULLET.sub("", text))
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(plain.split()))


class SentenceSplitter:
    """Feed text pieces; get back each sentence once it is complete."""

    def __init__(self, min_chars: int = 12) -> None:
        self.buffer = ""
        self.min_chars = min_chars  # very short "sentences" ("Yes.") join the next one

    def feed(self, piece: str) -> list[str]:
        """Add a piece of generated text; return the sentences it completed."""
        self.buffer += piece
        sentences: list[str] = []
        start = 0
        for match in _END.finditer(self.buffer):
            candidate = self.buffer[start : match.start()].strip()
            if len(candidate) < self.min_chars or candidate.lower().endswith(_ABBREVIATIONS):
                continue
            sentences.append(candidate)
            start = match.end()
        self.buffer = self.buffer[start:]
        return [s for s in (speakable(s) for s in sentences) if s]

    def flush(self) -> str:
        """Whatever is left at the end of the stream."""
        rest, self.buffer = speakable(self.buffer), ""
        return rest
