"""A fact: one value with its unit, uncertainty, source, and the words people use for it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from api.voice.facts.quantities import UNITS, FactUnit, canonical, convert
from api.voice.facts.speech import format_number, significant

_SHOWN = {"degC": "°C", "degF": "°F"}
_WORDS_SHOWN = frozenset({"d", "yr", "h", "min", "wk", "deg"})  # "687 days", not "687 d"
_APOSTROPHE = re.compile(r"[’`]")
_NOT_WORD = re.compile(r"[^a-z0-9+\- ]+")


def normalize(text: str) -> str:
    """Lower case, ``'s`` dropped, punctuation to spaces: the form aliases are matched in."""
    text = _APOSTROPHE.sub("'", text.lower())
    text = re.sub(r"'s\b|s'(?=\s|$)", "", text)
    text = _NOT_WORD.sub(" ", text.replace("-", " "))
    return " ".join(text.split())


@dataclass(frozen=True)
class Fact:
    """One stated value. ``subject`` and ``quantity`` name it ("carbon", "atomic number")."""

    id: str
    name: str  # as the answer says it: "the atomic number of carbon"
    value: float
    unit: str  # display symbol ("J s", "degC", "" for a pure number)
    source: str
    domain: str
    aliases: tuple[str, ...] = field(default=())  # normalized phrases people say
    uncertainty: float = 0.0  # standard uncertainty; 0 for exact values
    note: str = ""  # a condition the value holds under ("at sea level")
    digits: int | None = None  # significant figures to state; None keeps the source's digits
    also: str = ""  # a second unit the answer gives the value in ("degF" beside "degC")

    @property
    def exact(self) -> bool:
        """Exact by definition (the SI defining constants, unit relations, counts)."""
        return self.uncertainty == 0.0

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the cache file."""
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        """Inverse of ``to_json``."""
        return cls(**{**data, "aliases": tuple(data.get("aliases", ()))})


@dataclass(frozen=True)
class Statement:
    """A fact's value in the unit asked for, as the transcript shows it."""

    fact: Fact
    value: float
    unit: str

    @property
    def number(self) -> str:
        """The value with the fact's digits (or 4 significant figures after a conversion)."""
        if self.value == self.fact.value and self.unit == self.fact.unit:
            return format_number(self.value, self.fact.digits)
        source, target = UNITS.get(self.fact.unit), UNITS.get(self.unit)
        if (source is not None and source.offset) or (target is not None and target.offset):
            decimals = len(f"{self.fact.value:.15g}".partition(".")[2])  # temperatures: an
            return format_number(round(self.value, max(decimals, 2)))  # offset, not a factor
        digits = max(4, len(_digits_of(self.fact.value)))
        return format_number(significant(self.value, min(digits, 6)))

    @property
    def quantity(self) -> str:
        """Number and unit: ``6.62607015 × 10^-34 J s``, ``212 °F``, ``687 days``."""
        symbol = _SHOWN.get(self.unit, self.unit)
        if self.unit in _WORDS_SHOWN:
            unit = UNITS[self.unit]
            symbol = unit.singular if self.value == 1 else unit.plural
        return f"{self.number} {symbol}".strip()

    def sentence(self) -> str:
        """The answer read plainly: "The Planck constant is 6.62607015 × 10^-34 J s."."""
        name, note = self.fact.name, self.fact.note
        before = ""
        if note.split(" ", 1)[0].rstrip(",") in ("about", "approximately"):
            first, _, note = note.partition(" ")
            before = first.rstrip(",") + " "
        text = f"{name[0].upper()}{name[1:]} is {before}{self.quantity}"
        if note:
            text += f" {note}"
        second = UNITS.get(self.fact.also)
        if second is not None and self.unit == self.fact.unit:
            text += f", or {state(self.fact, second).quantity}"
        return text + "."


def state(fact: Fact, target: FactUnit | None = None) -> Statement:
    """The fact in ``target`` when it converts there, else in its own unit."""
    if target is not None and target.symbol != fact.unit:
        converted = convert(fact.value, fact.unit, target)
        if converted is not None:
            return Statement(fact, converted, target.symbol)
    return Statement(fact, fact.value, fact.unit)


def _digits_of(value: float) -> str:
    mantissa = f"{abs(value):.15g}".partition("e")[0]
    return mantissa.replace(".", "").lstrip("0") or "0"


def unit_of(symbol: str) -> FactUnit | None:
    """The unit a fact's symbol stands for, if known."""
    return UNITS.get(canonical(symbol))
