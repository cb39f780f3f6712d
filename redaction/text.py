"""Text redaction: the interface the capture chain calls.

Card numbers, US social security numbers and phone numbers are replaced by ``[TYPE]`` in
every shape speech-to-text writes them (digit groups, run together, split, spoken as words);
person names and street addresses are left in place and listed for a person to review. The
Presidio engine behind it (``redaction.engine``) loads on first use, not on import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.errors import VoiceServiceError

Action = Literal["redact", "review"]


class RedactionError(VoiceServiceError):
    """Redaction could not run: the caller must not keep the unredacted text."""

    code = "redaction_failed"


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


def redact_text(text: str) -> RedactionResult:
    """Replace each redacted span with ``[TYPE]``; review spans stay, listed.

    Raises ``RedactionError`` when the engine fails, so nothing unredacted gets through.
    """
    return redact_batch([text])[0]


def redact_batch(texts: Sequence[str]) -> list[RedactionResult]:
    """``redact_text`` of each text, analysed together (faster than one by one)."""
    from redaction.engine import default_redactor  # the engine loads on first use

    return default_redactor().redact_batch(texts)
