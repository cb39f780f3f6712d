"""Cutting a token stream into speakable sentences, so TTS can start on the first one."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a line break) followed by white space, unless the period
# belongs to a number ("3.14") or a common abbreviation.
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_FIRST_END = re.compile(r"(?<=[.!?,;:])[\"')\]]*\s+|\n+")
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
    """Feed text pieces; get back each sentence once it is complete.

    Until the first piece is out, a clause ending in a comma, colon or semicolon after at
    least ``first_clause_words`` words is let out on its own, so speech starts sooner.
    """

    def __init__(self, min_chars: int = 12, first_clause_words: int = 6) -> None:
        self.buffer = ""
        self.min_chars = min_chars  # very short "sentences" ("Yes.") join the next one
        self.first_clause_words = first_clause_words
        self.started = False

    def feed(self, piece: str) -> list[str]:
        """Add a piece of generated text; return the sentences it completed."""
        self.buffer += piece
        sentences: list[str] = []
        start = 0
        while (found := self._next_end(start)) is not None:
            sentence, start = found
            sentences.append(sentence)
            self.started = True
        self.buffer = self.buffer[start:]
        return [s for s in (speakable(s) for s in sentences) if s]

    def _next_end(self, start: int) -> tuple[str, int] | None:
        """The next complete sentence (or first clause) from ``start``, and where it ends."""
        pattern = _END if self.started else _FIRST_END
        for match in pattern.finditer(self.buffer, start):
            candidate = self.buffer[start : match.start()].strip()
            if len(candidate) < self.min_chars or candidate.lower().endswith(_ABBREVIATIONS):
                continue
            if candidate[-1] in ",;:" and len(candidate.split()) < self.first_clause_words:
                continue
            return candidate, match.end()
        return None

    def flush(self) -> str:
        """Whatever is left at the end of the stream."""
        rest, self.buffer = speakable(self.buffer), ""
        return rest
