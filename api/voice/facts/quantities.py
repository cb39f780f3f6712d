"""Units the fact store states values in: symbol, spoken names, and exact relations to SI.

Conversions are exact (defined factors, as in ``api.voice.units``); the guard uses them to
accept an answer that gives a retrieved value in another unit ("212 degrees Fahrenheit").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from api.voice.units import UNITS as CONVERSION_UNITS


@dataclass(frozen=True)
class FactUnit:
    """One unit: its symbol as displayed, the words for it, and its size in SI."""

    symbol: str
    singular: str
    plural: str
    dimension: str = ""  # empty: not convertible (a compound CODATA unit)
    factor: float = 1.0  # SI value of one unit
    offset: float = 0.0  # temperatures: SI = value * factor + offset
    words: tuple[str, ...] = field(default=())  # how people name it ("fahrenheit", "km")

    def to_si(self, value: float) -> float:
        """The value in the dimension's SI unit."""
        return value * self.factor + self.offset

    def from_si(self, value: float) -> float:
        """An SI value in this unit."""
        return (value - self.offset) / self.factor


def _table() -> dict[str, FactUnit]:
    rows: list[tuple[str, str, str, str, float, float, str]] = [
        # symbol, singular, plural, dimension, factor, offset, extra words
        ("m", "metre", "metres", "length", 1.0, 0.0, "meter|meters"),
        ("km", "kilometre", "kilometres", "length", 1e3, 0.0, "kilometer|kilometers|km"),
        ("cm", "centimetre", "centimetres", "length", 1e-2, 0.0, "centimeter|centimeters"),
        ("mm", "millimetre", "millimetres", "length", 1e-3, 0.0, "millimeter|millimeters"),
        ("nm", "nanometre", "nanometres", "length", 1e-9, 0.0, "nanometer|nanometers"),
        ("fm", "femtometre", "femtometres", "length", 1e-15, 0.0, "femtometer|fermi"),
        ("mi", "mile", "miles", "length", 1609.344, 0.0, ""),
        ("ft", "foot", "feet", "length", 0.3048, 0.0, ""),
        ("in", "inch", "inches", "length", 0.0254, 0.0, ""),
        ("yd", "yard", "yards", "length", 0.9144, 0.0, ""),
        ("au", "astronomical unit", "astronomical units", "length", 149597870700.0, 0.0, "au"),
        ("ly", "light year", "light years", "length", 9460730472580800.0, 0.0, "light-year"),
        ("pc", "parsec", "parsecs", "length", 3.0856775814913674e16, 0.0, ""),
        ("kg", "kilogram", "kilograms", "mass", 1.0, 0.0, "kilo|kilos"),
        ("g", "gram", "grams", "mass", 1e-3, 0.0, ""),
        ("mg", "milligram", "milligrams", "mass", 1e-6, 0.0, ""),
        ("t", "tonne", "tonnes", "mass", 1e3, 0.0, "metric ton|metric tons"),
        ("lb", "pound", "pounds", "mass", 0.45359237, 0.0, "lbs"),
        ("oz", "ounce", "ounces", "mass", 0.028349523125, 0.0, ""),
        ("u", "atomic mass unit", "atomic mass units", "mass", 1.66053906892e-27, 0.0, "dalton"),
        ("s", "second", "seconds", "time", 1.0, 0.0, "sec|secs"),
        ("min", "minute", "minutes", "time", 60.0, 0.0, ""),
        ("h", "hour", "hours", "time", 3600.0, 0.0, "hr|hrs"),
        ("d", "day", "days", "time", 86400.0, 0.0, ""),
        ("wk", "week", "weeks", "time", 604800.0, 0.0, ""),
        ("yr", "year", "years", "time", 31557600.0, 0.0, ""),
        ("K", "kelvin", "kelvin", "temperature", 1.0, 0.0, "kelvins|degrees kelvin"),
        ("degC", "degree Celsius", "degrees Celsius", "temperature", 1.0, 273.15, "celsius"),
        (
            "degF",
            "degree Fahrenheit",
            "degrees Fahrenheit",
            "temperature",
            5 / 9,
            273.15 - 32 * 5 / 9,
            "fahrenheit",
        ),
        ("J", "joule", "joules", "energy", 1.0, 0.0, ""),
        ("J s", "joule second", "joule seconds", "action", 1.0, 0.0, "joule-seconds"),
        ("eV s", "electronvolt second", "electronvolt seconds", "action", 1.602176634e-19, 0, ""),
        ("J/K", "joule per kelvin", "joules per kelvin", "entropy", 1.0, 0.0, "J K^-1"),
        ("kJ", "kilojoule", "kilojoules", "energy", 1e3, 0.0, ""),
        ("cal", "calorie", "calories", "energy", 4.184, 0.0, ""),
        ("kcal", "kilocalorie", "kilocalories", "energy", 4184.0, 0.0, ""),
        ("kWh", "kilowatt hour", "kilowatt hours", "energy", 3.6e6, 0.0, "kwh"),
        ("eV", "electronvolt", "electronvolts", "energy", 1.602176634e-19, 0.0, "electron volt"),
        ("keV", "kiloelectronvolt", "kiloelectronvolts", "energy", 1.602176634e-16, 0.0, ""),
        ("MeV", "megaelectronvolt", "megaelectronvolts", "energy", 1.602176634e-13, 0.0, "mev"),
        ("GeV", "gigaelectronvolt", "gigaelectronvolts", "energy", 1.602176634e-10, 0.0, "gev"),
        ("Pa", "pascal", "pascals", "pressure", 1.0, 0.0, ""),
        ("kPa", "kilopascal", "kilopascals", "pressure", 1e3, 0.0, ""),
        ("GPa", "gigapascal", "gigapascals", "pressure", 1e9, 0.0, ""),
        ("atm", "atmosphere", "atmospheres", "pressure", 101325.0, 0.0, ""),
        ("bar", "bar", "bar", "pressure", 1e5, 0.0, "bars"),
        ("m/s", "metre per second", "metres per second", "speed", 1.0, 0.0, "m s^-1"),
        ("km/s", "kilometre per second", "kilometres per second", "speed", 1e3, 0.0, ""),
        ("km/h", "kilometre per hour", "kilometres per hour", "speed", 1 / 3.6, 0.0, "kph"),
        ("mph", "mile per hour", "miles per hour", "speed", 0.44704, 0.0, ""),
        ("m/s^2", "metre per second squared", "metres per second squared", "accel", 1.0, 0, ""),
        (
            "g/cm^3",
            "gram per cubic centimetre",
            "grams per cubic centimetre",
            "density",
            1e3,
            0,
            "",
        ),
        ("kg/m^3", "kilogram per cubic metre", "kilograms per cubic metre", "density", 1.0, 0, ""),
        ("g/L", "gram per litre", "grams per litre", "density", 1.0, 0.0, ""),
        ("L", "litre", "litres", "volume", 1e-3, 0.0, "liter|liters"),
        ("mL", "millilitre", "millilitres", "volume", 1e-6, 0.0, "milliliter|milliliters"),
        ("gal", "US gallon", "US gallons", "volume", 3.785411784e-3, 0.0, "gallon|gallons"),
        ("W", "watt", "watts", "power", 1.0, 0.0, ""),
        ("kW", "kilowatt", "kilowatts", "power", 1e3, 0.0, ""),
        ("N", "newton", "newtons", "force", 1.0, 0.0, ""),
        ("C", "coulomb", "coulombs", "charge", 1.0, 0.0, ""),
        ("g/mol", "gram per mole", "grams per mole", "molar mass", 1e-3, 0.0, ""),
        ("kg/mol", "kilogram per mole", "kilograms per mole", "molar mass", 1.0, 0.0, ""),
        ("%", "percent", "percent", "fraction", 0.01, 0.0, "per cent"),
        ("deg", "degree", "degrees", "angle", 1.0, 0.0, ""),
        ("bpm", "beat per minute", "beats per minute", "rate", 1.0, 0.0, ""),
        # spoken only: parts of CODATA compound units, and compound units of curated facts
        ("J/(g K)", "joule per gram kelvin", "joules per gram kelvin", "", 1.0, 0.0, ""),
        (
            "km/s/Mpc",
            "kilometre per second per megaparsec",
            "kilometres per second per megaparsec",
            "",
            1.0,
            0.0,
            "",
        ),
        ("mol", "mole", "moles", "", 1.0, 0.0, ""),
        ("A", "ampere", "amperes", "", 1.0, 0.0, ""),
        ("V", "volt", "volts", "", 1.0, 0.0, ""),
        ("T", "tesla", "teslas", "", 1.0, 0.0, ""),
        ("Hz", "hertz", "hertz", "", 1.0, 0.0, ""),
        ("MHz", "megahertz", "megahertz", "", 1.0, 0.0, ""),
        ("GHz", "gigahertz", "gigahertz", "", 1.0, 0.0, ""),
        ("F", "farad", "farads", "", 1.0, 0.0, ""),
        ("H", "henry", "henries", "", 1.0, 0.0, ""),
        ("Wb", "weber", "webers", "", 1.0, 0.0, ""),
        ("S", "siemens", "siemens", "", 1.0, 0.0, ""),
        ("ohm", "ohm", "ohms", "", 1.0, 0.0, ""),
        ("sr", "steradian", "steradians", "", 1.0, 0.0, ""),
        ("lm", "lumen", "lumens", "", 1.0, 0.0, ""),
        ("E_h", "hartree", "hartrees", "", 1.0, 0.0, ""),
        ("c", "c", "c", "", 1.0, 0.0, ""),
        ("C_90", "conventional coulomb", "conventional coulombs", "", 1.0, 0.0, ""),
    ]
    table: dict[str, FactUnit] = {}
    for symbol, one, many, dimension, factor, offset, extra in rows:
        words = tuple(w for w in {one.lower(), many.lower(), *extra.split("|")} if w)
        table[symbol] = FactUnit(symbol, one, many, dimension, float(factor), offset, words)
    return table


UNITS = _table()
ALIASES = {"J Hz^-1": "J s", "m s^-1": "m/s", "m s^-2": "m/s^2", "J K^-1": "J/K"}

# Words naming a unit -> its symbol ("fahrenheit" -> "degF"), longest first when matching.
_BY_WORD: dict[str, str] = {}
for _unit in UNITS.values():
    if _unit.dimension:
        for _word in _unit.words:
            _BY_WORD.setdefault(_word, _unit.symbol)
for _name, _unit_of_units in CONVERSION_UNITS.items():  # the conversion action's spellings
    for _candidate in UNITS.values():
        if _candidate.dimension and _unit_of_units.spoken.lower() == _candidate.plural.lower():
            _BY_WORD.setdefault(_name, _candidate.symbol)
_WORD_PATTERN = re.compile(
    r"\b(?:in|into|to|as|expressed in|measured in)\s+(?:degrees\s+)?(?P<unit>"
    + "|".join(re.escape(w) for w in sorted(_BY_WORD, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)


def canonical(symbol: str) -> str:
    """The display symbol of a unit as a source writes it (``J Hz^-1`` -> ``J s``)."""
    return ALIASES.get(symbol, symbol)


def unit_named(word: str) -> FactUnit | None:
    """The unit a word names ("kelvin", "km"), if any."""
    symbol = _BY_WORD.get(word.lower().strip())
    return UNITS[symbol] if symbol else None


def requested_unit(question: str) -> tuple[FactUnit | None, str]:
    """The unit a question asks for ("... in Fahrenheit") and the question without it."""
    matches = list(_WORD_PATTERN.finditer(question))
    if not matches:
        return None, question
    match = matches[-1]  # "convert ... in kelvin" asks for the last unit named
    unit = unit_named(match.group("unit"))
    rest = (question[: match.start()] + question[match.end() :]).strip()
    return unit, rest


def convert(value: float, source: str, target: FactUnit) -> float | None:
    """``value`` in unit ``source`` expressed in ``target``; None when they cannot convert."""
    unit = UNITS.get(canonical(source))
    if unit is None or not unit.dimension or unit.dimension != target.dimension:
        return None
    return target.from_si(unit.to_si(value))
