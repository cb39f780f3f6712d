"""Text redaction: the interface the capture chain calls, with digit-form detectors.

Detected and replaced: Luhn-valid card numbers, US social security numbers and phone
numbers written with digits. (Spoken forms, context words, names and street addresses
flagged for review come with the Presidio-based engine of the redaction issue; this module
keeps its interface.)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Action = Literal["redact", "review"]
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}(?!\d)")
_PHONE = re.compile(
    r"(?<![\d+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?!\d)"
)


@dataclass(frozen=True)
class Entity:
    """A detected span of the original text."""

    type: str
    start: int
    end: int
    score: float
    action: Action


@dataclass
class RedactionResult:
    """The redacted text and what was found (offsets into the original)."""

    text: str
    entities: list[Entity] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        """Some span is left for a person to judge."""
        return any(e.action == "review" for e in self.entities)

    def summary(self) -> dict[str, object]:
        """Entity types and counts, never values (for metadata and logs)."""
        return {
            "entities": dict(Counter(e.type for e in self.entities)),
            "review": self.needs_review,
        }


def luhn_valid(digits: str) -> bool:
    """The card-number checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _find(text: str) -> list[Entity]:
    found: list[Entity] = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(Entity("CREDIT_CARD", match.start(), match.end(), 0.95, "redact"))
    for pattern, kind in ((_SSN, "US_SSN"), (_PHONE, "PHONE_NUMBER")):
        for match in pattern.finditer(text):
            if not any(e.start < match.end() and match.start() < e.end for e in found):
                found.append(Entity(kind, match.start(), match.end(), 0.85, "redact"))
    return sorted(found, key=lambda e: e.start)


def redact_text(text: str) -> RedactionResult:
    """Replace each redacted span with ``[TYPE]``; review spans stay, listed."""
    entities = _find(text)
    pieces, cursor = [], 0
    for entity in entities:
        if entity.action != "redact":
            continue
        pieces.append(text[cursor : entity.start])
        pieces.append(f"[{entity.type}]")
        cursor = entity.end
    pieces.append(text[cursor:])
    return RedactionResult("".join(pieces), entities)
