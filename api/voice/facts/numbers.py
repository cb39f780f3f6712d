"""Every number an answer states, with the unit after it when there is one.

Reads digits ("299,792,458", "-273.15"), scientific notation as models write it
("6.626 × 10^-34", "6.626e-34", "6.626 times ten to the minus 34", "10 to the power of -34"),
scales ("150 million") and number words ("two hundred and six").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.voice.facts.quantities import UNITS, FactUnit, unit_named
from api.voice.units import parse_number

_WORD = (
    r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million|billion|trillion|point"
)
_EXPONENT = (
    r"(?:\s*(?:×|x|\*|times)\s*(?:10|ten)\s*(?:\^|\*\*|to the(?: power of)?)\s*"
    r"(?P<exp>(?:minus|negative|plus|[-−+])?\s*(?:\d+|(?:(?:" + _WORD + r")[\s-]*)+)))"
)
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>(?:(?:minus|negative)\s+)?(?:[-−]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?"
    r"|(?:(?:" + _WORD + r")(?:[\s-]+(?:and[\s-]+)?)?)+))"
    r"(?:" + _EXPONENT + r")?"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SYMBOLS = sorted((s for s in UNITS if UNITS[s].dimension), key=len, reverse=True)
_UNIT_AFTER = re.compile(
    r"\s*(?P<unit>°C|°F|"
    + "|".join(
        re.escape(w)
        for w in sorted(
            {w for u in UNITS.values() if u.dimension for w in (*u.words, u.symbol)},
            key=len,
            reverse=True,
        )
    )
    + r")(?![\w/^])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StatedNumber:
    """A number in a text, where it is, and the unit named right after it (if known)."""

    value: float
    unit: FactUnit | None
    start: int
    end: int
    text: str


def _word_value(text: str) -> float | None:
    text = re.sub(r"^(?:minus|negative)\s+", "-", text.strip().lower())
    negative = text.startswith("-")
    value = parse_number(text.lstrip("-").strip(" -"))
    if value is None:
        return None
    return -value if negative else value


def _value(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("−", "-").strip()
    try:
        return float(cleaned)
    except ValueError:
        return _word_value(cleaned)


def stated_numbers(text: str) -> list[StatedNumber]:
    """The numbers ``text`` states, in order. "a"/"an" alone are not numbers."""
    found: list[StatedNumber] = []
    for match in _NUMBER.finditer(text):
        raw = match.group("num").strip().rstrip("-").strip()
        if not raw or raw.lower() in {"point", "and"}:
            continue
        value = _value(raw)
        if value is None:
            continue
        exponent = match.group("exp")
        if exponent:
            power = _value(
                re.sub(r"^(?:minus|negative)\s*", "-", exponent.strip().lower()).replace("plus", "")
            )
            if power is None or abs(power) > 300:  # past what a float holds: not a quantity
                continue
            value *= 10.0 ** int(power)
        if match.group("scale"):
            value *= _SCALES[match.group("scale").lower()]
        end = match.start() + len(match.group(0).rstrip(" -"))
        unit = None
        after = _UNIT_AFTER.match(text, end)
        if after:
            word = after.group("unit")
            unit = {"°C": UNITS["degC"], "°F": UNITS["degF"]}.get(word) or _unit_symbol(word)
            if unit is not None:
                end = after.end()
        found.append(StatedNumber(value, unit, match.start(), end, text[match.start() : end]))
    return found


def _unit_symbol(word: str) -> FactUnit | None:
    if word in UNITS and UNITS[word].dimension:
        return UNITS[word]
    return unit_named(word)
