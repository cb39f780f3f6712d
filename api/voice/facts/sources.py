"""Where facts come from: installed, maintained packages and the curated files shipped here.

- CODATA recommended values from ``scipy.constants.physical_constants`` (value, unit,
  standard uncertainty), named as NIST names them;
- element properties from ``mendeleev`` (its bundled SQLite database: nothing is fetched);
- exact unit relations from ``api.voice.facts.quantities``;
- ``data/facts/curated.jsonl``: textbook values (water, the body, the planets) with sources;
- ``data/facts/aliases.json``: the everyday names of common constants ("Planck's constant").
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

from api.voice.facts.model import Fact, normalize
from api.voice.facts.quantities import UNITS, canonical

_PARTICLES = (
    "electron",
    "proton",
    "neutron",
    "muon",
    "tau",
    "deuteron",
    "helion",
    "triton",
    "alpha particle",
    "shielded proton",
    "shielded helion",
)
_DOMAIN_WORDS = {
    "chemistry": ("molar", "mole", "avogadro", "faraday", "gas constant", "atomic mass"),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def package_versions() -> dict[str, str]:
    """The versions the store is built from: a change rebuilds the cache."""
    return {name: _version(name) for name in ("scipy", "mendeleev")}


def _data(name: str) -> str:
    return resources.files("api.voice").joinpath(f"data/facts/{name}").read_text("utf-8")


def codata_facts() -> Iterator[Fact]:
    """Every CODATA constant SciPy carries, with the names people use for the common ones."""
    from scipy import constants  # imported here: only building the store needs it

    everyday: dict[str, list[str]] = json.loads(_data("aliases.json"))
    source = f"CODATA recommended values (NIST), scipy.constants {_version('scipy')}"
    for name, (value, unit, uncertainty) in constants.physical_constants.items():
        if not math.isfinite(value):
            continue
        aliases = {normalize(name), *(normalize(a) for a in everyday.get(name, []))}
        lowered = name.lower()
        for particle in _PARTICLES:
            if lowered.startswith(particle + " ") and " " in lowered[len(particle) + 1 :].strip():
                rest = lowered[len(particle) + 1 :]
                aliases.add(normalize(f"{rest} of the {particle}"))
            elif lowered.startswith(particle + " "):
                aliases.add(normalize(f"{lowered[len(particle) + 1 :]} of the {particle}"))
        if lowered.endswith(" in vacuum"):
            aliases.add(normalize(lowered.removesuffix(" in vacuum")))
        domain = "physics"
        if any(w in lowered for w in _DOMAIN_WORDS["chemistry"]):
            domain = "chemistry"
        yield Fact(
            id=f"codata:{_slug(name)}",
            name=f"the {name}",
            value=float(value),
            unit=canonical(unit),
            source=source,
            domain=domain,
            aliases=tuple(sorted(aliases)),
            uncertainty=float(uncertainty),
        )


# (column, quantity name, unit, alias templates with {e} for the element's name)
_ELEMENT_PROPERTIES: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "atomic_number",
        "atomic number",
        "",
        (
            "atomic number of {e}",
            "protons in {e}",
            "number of protons in {e}",
            "proton number of {e}",
            "protons in a {e} atom",
            "electrons in a neutral {e} atom",
        ),
    ),
    (
        "atomic_weight",
        "standard atomic weight",
        "u",
        (
            "atomic weight of {e}",
            "atomic mass of {e}",
            "relative atomic mass of {e}",
            "mass of a {e} atom",
        ),
    ),
    ("atomic_weight_molar", "molar mass", "g/mol", ("molar mass of {e}",)),
    ("density", "density", "g/cm^3", ("density of {e}",)),
    ("melting_point", "melting point", "K", ("melting point of {e}", "{e} melt")),
    ("boiling_point", "boiling point", "K", ("boiling point of {e}", "{e} boil")),
    ("en_pauling", "Pauling electronegativity", "", ("electronegativity of {e}",)),
    ("discovery_year", "year of discovery", "", ("year {e} was discovered", "{e} discovered")),
    ("period", "period", "", ("period of {e}", "{e} period in the periodic table")),
    ("group_id", "group", "", ("group of {e}", "{e} group in the periodic table")),
]
_ELEMENT_SPELLINGS = {"aluminum": "aluminium", "sulfur": "sulphur", "cesium": "caesium"}


def element_facts() -> Iterator[Fact]:
    """Properties of the 118 elements from mendeleev's bundled database."""
    from mendeleev.fetch import fetch_table  # pandas and SQLite: only at build time

    source = f"mendeleev {_version('mendeleev')} element data"
    elements = fetch_table("elements")
    transitions = fetch_table("phasetransitions")
    phase: dict[int, dict[str, float]] = {}
    for row in transitions.to_dict("records"):  # the first allotrope listed (the usual one)
        known = phase.setdefault(int(row["atomic_number"]), {})
        for column in ("melting_point", "boiling_point"):
            value = row.get(column)
            if column not in known and value is not None and math.isfinite(value):
                known[column] = float(value)
    for row in elements.to_dict("records"):
        number = int(row["atomic_number"])
        name = str(row["name"]).lower()
        names = {name, *(k for k, v in _ELEMENT_SPELLINGS.items() if v == name)}
        names |= {v for k, v in _ELEMENT_SPELLINGS.items() if k == name}
        values: dict[str, Any] = {**row, **phase.get(number, {})}
        if row.get("atomic_weight") is not None:
            values["atomic_weight_molar"] = row["atomic_weight"]
        for column, quantity, unit, templates in _ELEMENT_PROPERTIES:
            value = values.get(column)
            if value is None or isinstance(value, str):
                continue
            value = float(value)
            if not math.isfinite(value):
                continue
            aliases = {normalize(t.format(e=n)) for t in templates for n in names}
            aliases.add(normalize(f"{quantity} of {row['symbol']}"))
            yield Fact(
                id=f"element:{_slug(name)}:{_slug(quantity)}",
                name=f"the {quantity} of {row['name'].lower()}",
                value=value,
                unit=unit,
                source=source,
                domain="chemistry",
                aliases=tuple(sorted(aliases)),
                note="at room temperature" if column == "density" else "",
                also="degC" if unit == "K" else "",
            )


_HALF_LIFE_UNITS = {  # mendeleev's half-life units -> (unit symbol, factor into it)
    "asec": ("s", 1e-18),
    "zsec": ("s", 1e-21),
    "ysec": ("s", 1e-24),
    "psec": ("s", 1e-12),
    "nsec": ("s", 1e-9),
    "usec": ("s", 1e-6),
    "msec": ("s", 1e-3),
    "sec": ("s", 1.0),
    "minute": ("min", 1.0),
    "hour": ("h", 1.0),
    "day": ("d", 1.0),
    "year": ("yr", 1.0),
    "kyear": ("yr", 1e3),
    "Myear": ("yr", 1e6),
    "Gyear": ("yr", 1e9),
    "Tyear": ("yr", 1e12),
    "Pyear": ("yr", 1e15),
    "Eyear": ("yr", 1e18),
    "Zyear": ("yr", 1e21),
    "Yyear": ("yr", 1e24),
}


def isotope_facts() -> Iterator[Fact]:
    """Masses, half-lives and natural abundances of the isotopes (mendeleev, from NUBASE/AME)."""
    from mendeleev.fetch import fetch_table

    source = f"mendeleev {_version('mendeleev')} isotope data"
    names = {
        int(r["atomic_number"]): str(r["name"]).lower()
        for r in fetch_table("elements")[["atomic_number", "name"]].to_dict("records")
    }
    for row in fetch_table("isotopes").to_dict("records"):
        element = names.get(int(row["atomic_number"]))
        if element is None:
            continue
        label = f"{element}-{int(row['mass_number'])}"
        spoken = f"{element} {int(row['mass_number'])}"
        values: list[tuple[str, str, float, str, tuple[str, ...]]] = []
        if _finite(row.get("mass")):
            values.append(("mass", "atomic mass", float(row["mass"]), "u", ("mass of {i}",)))
        half_life, unit = row.get("half_life"), _HALF_LIFE_UNITS.get(str(row.get("half_life_unit")))
        if _finite(half_life) and unit is not None:
            values.append(
                (
                    "half-life",
                    "half-life",
                    float(f"{float(half_life) * unit[1]:.6g}"),
                    unit[0],
                    ("half life of {i}", "{i} half life", "{i} decay half life"),
                )
            )
        if _finite(row.get("abundance")):
            values.append(
                (
                    "abundance",
                    "natural abundance",
                    float(row["abundance"]),
                    "%",
                    ("natural abundance of {i}", "abundance of {i}", "how common is {i}"),
                )
            )
        for slug, quantity, value, symbol, templates in values:
            yield Fact(
                id=f"isotope:{label}:{slug}",
                name=f"the {quantity} of {label}",
                value=value,
                unit=symbol,
                source=source,
                domain="chemistry",
                aliases=tuple(sorted({normalize(t.format(i=spoken)) for t in templates})),
            )


def ionization_facts() -> Iterator[Fact]:
    """First ionization energies of the elements (mendeleev, from NIST ASD)."""
    from mendeleev.fetch import fetch_table

    source = f"mendeleev {_version('mendeleev')} ionization energies (NIST ASD)"
    names = {
        int(r["atomic_number"]): str(r["name"]).lower()
        for r in fetch_table("elements")[["atomic_number", "name"]].to_dict("records")
    }
    for row in fetch_table("ionizationenergies").to_dict("records"):
        element = names.get(int(row["atomic_number"]))
        if element is None or int(row["ion_charge"]) != 0 or not _finite(row["ionization_energy"]):
            continue
        yield Fact(
            id=f"element:{_slug(element)}:first-ionization-energy",
            name=f"the first ionization energy of {element}",
            value=float(row["ionization_energy"]),
            unit="eV",
            source=source,
            domain="chemistry",
            aliases=(
                normalize(f"ionization energy of {element}"),
                normalize(f"first ionization energy of {element}"),
                normalize(f"ionisation energy of {element}"),
            ),
        )


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


_RELATION_UNITS = {
    "length": ("m", "km", "cm", "mm", "mi", "ft", "in", "yd", "au", "ly"),
    "mass": ("kg", "g", "mg", "lb", "oz", "t"),
    "time": ("s", "min", "h", "d", "wk", "yr"),
    "energy": ("J", "kJ", "cal", "kcal", "kWh", "eV"),
    "pressure": ("Pa", "kPa", "atm", "bar"),
    "speed": ("m/s", "km/h", "mph", "km/s"),
    "volume": ("L", "mL", "gal"),
}


def unit_relation_facts() -> Iterator[Fact]:
    """How many of one unit make another ("feet in a mile"): exact by definition."""
    for dimension, symbols in _RELATION_UNITS.items():
        for big in symbols:
            for small in symbols:
                if big == small:
                    continue
                one, many = UNITS[big], UNITS[small]
                value = one.factor / many.factor
                aliases = {
                    normalize(f"{many.plural} in a {one.singular}"),
                    normalize(f"{many.plural} in one {one.singular}"),
                    normalize(f"{one.singular} in {many.plural}"),
                    normalize(f"one {one.singular} in {many.plural}"),
                }
                yield Fact(
                    id=f"unit:{_slug(big)}:{_slug(small)}",
                    name=f"one {one.singular}",
                    value=float(f"{value:.12g}"),
                    unit=small,
                    source="exact unit definitions (SI Brochure; NIST SP 811)",
                    domain="units",
                    aliases=tuple(sorted(aliases)),
                )
        del dimension


def curated_facts() -> Iterator[Fact]:
    """The values typed from cited references, one JSON object a line."""
    for number, line in enumerate(_data("curated.jsonl").splitlines(), start=1):
        if not line.strip():
            continue
        data = json.loads(line)
        aliases = {normalize(data["name"]), *(normalize(a) for a in data.get("aliases", []))}
        try:
            yield Fact(
                id=f"curated:{data['id']}",
                name=data["name"],
                value=float(data["value"]),
                unit=data.get("unit", ""),
                source=data["source"],
                domain=data["domain"],
                aliases=tuple(sorted(aliases)),
                uncertainty=float(data.get("uncertainty", 0.0)),
                note=data.get("note", ""),
                digits=data.get("digits"),
                also=data.get("also", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:  # a broken shipped file: say where
            raise ValueError(f"curated.jsonl:{number}: {exc}") from exc
