"""The guard against invented numbers: every number of an answer must come from somewhere.

A sentence passes when each number it states is one of: a retrieved fact's value (in any unit
it converts to exactly, or with an SI prefix changed), a number in the retrieved passages or
notes, a number in the question, or a small count (at most ``small_counts``) that prose uses
("two hydrogen atoms"). A number matches at the precision it is stated with ("6.63 × 10^-34"
matches 6.62607015 × 10^-34; "6.12 × 10^-32" does not). It runs on the sentences any LLM
backend streams, before they are shown or spoken.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from api.voice.facts.model import Statement
from api.voice.facts.numbers import StatedNumber, stated_numbers
from api.voice.facts.quantities import UNITS, FactUnit

NO_VALUE = "I don't know that value."
_PREFIX_STEPS = (1e-9, 1e-6, 1e-3, 1e3, 1e6, 1e9)
_MANTISSA = re.compile(r"[-−]?(?P<int>\d[\d,]*)(?:\.(?P<frac>\d+))?")


@dataclass
class Verdict:
    """What the guard made of one sentence."""

    sentence: str
    ok: bool
    unsupported: list[StatedNumber] = field(default_factory=list)


def _expansions(value: float, unit: FactUnit | None) -> set[tuple[float, str]]:
    """``value`` in every unit of its dimension (with the unit's symbol).

    Also with SI prefixes changed, the unit then unknown (a prefix changes the unit's name).
    """
    values = {(value, unit.symbol if unit is not None and unit.dimension else "")}
    if unit is not None and unit.dimension:
        si = unit.to_si(value)
        values |= {
            (other.from_si(si), other.symbol)
            for other in UNITS.values()
            if other.dimension == unit.dimension
        }
    if unit is None or unit.offset == 0.0:
        values |= {(value * step, "") for step in _PREFIX_STEPS}
    return values


def tolerance(number: StatedNumber) -> float:
    """Half a unit in the last place the number is stated to (trailing zeros are not places)."""
    match = _MANTISSA.search(number.text)
    if match is None:  # number words: exact integers, or digits after "point"
        spoken = number.text.lower()
        decimals = len(spoken.split(" point ", 1)[1].split()) if " point " in spoken else 0
        return 0.5 * 10.0 ** (-decimals)
    whole, fraction = match.group("int").replace(",", ""), match.group("frac")
    zeros = len(whole) - len(whole.rstrip("0")) if whole.strip("0") else 0
    if fraction:
        step = 10.0 ** (-len(fraction))
    elif zeros >= 3:  # "300,000 km/s", "150,000,000 km": rounded figures
        step = 10.0**zeros
    else:  # "206", "100", "1900": as exact as written
        step = 1.0
    mantissa = float(match.group(0).replace(",", "").replace("−", "-"))
    scale = abs(number.value / mantissa) if mantissa else 1.0
    return 0.5 * step * scale


class NumberGuard:
    """Checks sentences against what one turn retrieved."""

    def __init__(
        self,
        *,
        statements: Iterable[Statement] = (),
        notes: Iterable[str] = (),
        question: str = "",
        small_counts: int = 10,
    ) -> None:
        self.statements = list(statements)
        self.small_counts = small_counts
        allowed: set[tuple[float, str]] = set()
        for statement in self.statements:
            fact = statement.fact
            allowed |= _expansions(fact.value, UNITS.get(fact.unit))
            allowed |= _expansions(statement.value, UNITS.get(statement.unit))
        notes = [*notes, *(s.fact.note for s in self.statements)]  # "(about 8 minutes 19 s)"
        for text in (*notes, question):
            for number in stated_numbers(text):
                allowed |= _expansions(number.value, number.unit)
        self.allowed = sorted(allowed)

    def supported(self, number: StatedNumber) -> bool:
        """Whether ``number`` is a retrieved or given value at the precision it is stated with."""
        value = number.value
        if value.is_integer() and 0 <= value <= self.small_counts and number.unit is None:
            return True
        slack = max(tolerance(number), abs(value) * 1e-3)
        unit = number.unit.symbol if number.unit is not None and number.unit.dimension else ""
        return any(
            (not unit or not allowed_unit or unit == allowed_unit)
            and (math.isclose(value, allowed, rel_tol=1e-9) or abs(value - allowed) <= slack)
            for allowed, allowed_unit in self.allowed
        )

    def check(self, sentence: str) -> Verdict:
        """Pass the sentence, or name the numbers nothing supports."""
        unsupported = [n for n in stated_numbers(sentence) if not self.supported(n)]
        return Verdict(sentence, not unsupported, unsupported)

    def replacement(self) -> str:
        """What is said instead of a failing sentence.

        The fact read plainly when one was retrieved, else that we don't know the value.
        """
        if self.statements:
            return self.statements[0].sentence()
        return NO_VALUE
