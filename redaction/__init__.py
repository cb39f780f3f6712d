"""PII detection and redaction of text and audio (see docs/REDACTION.md)."""

from redaction.audio import redact_audio, sample_spans
from redaction.text import (
    Entity,
    RedactionError,
    RedactionResult,
    luhn_valid,
    redact_batch,
    redact_text,
)

__all__ = [
    "Entity",
    "RedactionError",
    "RedactionResult",
    "luhn_valid",
    "redact_audio",
    "redact_batch",
    "redact_text",
    "sample_spans",
]
