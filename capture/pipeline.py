"""The capture chain's steps as plain functions of (settings, turn id); Celery tasks call them.

Each step reads what the previous one left under deterministic keys and writes its own the
same way, so running a step twice changes nothing. Intermediate results wait in an encrypted
``staging`` area of the local store; the spool entry goes only when everything is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from capture.consent import StoredTurn
from capture.erasure import drop_turn
from capture.flac import encode_flac
from capture.keys import object_key
from capture.metadata import CaptureMetadata
from capture.offsets import to_redacted, word_times
from capture.queries import add_review_item, upsert_capture
from capture.spool import Spool
from capture.store import ObjectNotFound, open_store
from capture.store_local import LocalStore
from core.db import session_scope
from core.settings import Settings
from redaction.audio import redact_audio
from redaction.text import redact_batch


def staging(settings: Settings) -> LocalStore:
    """Where steps leave their results for the next one."""
    return LocalStore(settings, "staging")


class AlreadyDone(Exception):
    """The turn has no spool entry: stored already, or erased. The chain stops quietly."""


def _require(settings: Settings, turn_id: str) -> Spool:
    """Every step starts here: no spool entry means the chain has nothing left to do."""
    spool = Spool(settings)
    if not spool.exists(turn_id):
        raise AlreadyDone(turn_id)
    return spool


def _staged(settings: Settings, turn_id: str, name: str) -> bytes:
    """A previous step's result.

    If it is gone because another run of the same chain finished (the sweep re-enqueued a
    chain still under way), this run has nothing left to do.
    """
    try:
        return staging(settings).get(f"{turn_id}/{name}")
    except ObjectNotFound:
        _require(settings, turn_id)
        raise


def _still_wanted(settings: Settings, turn_id: str, metadata: CaptureMetadata) -> None:
    """After a write: if the user opted out meanwhile, undo it and stop the chain."""
    if not Spool(settings).exists(turn_id):
        drop_turn(settings, StoredTurn.on(turn_id, metadata.timestamp, metadata.region))
        raise AlreadyDone(turn_id)


def encode_audio(settings: Settings, turn_id: str) -> None:
    """Spooled PCM → FLAC (lossless)."""
    record, pcm = _require(settings, turn_id).get(turn_id)
    flac = encode_flac(pcm, record.sample_rate)
    staging(settings).put(f"{turn_id}/audio.flac", flac, content_type="audio/flac")


def redact(settings: Settings, turn_id: str) -> None:
    """Redact the transcript and response, and the audio of what the transcript redacts.

    The metadata is built from redacted text only; offsets kept for later (review spans,
    word timings) point into the redacted transcript.
    """
    record, pcm = _require(settings, turn_id).get(turn_id)
    transcript, response = redact_batch([record.transcript, record.response])
    entities = transcript.entities
    if record.words and any(e.action == "redact" for e in entities):
        silenced = redact_audio(
            pcm,
            record.sample_rate,
            record.words,
            record.transcript,
            entities,
            pad_ms=settings.redaction_pad_ms,
            mode=settings.redaction_audio_mode,
        )
        flac = encode_flac(silenced, record.sample_rate)
        staging(settings).put(f"{turn_id}/audio.flac", flac, content_type="audio/flac")
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
            ("low_confidence", record.avg_logprob < settings.review_min_avg_logprob),
        )
        if flagged
    ]
    spans = [
        {
            "type": e.type,
            "start": to_redacted(e.start, entities),
            "end": to_redacted(e.end, entities, end=True),
        }
        for e in entities
        if e.action == "review"
    ]
    timed = word_times(record.words, record.transcript, entities)
    store = staging(settings)
    store.put(f"{turn_id}/metadata.json", metadata.to_json(), content_type="application/json")
    store.put(
        f"{turn_id}/review.json",
        json.dumps({"reasons": reasons, "spans": spans, "word_times": timed}).encode(),
        content_type="application/json",
    )


def upload(settings: Settings, turn_id: str) -> None:
    """The three objects of the turn, in its region's bucket, under the fixed layout."""
    _require(settings, turn_id)
    metadata = CaptureMetadata.model_validate_json(_staged(settings, turn_id, "metadata.json"))
    day = metadata.timestamp.astimezone(UTC).date()
    store = open_store(settings, metadata.region)
    store.put(
        object_key(day, turn_id, "audio.flac"),
        _staged(settings, turn_id, "audio.flac"),
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
    _still_wanted(settings, turn_id, metadata)


def persist(settings: Settings, turn_id: str) -> None:
    """Upsert the metadata row."""
    _require(settings, turn_id)
    metadata = CaptureMetadata.model_validate_json(_staged(settings, turn_id, "metadata.json"))
    flags = json.loads(_staged(settings, turn_id, "review.json"))
    with session_scope(settings) as session:
        upsert_capture(session, metadata, word_times=flags["word_times"])
    _still_wanted(settings, turn_id, metadata)


def flag_review(settings: Settings, turn_id: str) -> None:
    """One review item per reason (unique per turn and reason, so repeats add nothing)."""
    _require(settings, turn_id)
    flags = json.loads(_staged(settings, turn_id, "review.json"))
    with session_scope(settings) as session:
        for reason in flags["reasons"]:
            add_review_item(session, turn_id, reason, flags["spans"])


def finish(settings: Settings, turn_id: str) -> None:
    """The chain succeeded: drop the spool entry and the staged results."""
    _require(settings, turn_id).delete(turn_id)
    stage = staging(settings)
    for name in ("audio.flac", "metadata.json", "review.json"):
        stage.delete(f"{turn_id}/{name}")
