"""The ``metadata.json`` of a captured turn, and pseudonymous user ids."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from core.messages import Domain, Intent

# first_audio_ms: end of the user's speech to the answer's first audio (0: none was sent)
LATENCY_KEYS = ("stt_ms", "nlu_ms", "rag_ms", "llm_ms", "tts_ms", "total_ms", "first_audio_ms")


def user_id_for(token: str, secret: str) -> str:
    """HMAC-SHA256 of the user token: stable per user, and not the token itself."""
    if not secret:
        raise ValueError("a user id secret is required")
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


SCHEMA_VERSION = 2  # 2: the turn's id is ``turn_id`` (version 1, unmarked: ``session_id``)


class CaptureMetadata(BaseModel):
    """Exactly the fields of ``metadata.json``; text fields hold redacted text only.

    Objects written before version 2 name the turn's id ``session_id``: they are read as they
    are, and written back (a review, feedback) in the current version.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    turn_id: str = Field(validation_alias=AliasChoices("turn_id", "session_id"))
    user_id: str = Field(min_length=64, max_length=64)
    timestamp: datetime  # UTC
    duration_ms: int = Field(ge=0)
    transcript: str
    intent: Intent
    domain: Domain
    response: str
    latency: dict[str, float]
    feedback: str | None = None
    consent: bool = True
    region: str
    conversation_id: str
    turn_index: int = Field(ge=0)
    models: dict[str, str]
    redaction: dict[str, Any]  # {"entities": {TYPE: count}, "review": bool}
    review: dict[str, Any] | None = None  # a reviewer's label and tags, once reviewed

    def to_json(self) -> bytes:
        """The object stored as ``metadata.json`` (``review`` only once there is one)."""
        data = {**self.model_dump(mode="json"), "schema_version": SCHEMA_VERSION}
        data["latency"] = {key: float(self.latency.get(key, 0.0)) for key in LATENCY_KEYS}
        checked = self.model_validate(data)
        unreviewed = {"review"} if checked.review is None else None
        return checked.model_dump_json(indent=2, exclude=unreviewed).encode()
