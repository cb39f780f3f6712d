"""Runs of digits in a transcript, however speech-to-text wrote them.

``4539 1488``, ``4539-1488``, ``4.5.3.9``, ``4, 5, 3, 9``, ``4,539,148``, ``four five three
nine``, ``forty five thirty nine``, ``one two three forty five``, ``double five``, ``oh``, ``one
eight hundred``, ``seven hundred four``, ``one oh eight dash four four``: each run is a
list of groups, each with its digits and its span in the original text, so a match found on the
digits maps back to exact character offsets. Decimals, ordinals and symbols end a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
      (?P<dotted>\d+(?:\.\d+){2,})       # 415.555.0132: digit groups joined by dots
    | (?P<thousands>\d{1,3}(?:,\d{3})+)(?![\d,]\d)  # 4,639,233,146,814: one group
    | (?P<blocker>
          \d*\.\d+                       # 9.81: a decimal
        | \d+[^\W\d]\w*                  # 221B, 4th, 5G
        | [^\s\w.,()\-–]                 # ^ × / : = and the like
      )
    | (?P<digits>\d+)
    | (?P<word>[^\W\d][\w'’]*)
    """,
    re.VERBOSE,
)
_SEPARATOR = re.compile(r"[ \t,.()\-–]{0,6}")  # what may stand between groups of one run
_UNITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "nought": "0",
    "naught": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
_TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
_REPEAT = {"double": 2, "triple": 3}
_JOINERS = {"then", "dash", "hyphen"}  # said between the groups of one number


@dataclass(frozen=True)
class Group:
    """Digits said or written as one piece, with their span and what came before them."""

    digits: str
    start: int
    end: int
    spoken: bool
    separator: str  # text between the previous group and this one ("" for the first)


@dataclass(frozen=True)
class Run:
    """Consecutive groups joined only by separators (spaces, dashes, dots, commas)."""

    groups: tuple[Group, ...]
    plus: int | None  # offset of a "+" or "plus" just before the first group
    decimal: bool  # follows "point": the digits of a fraction


@dataclass(frozen=True)
class _Token:
    kind: str  # "digits", "word", "blocker"
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "blocker"
        if kind == "dotted":  # split into digit groups; the dots are separators
            offset = match.start()
            for part in match.group().split("."):
                tokens.append(_Token("digits", part, offset, offset + len(part)))
                offset += len(part) + 1
        elif kind == "thousands":  # how speech-to-text may write digits read out in one go
            digits = match.group().replace(",", "")
            tokens.append(_Token("digits", digits, match.start(), match.end()))
        else:
            tokens.append(_Token(kind, match.group(), match.start(), match.end()))
    return tokens


class _Scanner:
    """Reads the tokens of one text left to right."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)

    def word(self, at: int, gap: str = " -") -> str:
        """The lower-case word at ``at``, if only characters of ``gap`` precede it."""
        if at >= len(self.tokens) or self.tokens[at].kind != "word":
            return ""
        between = self.text[self.tokens[at - 1].end : self.tokens[at].start]
        return self.tokens[at].text.lower() if set(between) <= set(gap) else ""

    def spoken(self, index: int) -> tuple[str, int] | None:
        """The digits said by the words from ``index`` on, and the index after them."""
        first = self.tokens[index].text.lower()
        if first in _REPEAT and self.word(index + 1) in _UNITS:
            return _UNITS[self.word(index + 1)] * _REPEAT[first], index + 2
        if first in _UNITS and self.tokens[index].text != "O":  # "O" is oxygen
            digits, end = _UNITS[first], index + 1
        elif first in _TEENS:
            digits, end = _TEENS[first], index + 1
        elif first in _TENS:
            unit = self.word(index + 1)
            if unit in _UNITS and _UNITS[unit] != "0":
                digits, end = _TENS[first] + _UNITS[unit], index + 2
            else:
                digits, end = _TENS[first] + "0", index + 1
        else:
            return None
        if self.word(end, " ") != "hundred":
            return digits, end
        # "five hundred fifty five", "one hundred and two", "seven hundred four, eleven": 555,
        # 102, 704 11; but "eight hundred five five five" is 800 555 (more digits follow the
        # unit) and "twenty one hundred" is 2100
        conjoined = self.word(end + 1) == "and"
        rest_at = end + 2 if conjoined else end + 1
        rest = self.spoken(rest_at) if self.word(rest_at) not in ("", "oh", *_REPEAT) else None
        if rest and len(digits) == 1:
            alone = self.word(rest[1], " ") not in (*_UNITS, *_REPEAT)
            if len(rest[0]) == 2 or (len(rest[0]) == 1 and (conjoined or alone)):
                return digits + rest[0].zfill(2), rest[1]
        return digits + "00", end + 1

    def runs(self) -> list[Run]:
        """Every run, in order."""
        runs: list[Run] = []
        groups: list[Group] = []
        plus: int | None = None  # a "+" or "plus" just seen
        point = joined = False  # just after "point" / "then"
        start: tuple[int | None, bool] = (None, False)  # plus and point of the open run
        index = 0
        while index < len(self.tokens):
            token = self.tokens[index]
            spoken = self.spoken(index) if token.kind == "word" else None
            if token.kind == "digits" or spoken:
                digits, after = (token.text, index + 1) if spoken is None else spoken
                gap = self.text[groups[-1].end : token.start] if groups else ""
                if groups and not (joined or _SEPARATOR.fullmatch(gap)):
                    runs.append(Run(tuple(groups), *start))
                    groups = []
                if not groups:
                    start, gap = (plus, point), ""
                end = self.tokens[after - 1].end
                groups.append(Group(digits, token.start, end, spoken is not None, gap))
                plus, point, joined, index = None, False, False, after
                continue
            word = token.text.lower()
            if word in _JOINERS and groups and not joined:  # "four one five, then five five five"
                joined, index = True, index + 1
                continue
            if groups:
                runs.append(Run(tuple(groups), *start))
                groups = []
            plus = token.start if word in ("+", "plus") else None
            point, joined, index = word == "point", False, index + 1
        if groups:
            runs.append(Run(tuple(groups), *start))
        return runs


def number_runs(text: str) -> list[Run]:
    """Every run of digit groups in ``text``, in order."""
    return _Scanner(text).runs()
