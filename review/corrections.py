"""A reviewer's corrected transcript is redacted before it is kept, like any transcript.

Card, social security and phone numbers become ``[TYPE]``; names and street addresses stay in
place and are flagged: their spans (types and offsets into the redacted correction, no
values) are kept with the decision and shown to reviewers in the item's decision history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capture.offsets import to_redacted
from redaction.text import redact_text


@dataclass(frozen=True)
class Correction:
    """The correction as it is stored."""

    text: str  # redacted
    flags: list[dict[str, Any]]  # [{"type", "start", "end"}] into ``text``: names, addresses


def redact_correction(text: str) -> Correction:
    """Redact a corrected transcript; raises ``RedactionError`` rather than keep it unredacted."""
    result = redact_text(text)
    flags = [
        {
            "type": entity.type,
            "start": to_redacted(entity.start, result.entities),
            "end": to_redacted(entity.end, result.entities, end=True),
        }
        for entity in result.entities
        if entity.action == "review"
    ]
    return Correction(result.text, flags)
