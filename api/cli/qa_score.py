"""Scoring for ``qa-eval``: an answer against a reference value, and the summary table."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from api.voice.facts.guard import NO_VALUE
from api.voice.facts.hearing import TranscriptFixer
from api.voice.facts.numbers import stated_numbers
from api.voice.facts.quantities import UNITS, FactUnit, convert, unit_named
from api.voice.facts.retrieve import FILLERS, FactIndex, content_words, fold
from api.voice.units import convert as convert_request


class QAItem(BaseModel):
    """One question with its reference value."""

    id: str
    question: str = Field(min_length=1)
    value: float
    unit: str = ""
    tol: float = Field(0.01, ge=0)  # relative; 0: exact
    domain: str = "other"
    part: str = "dev"


@dataclass
class Scored:
    """One question's outcome."""

    item: QAItem
    heard: str
    answer: str
    verdict: str  # right | wrong | abstained
    covered: bool
    retrieval_ms: float
    guard_ms: float
    replaced: int
    used_llm: bool
    term_error_raw: tuple[int, int] | None
    term_error: tuple[int, int] | None
    fix_ms: float
    voice: str | None


def reference_unit(symbol: str) -> FactUnit | None:
    """The unit a reference is given in ("degC", "km", "year"), when it converts."""
    unit = UNITS.get(symbol) or unit_named(symbol)
    return unit if unit is not None and unit.dimension else None


def within(item: QAItem, value: float) -> bool:
    """Whether ``value`` (in the reference unit) is within the item's tolerance."""
    slack = abs(item.value) * item.tol
    return math.isclose(value, item.value, rel_tol=1e-9, abs_tol=1e-12) or (
        abs(value - item.value) <= slack
    )


def score_answer(item: QAItem, answer: str) -> str:
    """``right``, ``wrong`` or ``abstained``: numbers the question itself holds do not count."""
    if NO_VALUE in answer:
        return "abstained"
    given = {round(n.value, 12) for n in stated_numbers(item.question)}
    target = reference_unit(item.unit)
    values = []
    for number in stated_numbers(answer):
        if round(number.value, 12) in given and number.unit is None:
            continue
        value = number.value
        if target is not None and number.unit is not None:
            converted = convert(value, number.unit.symbol, target)
            value = converted if converted is not None else value
        values.append(value)
    if not values:
        return "abstained"
    return "right" if any(within(item, v) for v in values) else "wrong"


def covered_by(item: QAItem, index: FactIndex) -> bool:
    """Whether the knowledge holds the answer.

    That is: a fact sharing a word with the question whose value (converted to the reference
    unit) is within tolerance, or a conversion the units action computes.
    """
    if convert_request(item.question) is not None:
        return True
    words = set(content_words(item.question))
    target = reference_unit(item.unit)
    for fact in index.facts:
        value = fact.value
        if target is not None and fact.unit != target.symbol:
            converted = convert(fact.value, fact.unit, target)
            if converted is None:
                continue
            value = converted
        if not within(item, value):
            continue
        if any(words & set(content_words(alias)) for alias in fact.aliases):
            return True
    return False


def science_terms(text: str, fixer: TranscriptFixer) -> list[str]:
    """The words of ``text`` the fact store names things with (folded), fillers left out."""
    words = re.findall(r"[a-z]+", text.lower().replace("'s", ""))
    return [
        fold(w)
        for w in words
        if len(w) > 3 and w not in FILLERS and (w in fixer.known or fold(w) in fixer.known)
    ]


def term_error(reference: str, heard: str, fixer: TranscriptFixer) -> tuple[int, int]:
    """(missed, total): the reference's science terms that the transcript does not contain."""
    terms = science_terms(reference, fixer)
    heard_words = {fold(w) for w in re.findall(r"[a-z]+", heard.lower().replace("'s", ""))}
    return sum(t not in heard_words for t in terms), len(terms)


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 2)


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def report(results: list[Scored], *, build_s: float) -> dict[str, Any]:
    """Per part and domain: n, covered, right, wrong, abstained; latency; term error rate."""
    parts: dict[str, Any] = {}
    for part in sorted({r.item.part for r in results}):
        rows = [r for r in results if r.item.part == part]
        domains: dict[str, dict[str, int]] = {}
        for r in rows:
            row = domains.setdefault(
                r.item.domain, {"n": 0, "covered": 0, "right": 0, "wrong": 0, "abstained": 0}
            )
            row["n"] += 1
            row["covered"] += r.covered
            row[r.verdict] += 1
        covered = [r for r in rows if r.covered]
        right_covered = sum(r.verdict == "right" for r in covered)
        wrong = sum(r.verdict == "wrong" for r in rows)
        parts[part] = {
            "domains": dict(sorted(domains.items())),
            "total": {
                "n": len(rows),
                "covered": len(covered),
                "right": sum(r.verdict == "right" for r in rows),
                "wrong": wrong,
                "abstained": sum(r.verdict == "abstained" for r in rows),
                "right_of_covered_pct": _pct(right_covered, len(covered)),
                "wrong_of_all_pct": _pct(wrong, len(rows)),
                "answered_by_llm": sum(r.used_llm for r in rows),
                "guard_replaced": sum(r.replaced for r in rows),
            },
            "abstained_ids": [r.item.id for r in rows if r.verdict == "abstained"],
            "wrong_ids": [r.item.id for r in rows if r.verdict == "wrong"],
        }
    summary: dict[str, Any] = {
        "parts": parts,
        "latency_ms": {
            "retrieval_p95": _p95([r.retrieval_ms for r in results]),
            "guard_p95": _p95([r.guard_ms for r in results]),
            "added_p95": _p95([r.retrieval_ms + r.guard_ms for r in results]),
        },
        "store_ready_s": round(build_s, 2),
    }
    spoken = [r for r in results if r.term_error is not None and r.term_error_raw is not None]
    if spoken:
        missed_raw = sum(r.term_error_raw[0] for r in spoken if r.term_error_raw)
        missed = sum(r.term_error[0] for r in spoken if r.term_error)
        terms = sum(r.term_error[1] for r in spoken if r.term_error)
        summary["spoken"] = {
            "terms": terms,
            "ter_raw_pct": _pct(missed_raw, terms),
            "ter_pct": _pct(missed, terms),
            "fix_p95_ms": _p95([r.fix_ms for r in spoken]),
        }
    return summary
