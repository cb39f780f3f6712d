"""Entities of an utterance: quantities (numbers with units) and key terms (noun phrases)."""

from __future__ import annotations

import re
from typing import Any

from core.messages import NLUEntity

_NUMBER_WORDS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|thousand|million|billion|half|a"
)
_UNITS = (
    r"(?:kilo|centi|milli|micro|nano|mega|giga)?(?:metre|meter|gram|second|joule|watt|volt|"
    r"ampere|amp|ohm|hertz|newton|pascal|litre|liter|mole|kelvin|calorie|electronvolt)s?|"
    r"miles?|feet|foot|inch(?:es)?|yards?|pounds?|ounces?|gallons?|tons?|tonnes?|"
    r"degrees?(?:\s+(?:celsius|fahrenheit|kelvin))?|celsius|fahrenheit|"
    r"hours?|minutes?|days?|years?|light[\s-]years?|atmospheres?|bars?|psi|percent|"
    r"km|kg|mg|cm|mm|nm|m|g|s|ms|j|kj|w|kw|v|hz|khz|mhz|ghz|pa|kpa|mph|km/h|k|l|ml"
)
_QUANTITY = re.compile(
    rf"(?<![\w.])(?:\d+(?:[.,]\d+)*(?:\s+(?:hundred|thousand|million|billion))?"
    rf"|(?:(?:{_NUMBER_WORDS})[\s-]?)+)\s*(?:{_UNITS})\b",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s*(?:x|times)\s*10\^?-?\d+)?(?![\w.])")
_SKIP_TERMS = {
    "what",
    "who",
    "which",
    "it",
    "you",
    "i",
    "me",
    "we",
    "they",
    "that",
    "this",
    "thing",
    "things",
    "something",
    "anything",
    "question",
    "lot",
    "way",
    "kind",
    "sort",
    "bit",
}


def find_quantities(text: str) -> list[NLUEntity]:
    """Numbers with units ("5 miles", "three hundred kelvin"), then bare numbers."""
    found: list[NLUEntity] = []
    taken: list[tuple[int, int]] = []
    for match in _QUANTITY.finditer(text):
        value = match.group(0).strip()
        if value.lower().startswith("a ") or value.lower() in {"a", "half"}:
            continue
        found.append(NLUEntity(text=value, label="quantity", start=match.start(), end=match.end()))
        taken.append((match.start(), match.end()))
    for match in _BARE_NUMBER.finditer(text):
        if not any(s <= match.start() < e for s, e in taken):
            found.append(
                NLUEntity(
                    text=match.group(0), label="quantity", start=match.start(), end=match.end()
                )
            )
    return found


def find_terms(doc: Any) -> list[NLUEntity]:
    """Key terms: the noun phrases of a spaCy ``Doc``, less pronouns, question words, fillers."""
    terms: list[NLUEntity] = []
    for chunk in doc.noun_chunks:
        tokens = [t for t in chunk if not (t.is_stop or t.is_punct or t.like_num)]
        if not tokens:
            continue
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        value = doc.text[start:end]
        if value.lower() in _SKIP_TERMS or len(value) < 2:
            continue
        terms.append(NLUEntity(text=value, label="term", start=start, end=end))
    return terms


def merge_entities(quantities: list[NLUEntity], terms: list[NLUEntity]) -> list[NLUEntity]:
    """Quantities win over overlapping terms; result in text order."""
    kept = list(quantities)
    for term in terms:
        if not any(term.start < q.end and q.start < term.end for q in quantities):
            kept.append(term)
    return sorted(kept, key=lambda e: e.start)
