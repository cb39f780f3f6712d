"""Numbers and units as people write them (the transcript) and say them (the TTS text).

``display(6.62607015e-34, "J s")`` is ``"6.62607015 × 10^-34 J s"``; ``verbalize`` turns such a
sentence into "six point six two six zero seven zero one five times ten to the minus
thirty-four joule seconds" for the voice. Digits after the point are read one by one, as
people read constants.
"""

from __future__ import annotations

import math
import re

from api.voice.facts.quantities import UNITS


def _words(text: str) -> list[str]:
    return text.split()


_ONES = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_TENS = _words("_ _ twenty thirty forty fifty sixty seventy eighty ninety")
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]


def integer_words(n: int) -> str:
    """``342`` -> ``"three hundred forty-two"``."""
    if n < 0:
        return "minus " + integer_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + integer_words(rest))
    for size, name in _SCALES:
        if n >= size:
            rest = n % size
            head = integer_words(n // size) + " " + name
            return head if rest == 0 else head + " " + integer_words(rest)
    return str(n)  # pragma: no cover - every int is covered above


def decimal_words(text: str) -> str:
    """A decimal numeral as written (``"-6.626"``, ``"299,792,458"``) read aloud."""
    text = text.replace(",", "").replace("−", "-")
    sign = ""
    if text.startswith("-"):
        sign, text = "minus ", text[1:]
    whole, _, fraction = text.partition(".")
    spoken = integer_words(int(whole or "0"))
    if fraction:
        spoken += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return sign + spoken


def significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant figures."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def format_number(value: float, digits: int | None = None) -> str:
    """The value as the transcript shows it: ``6.62607015 × 10^-34``, ``299,792,458``, ``0.5``.

    ``digits`` rounds to that many significant figures; without it the shortest form of the
    float is kept (the source's digits).
    """
    if digits is not None:
        value = significant(value, digits)
    if value == 0:
        return "0"
    text = f"{value:.15g}"
    mantissa, _, exp = text.partition("e")
    exponent = int(exp) if exp else math.floor(math.log10(abs(value)))
    if -4 <= exponent < 12:
        if exp:  # .15g wrote an exponent for 1e12 > |value| >= 1e15? never; kept for safety
            mantissa = f"{value:.12f}".rstrip("0").rstrip(".")
        whole, _, fraction = mantissa.partition(".")
        whole_text = f"{int(whole):,}" if abs(int(whole)) >= 10000 else whole
        return whole_text + ("." + fraction if fraction else "")
    if not exp:
        mantissa = f"{value / 10.0**exponent:.14g}"
    return f"{mantissa} × 10^{exponent}"


def unit_words(unit: str, value: float | None = None) -> str:
    """A unit symbol as spoken.

    ``"m^3 kg^-1 s^-2"`` -> "cubic metres per kilogram per second squared"; the last word
    before "per" is plural unless the value is exactly one.
    """
    if not unit:
        return ""
    known = UNITS.get(unit)
    plural = value is None or abs(value) != 1
    if known is not None:
        return known.plural if plural else known.singular
    top: list[str] = []
    bottom: list[str] = []
    for part in unit.replace("/", " /").split():
        negative = part.startswith("/")
        part = part.lstrip("/")
        symbol, _, power = part.partition("^")
        exp = int(power) if re.fullmatch(r"-?\d+", power) else 1
        if negative:
            exp = -exp
        base = UNITS.get(symbol)
        name = base.singular if base else symbol
        magnitude = abs(exp)
        if magnitude == 2:
            name = f"square {name}" if symbol in ("m", "cm", "km") else f"{name} squared"
        elif magnitude == 3:
            name = f"cubic {name}" if symbol in ("m", "cm", "km") else f"{name} cubed"
        elif magnitude > 3:
            name = f"{name} to the {integer_words(magnitude)}"
        (bottom if exp < 0 else top).append(name)
    if top and plural:
        top[-1] = _plural(top[-1])
    words = " ".join(top) if top else "per"
    if bottom:
        words = (words + " per " if top else "per ") + " per ".join(bottom)
    return words


def _plural(name: str) -> str:
    for unit in UNITS.values():
        if unit.singular == name:
            return unit.plural
    if name.endswith(("squared", "cubed")) or name.startswith(("square ", "cubic ")):
        head, _, last = name.rpartition(" ")
        if name.startswith(("square ", "cubic ")):
            return f"{head} {_plural(last)}"
        return name
    if name.endswith(("s", "z", "x")) or len(name) <= 2:
        return name
    return name + "s"


# A number as the transcript writes it, optionally in scientific notation, then a unit.
_SCI = re.compile(
    r"(?P<num>[-−]?\d[\d,]*(?:\.\d+)?)(?:\s*(?:×|x|\*)\s*10\^(?P<exp>[-−]?\d+))?"
    r"(?:\s+(?P<unit>[A-Za-z°%][\w°^/\-]*(?:\s[A-Za-z][\w^/\-]*)*))?(?=[\s.,;:!?)]|$)"
)


def _spoken_unit(candidate: str, value: float) -> tuple[str, str] | None:
    """The longest prefix of ``candidate`` that is a known unit (symbol sequence): (text, words)."""
    tokens = candidate.split()
    for n in range(len(tokens), 0, -1):
        text = " ".join(tokens[:n])
        if text in UNITS or _is_compound(text):
            return text, unit_words(text, value)
    return None


def _is_compound(text: str) -> bool:
    parts = text.replace("/", " /").split()
    return (len(parts) > 1 or "^" in text) and all(
        UNITS.get(p.lstrip("/").partition("^")[0]) is not None for p in parts
    )


def verbalize(sentence: str) -> str:
    """The sentence for the voice: every number and unit symbol after a number in words."""

    def speak(match: re.Match[str]) -> str:
        num = match.group("num")
        value = float(num.replace(",", "").replace("−", "-"))
        words = decimal_words(num)
        if match.group("exp"):
            exp = int(match.group("exp").replace("−", "-"))
            words += " times ten to the " + integer_words(exp)
            value *= 10.0**exp
        unit = match.group("unit")
        if unit:
            found = _spoken_unit(unit, value)
            if found:
                return f"{words} {found[1]}{unit[len(found[0]) :]}"
            return f"{words} {unit}"
        return words

    return _SCI.sub(speak, sentence.replace("°C", "degC").replace("°F", "degF"))
