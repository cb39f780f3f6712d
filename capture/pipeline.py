"""The capture chain's steps as plain functions of (settings, turn id); Celery tasks call them.

Each step reads what the previous one left under deterministic keys and writes its own the
same way, so running a step twice changes nothing. Intermediate results wait in an encrypted
``staging`` area of the local store; the spool entry goes only when everything is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from capture.flac import encode_flac
from capture.keys import object_key
from capture.metadata import CaptureMetadata
from capture.models import ReviewItem
from capture.queries import upsert_capture
from capture.spool import Spool
from capture.store import open_store
from capture.store_local import LocalStore
from core.db import session_scope
from core.settings import Settings
from redaction.text import redact_text

LOW_CONFIDENCE_LOGPROB = -1.0  # average log-probability under which STT is doubtful


def staging(settings: Settings) -> LocalStore:
    """Where steps leave their results for the next one."""
    return LocalStore(settings, "staging")


class AlreadyDone(Exception):
    """The turn has no spool entry: stored already, or erased. The chain stops quietly."""


def encode_audio(settings: Settings, turn_id: str) -> None:
    """Spooled PCM → FLAC (lossless)."""
    spool = Spool(settings)
    if turn_id not in spool.pending():
        raise AlreadyDone(turn_id)
    record, pcm = spool.get(turn_id)
    flac = encode_flac(pcm, record.sample_rate)
    staging(settings).put(f"{turn_id}/audio.flac", flac, content_type="audio/flac")


def redact(settings: Settings, turn_id: str) -> None:
    """Redact the transcript and response; build the metadata (redacted text only)."""
    record, pcm = Spool(settings).get(turn_id)
    transcript, response = redact_text(record.transcript), redact_text(record.response)
    summary = transcript.summary()
    metadata = CaptureMetadata(
        session_id=record.turn_id,
        user_id=record.user_id,
        timestamp=datetime.fromisoformat(record.timestamp),
        duration_ms=len(pcm) // 2 * 1000 // record.sample_rate,
        transcript=transcript.text,
        intent=record.intent,
        domain=record.domain,
        response=response.text,
        latency=record.latency,
        feedback=record.feedback,
        region=record.region,
        conversation_id=record.conversation_id,
        turn_index=record.turn_index,
        models=record.models,
        redaction=summary,
    )
    reasons = [
        reason
        for reason, flagged in (
            ("pii_review", transcript.needs_review),
            ("thumbs_down", record.feedback == "thumbs_down"),
            ("low_confidence", record.avg_logprob < LOW_CONFIDENCE_LOGPROB),
        )
        if flagged
    ]
    spans = [
        {"type": e.type, "start": e.start, "end": e.end}
        for e in transcript.entities
        if e.action == "review"
    ]
    store = staging(settings)
    store.put(f"{turn_id}/metadata.json", metadata.to_json(), content_type="application/json")
    store.put(
        f"{turn_id}/review.json",
        json.dumps({"reasons": reasons, "spans": spans}).encode(),
        content_type="application/json",
    )


def upload(settings: Settings, turn_id: str) -> None:
    """The three objects of the turn, in its region's bucket, under the fixed layout."""
    stage = staging(settings)
    metadata = CaptureMetadata.model_validate_json(stage.get(f"{turn_id}/metadata.json"))
    day = metadata.timestamp.astimezone(UTC).date()
    store = open_store(settings, metadata.region)
    store.put(
        object_key(day, turn_id, "audio.flac"),
        stage.get(f"{turn_id}/audio.flac"),
        content_type="audio/flac",
    )
    store.put(
        object_key(day, turn_id, "metadata.json"),
        metadata.to_json(),
        content_type="application/json",
    )
    store.put(
        object_key(day, turn_id, "transcript.txt"),
        metadata.transcript.encode(),
        content_type="text/plain; charset=utf-8",
    )


def persist(settings: Settings, turn_id: str) -> None:
    """Upsert the metadata row."""
    metadata = CaptureMetadata.model_validate_json(
        staging(settings).get(f"{turn_id}/metadata.json")
    )
    with session_scope(settings) as session:
        upsert_capture(session, metadata)


def flag_review(settings: Settings, turn_id: str) -> None:
    """One review item per reason (unique per turn and reason, so repeats add nothing)."""
    flags = json.loads(staging(settings).get(f"{turn_id}/review.json"))
    with session_scope(settings) as session:
        for reason in flags["reasons"]:
            exists = session.query(ReviewItem).filter_by(session_id=turn_id, reason=reason).first()
            if exists is None:
                session.add(
                    ReviewItem(
                        session_id=turn_id,
                        reason=reason,
                        spans={"items": flags["spans"]},
                        status="pending",
                        created_at=datetime.now(UTC),
                    )
                )


def finish(settings: Settings, turn_id: str) -> None:
    """The chain succeeded: drop the spool entry and the staged results."""
    Spool(settings).delete(turn_id)
    stage = staging(settings)
    for name in ("audio.flac", "metadata.json", "review.json"):
        stage.delete(f"{turn_id}/{name}")
