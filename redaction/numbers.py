"""Card, social security and phone numbers among the digit runs of a transcript.

Each run (see ``redaction.spoken``) is searched for the longest windows of whole groups whose
digits are a card number (brand range, length, Luhn), a social security number (valid area,
group and serial) or a phone number (North American plan or ``+`` and a country code). The
layout people use for each decides without context (``4539 1488 0343 6467``, ``536-22-8147``,
``(415) 555-0132``); context words ("card", "social", "call me") let other layouts through.
Fractions after "point", digit counts and ascending or descending runs are never numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import phonenumbers

from redaction.spoken import Group, Run, number_runs
from redaction.text import luhn_valid

_CONTEXT = {
    "CREDIT_CARD": re.compile(
        r"\b(?:card|credit|debit|visa|master ?card|amex|american express|discover|cvv|cvc|"
        r"expir\w*)\b"
    ),
    "US_SSN": re.compile(r"\b(?:social|ssn|s\.? ?s\.? ?n|security number|taxpayer)\b"),
    "PHONE_NUMBER": re.compile(
        r"\b(?:call\w*|phone|cell|mobile|text|reach|dial|ring|fax|tel|telephone|whatsapp|"
        r"contact|line|area code|extension|(?:my|your|his|her|their|our)(?: \w+)? number)\b"
    ),
}
_BEFORE, _AFTER = 60, 30  # characters of context looked at around a number
_AMEX_LAYOUTS = {(4, 6, 5), (4, 6, 4)}
_PHONE_LAYOUTS = {(3, 3, 4), (1, 3, 3, 4), (3, 7), (1, 3, 7)}
_MIN_DIGITS, _MAX_DIGITS = 7, 19  # a local phone number, the longest card number
_ASCENDING = "0123456789" * 3


@dataclass(frozen=True)
class Found:
    """A number found in the text."""

    type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class _Window:
    """Consecutive groups of a run, as a candidate number."""

    groups: tuple[Group, ...]
    digits: str
    whole: bool  # the window is its whole run
    context: frozenset[str]  # the types whose context words surround it

    @property
    def spoken(self) -> bool:
        return any(g.spoken for g in self.groups)

    @property
    def layout(self) -> tuple[int, ...]:
        """Digits per cluster: spoken words run together unless punctuation parts them."""
        sizes: list[int] = []
        previous: Group | None = None
        for group in self.groups:
            if previous and previous.spoken and group.spoken and not group.separator.strip():
                sizes[-1] += len(group.digits)
            else:
                sizes.append(len(group.digits))
            previous = group
        return tuple(sizes)


def find_numbers(text: str) -> list[Found]:
    """Every card, social security and phone number in ``text``, in order."""
    lowered = text.lower()
    found = []
    for run in number_runs(text):
        if not run.decimal:
            found += _search(run, lowered)
    return found


def _search(run: Run, lowered: str) -> list[Found]:
    """Longest windows first, left to right; a found number's groups are used up."""
    found: list[Found] = []
    first = 0
    while first < len(run.groups):
        match = _longest(run, first, lowered)
        if match:
            last, number = match
            found.append(number)
            first = last + 1
        else:
            first += 1
    return found


def _longest(run: Run, first: int, lowered: str) -> tuple[int, Found] | None:
    """The longest number starting at group ``first``, and the index of its last group."""
    groups = run.groups
    start = groups[first].start
    before = _context(lowered[max(0, start - _BEFORE) : start])
    for last in range(min(len(groups), first + _MAX_DIGITS) - 1, first - 1, -1):
        window = groups[first : last + 1]
        digits = "".join(g.digits for g in window)
        if len(digits) < _MIN_DIGITS:
            return None
        if len(digits) > _MAX_DIGITS or _counting(window):
            continue
        start, end = window[0].start, window[-1].end
        context = before | _context(lowered[end : end + _AFTER])
        candidate = _Window(window, digits, len(window) == len(groups), context)
        plus = run.plus if first == 0 else None
        match = _classify(candidate, plus)
        if match:
            kind, score = match
            if kind == "PHONE_NUMBER" and plus is not None:
                start = plus
            elif kind == "PHONE_NUMBER" and start and lowered[start - 1] == "(":
                start -= 1
            return last, Found(kind, start, end, score)
    return None


def _context(text: str) -> frozenset[str]:
    """The types whose context words ``text`` holds."""
    return frozenset(kind for kind, words in _CONTEXT.items() if words.search(text))


def _classify(window: _Window, plus: int | None) -> tuple[str, float] | None:
    for check in (_card, _ssn, _phone):
        result = check(window, plus)
        if result:
            return result
    return None


def _card(window: _Window, plus: int | None) -> tuple[str, float] | None:
    digits = window.digits
    if plus is not None or not 12 <= len(digits) <= 19 or _sequential(digits):
        return None
    in_context = "CREDIT_CARD" in window.context
    if _brand_length(digits) and luhn_valid(digits) and (in_context or _card_layout(window)):
        return "CREDIT_CARD", 1.0 if in_context else 0.95
    if in_context:  # after "card": a digit misheard, lost or doubled is still a card number
        return "CREDIT_CARD", 0.5
    return None


def _card_layout(window: _Window) -> bool:
    """How people read card numbers, and how speech-to-text writes them."""
    layout = window.layout
    return (
        len(layout) == 1
        or layout in _AMEX_LAYOUTS
        or set(layout[:-1]) == {4}  # 4539 1488 0343 6467, 6517 1218 7664 3772 50
        or len(set(layout)) == 1  # digit by digit, in pairs
        or min(layout) >= 3  # 4539 14880 343 6467: groups as the recogniser split them
        or window.spoken
    )


def _brand_length(digits: str) -> bool:
    """A current brand's range and one of its lengths (Visa, Mastercard, Amex, Discover)."""
    length, head = len(digits), int(digits[:6])
    if digits[0] == "4":
        return length in (13, 16, 19)
    if 510000 <= head <= 559999 or 222100 <= head <= 272099:
        return length == 16
    if digits[:2] in ("34", "37"):
        return length == 15
    if digits.startswith(("6011", "65")) or 644000 <= head <= 649999:
        return 16 <= length <= 19
    return False


def _ssn(window: _Window, plus: int | None) -> tuple[str, float] | None:
    digits = window.digits
    in_context = "US_SSN" in window.context
    if plus is not None or len(digits) not in (8, 9):
        return None
    if _sequential(digits) and not (in_context and len(digits) == 9):  # "my social is 123..."
        return None
    valid = len(digits) == 9 and _valid_ssn(digits)
    if in_context:  # one digit misheard or lost is still redacted
        return "US_SSN", 0.95 if valid else 0.5
    separators = {g.separator for g in window.groups[1:]}  # one kind: 536-22-8147
    if valid and window.layout == (3, 2, 4) and separators in ({"-"}, {" "}, {"."}):
        return "US_SSN", 0.85
    return None


def _valid_ssn(digits: str) -> bool:
    """Area not 000, 666 or 9xx; group not 00; serial not 0000."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _phone(window: _Window, plus: int | None) -> tuple[str, float] | None:
    digits, layout = window.digits, window.layout
    in_context = "PHONE_NUMBER" in window.context
    if plus is not None or digits.startswith("00"):
        international = digits if plus is not None else digits[2:]
        return ("PHONE_NUMBER", 0.9) if _possible(international) else None
    if _sequential(digits):
        return None
    national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
    if len(national) == 10 and national[0] in "23456789" and national[3] in "23456789":
        if layout in _PHONE_LAYOUTS:
            return "PHONE_NUMBER", 0.85
        if in_context or (window.spoken and window.whole):
            return "PHONE_NUMBER", 0.8
        return None
    if 10 <= len(digits) <= 11 and digits[0] == "0" and digits[1] != "0":  # 020 7946 0958
        if in_context or (len(layout) >= 2 and 3 <= layout[0] <= 5):
            return "PHONE_NUMBER", 0.75
        return None
    if in_context and window.whole and 7 <= len(digits) <= 12:
        return "PHONE_NUMBER", 0.5  # a local number ("call me at 555-0134"), or one misheard
    return None


def _possible(digits: str) -> bool:
    """``+`` and these digits could be a phone number (country code, length)."""
    if not 8 <= len(digits) <= 15:
        return False
    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse("+" + digits)))
    except phonenumbers.NumberParseException:
        return False


def _counting(groups: tuple[Group, ...]) -> bool:
    """One, two, three, ... ten: numbers counted up or down, not a number read out."""
    values = [int(g.digits) for g in groups]
    steps = {b - a for a, b in pairwise(values)}
    return len(values) >= 5 and steps in ({1}, {-1})


def _sequential(digits: str) -> bool:
    """Counting up or down (1234567890, 987654321): said as a sequence, not a number."""
    return len(digits) >= 7 and (digits in _ASCENDING or digits in _ASCENDING[::-1])
