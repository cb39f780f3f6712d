"""Unit conversion from spoken requests.

For example "convert five miles to kilometres", "how many grams in 3 pounds", "what is 100
fahrenheit in celsius".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit: its dimension, its size in SI base units and the name to speak."""

    dimension: str
    factor: float
    spoken: str  # plural, as read aloud
    offset: float = 0.0  # temperatures: kelvin = value * factor + offset
    one: str = ""  # singular, as read aloud

    def name_for(self, value: float) -> str:
        """Singular for exactly one, plural otherwise."""
        return self.one if value == 1 and self.one else self.spoken


def _units() -> dict[str, Unit]:
    table: dict[str, Unit] = {}

    def add(
        names: str, dimension: str, factor: float, spoken: str, offset: float = 0.0, one: str = ""
    ) -> None:
        aliases = names.split("|")
        for name in aliases:
            table[name] = Unit(dimension, factor, spoken, offset, one or aliases[0])

    add("metre|metres|meter|meters|m", "length", 1.0, "metres")
    add("kilometre|kilometres|kilometer|kilometers|km|k", "length", 1e3, "kilometres")
    add("centimetre|centimetres|centimeter|centimeters|cm", "length", 1e-2, "centimetres")
    add("millimetre|millimetres|millimeter|millimeters|mm", "length", 1e-3, "millimetres")
    add("mile|miles", "length", 1609.344, "miles")
    add("yard|yards", "length", 0.9144, "yards")
    add("foot|feet|ft", "length", 0.3048, "feet")
    add("inch|inches", "length", 0.0254, "inches")
    add(
        "light year|light years|light-year|light-years", "length", 9.4607304725808e15, "light years"
    )
    add("kilogram|kilograms|kilo|kilos|kg", "mass", 1.0, "kilograms")
    add("gram|grams|g", "mass", 1e-3, "grams")
    add("milligram|milligrams|mg", "mass", 1e-6, "milligrams")
    add("pound|pounds|lb|lbs", "mass", 0.45359237, "pounds")
    add("ounce|ounces|oz", "mass", 0.028349523125, "ounces")
    add("tonne|tonnes|metric ton|metric tons", "mass", 1e3, "tonnes")
    add("stone|stones", "mass", 6.35029318, "stone")
    add("second|seconds|s", "time", 1.0, "seconds")
    add("minute|minutes", "time", 60.0, "minutes")
    add("hour|hours", "time", 3600.0, "hours")
    add("day|days", "time", 86400.0, "days")
    add("week|weeks", "time", 604800.0, "weeks")
    add("year|years", "time", 31557600.0, "years")  # Julian year
    add("litre|litres|liter|liters|l", "volume", 1e-3, "litres")
    add("millilitre|millilitres|milliliter|milliliters|ml", "volume", 1e-6, "millilitres")
    add("gallon|gallons", "volume", 3.785411784e-3, "US gallons", one="US gallon")
    add("cup|cups", "volume", 2.365882365e-4, "US cups", one="US cup")
    add("kelvin|kelvins", "temperature", 1.0, "kelvin")
    add(
        "celsius|degrees celsius|degree celsius|centigrade",
        "temperature",
        1.0,
        "degrees Celsius",
        273.15,
        "degree Celsius",
    )
    add(
        "fahrenheit|degrees fahrenheit|degree fahrenheit",
        "temperature",
        5 / 9,
        "degrees Fahrenheit",
        273.15 - 32 * 5 / 9,
        "degree Fahrenheit",
    )
    add(
        "metres per second|meters per second|metre per second|meter per second|m/s",
        "speed",
        1.0,
        "metres per second",
        one="metre per second",
    )
    add(
        "kilometres per hour|kilometers per hour|kilometre per hour|kilometer per hour|km/h|kph",
        "speed",
        1 / 3.6,
        "kilometres per hour",
        one="kilometre per hour",
    )
    add("miles per hour|mile per hour|mph", "speed", 0.44704, "miles per hour", one="mile per hour")
    add("knot|knots", "speed", 1852 / 3600, "knots")
    add("joule|joules|j", "energy", 1.0, "joules")
    add("kilojoule|kilojoules|kj", "energy", 1e3, "kilojoules")
    add("calorie|calories|cal", "energy", 4.184, "calories")
    add("kilocalorie|kilocalories|kcal", "energy", 4184.0, "kilocalories")
    add(
        "electronvolt|electronvolts|electron volt|electron volts|ev",
        "energy",
        1.602176634e-19,
        "electronvolts",
    )
    add("kilowatt hour|kilowatt hours|kwh", "energy", 3.6e6, "kilowatt hours")
    add("pascal|pascals|pa", "pressure", 1.0, "pascals")
    add("kilopascal|kilopascals|kpa", "pressure", 1e3, "kilopascals")
    add("atmosphere|atmospheres|atm", "pressure", 101325.0, "atmospheres")
    add("bar|bars", "pressure", 1e5, "bar")
    add(
        "psi|pounds per square inch",
        "pressure",
        6894.757293168,
        "pounds per square inch",
        one="pound per square inch",
    )
    add("newton|newtons|n", "force", 1.0, "newtons")
    add(
        "pound of force|pounds of force|pound force|pounds force|lbf",
        "force",
        4.4482216152605,
        "pounds of force",
    )
    add("watt|watts|w", "power", 1.0, "watts")
    add("kilowatt|kilowatts|kw", "power", 1e3, "kilowatts")
    add("horsepower|hp", "power", 745.69987158227, "horsepower")
    return table


UNITS = _units()
_UNIT_PATTERN = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_SMALL = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
    if i > 1
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_WORD = "|".join([*_SMALL, *_TENS, *_SCALES, "a", "an", "half", "point", "and", "oh"])
_NUMBER = rf"(?:-?\d[\d,]*(?:\.\d+)?|(?:(?:{_WORD})[\s-]+)*(?:{_WORD}))"
_UNIT = rf"(?:degrees?\s+)?(?:{_UNIT_PATTERN})"
_PATTERNS = [
    # how many grams (are there) in 3 pounds / how many feet is 2 metres
    re.compile(
        rf"how many (?P<to>{_UNIT}) (?:are there |are |is |in |make |makes )*(?:in |is |are )?"
        rf"(?:a |an )?(?P<num>{_NUMBER})?\s*(?P<from>{_UNIT})\b"
    ),
    # convert 5 miles to km / 100 fahrenheit in celsius / what's 3 feet in metres
    re.compile(
        rf"(?P<num>{_NUMBER})\s*(?P<from>{_UNIT}) (?:to|in|into|as|in terms of) (?P<to>{_UNIT})\b"
    ),
]


def parse_number(words: str) -> float | None:
    """Digits ("2,500.5") or English number words ("three hundred and twelve", "two point five")."""
    text = words.strip().lower().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    parts = [t for t in re.split(r"[\s-]+", text) if t and t != "and"]
    if not parts:
        return None
    if parts in (["a"], ["an"]):
        return 1.0
    if parts == ["half"] or parts[:2] in (["a", "half"], ["half", "a"]):
        return 0.5
    total, current, decimals = 0.0, 0.0, None
    for word in parts:
        if decimals is not None:
            digit = 0 if word == "oh" else _SMALL.get(word)
            if digit is None or digit > 9:
                return None
            decimals += str(digit)
        elif word == "point":
            decimals = ""
        elif word in _SMALL or word == "oh":
            current += _SMALL.get(word, 0)
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0.0
        elif word in ("a", "an"):
            current = max(current, 1)
        else:
            return None
    value = total + current
    return value + float(f"0.{decimals}") if decimals else value


@dataclass(frozen=True)
class Conversion:
    """A parsed and computed conversion."""

    value: float
    source: Unit
    target: Unit
    result: float

    def spoken(self) -> str:
        """The answer as a short sentence to speak."""
        value, result = _fmt(self.value), _fmt(self.result)
        return (
            f"{value} {self.source.name_for(float(value.replace(',', '')))} is about "
            f"{result} {self.target.name_for(self.result)}."
        )


def _unit(name: str) -> Unit | None:
    name = " ".join(name.lower().split())
    return UNITS.get(name) or UNITS.get(re.sub(r"^degrees? ", "", name))


def convert(text: str) -> Conversion | None:
    """Find and compute a conversion in ``text``; None when there is none or units disagree."""
    lowered = " ".join(text.lower().replace("?", " ").replace("’", "'").split())
    for pattern in _PATTERNS:
        match = pattern.search(lowered)
        if not match:
            continue
        source, target = _unit(match.group("from")), _unit(match.group("to"))
        value = parse_number(match.group("num") or "1")
        if source is None or target is None or value is None:
            continue
        if source.dimension != target.dimension:
            return None
        si = value * source.factor + source.offset
        return Conversion(value, source, target, (si - target.offset) / target.factor)
    return None


def _fmt(number: float) -> str:
    """Three significant figures, without scientific notation for everyday magnitudes."""
    if number == 0:
        return "0"
    if 1e-3 <= abs(number) < 1e9:
        text = f"{number:,.{max(0, 2 - int(f'{abs(number):e}'.split('e')[1]))}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{number:.3g}".split("e")
    return f"{mantissa} times ten to the {int(exponent)}"
