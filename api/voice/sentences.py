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
# Words that open a phrase ("caused | by the pull of the Moon"): a first sentence without
# a comma may be let out before one of them. "to" is left out: "ten to the eight".
_PHRASE_OPENERS = frozenset(
    [
        "by",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "into",
        "because",
        "which",
        "that",
        "when",
        "while",
        "and",
        "but",
        "or",
        "so",
        "as",
        "than",
        "through",
        "during",
        "about",
        "after",
        "before",
    ]
)
_WORD = re.compile(r"\S+")
_MARKUP = re.compile(r"[*_#`>|~]+|\[(\d+|[a-z0-9-]+)\]")
_BULLET = re.compile(r"(?m)^\s*(?:[-•]|\d+[.)])\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,!?;:])")
# Marks before the first word ("." the LLM opened with), but not the point of ".5 metres"
_LEADING_MARKS = re.compile(r"^(?:[\s,;:!?]|\.(?!\d))+")


def speakable(text: str) -> str:
    """Drop markdown, list bullets, citation brackets and marks before the first word."""
    plain = _MARKUP.sub("", _BULLET.sub("", text))
    return _LEADING_MARKS.sub("", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(plain.split())))


class SentenceSplitter:
    """Feed text pieces; get back each sentence once it is complete.

    Until the first piece is out, a clause ending in a comma, colon or semicolon after at
    least ``first_clause_words`` words is let out on its own, so speech starts sooner. With
    ``first_phrase_words`` (0: off), a first sentence with no such clause is let out before
    the first word that opens a phrase ("by", "of", "because", ...) once it has that many
    words: TTS then starts on "The tides on Earth are caused" while the LLM writes the rest.
    """

    def __init__(
        self, min_chars: int = 12, first_clause_words: int = 6, first_phrase_words: int = 0
    ) -> None:
        self.buffer = ""
        self.min_chars = min_chars  # very short "sentences" ("Yes.") join the next one
        self.first_clause_words = first_clause_words
        self.first_phrase_words = first_phrase_words
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
            if len(candidate) < self.min_chars:  # also a lone mark: nothing before it
                continue
            last_word = candidate.rsplit(maxsplit=1)[-1].lower().lstrip("(\"'[")
            if last_word in _ABBREVIATIONS:  # only a whole word: not "kilograms."
                continue
            if candidate[-1] in ",;:" and len(candidate.split()) < self.first_clause_words:
                continue
            return candidate, match.end()
        if not self.started and self.first_phrase_words:
            return self._first_phrase(start)
        return None

    def _first_phrase(self, start: int) -> tuple[str, int] | None:
        """The first sentence's opening words, up to a word that opens a phrase, if any."""
        text = self.buffer[start:]
        words = list(_WORD.finditer(text))
        if words and not text[-1].isspace():
            words.pop()  # the last word may still grow ("a" -> "about")
        for index in range(self.first_phrase_words, len(words)):
            before = words[index - 1].group()
            if (
                words[index].group().lower() in _PHRASE_OPENERS
                and before[-1].isalpha()  # not after a number or a mark ("3.0", "(")
                and not any(c.isdigit() for c in before)
            ):
                candidate = text[: words[index].start()].strip()
                if len(candidate) >= self.min_chars:
                    return candidate, start + words[index].start()
        return None

    def flush(self) -> str:
        """Whatever is left at the end of the stream."""
        rest, self.buffer = speakable(self.buffer), ""
        return rest
