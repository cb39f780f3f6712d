"""The capture chain's work as plain functions of (settings, turn id); Celery tasks call them.

``process`` does a whole turn in one call (``VOICE_CAPTURE_CHAIN=fused``, the default): it
reads the spool entry once, redacts, encodes the audio once, puts the three objects
concurrently, writes the row and its review items in one transaction and drops the entry.
Nothing is staged, and a turn costs one task.

The other steps are the same work cut where the queues are (``VOICE_CAPTURE_CHAIN=split``), for
a deployment that scales redaction, uploads and database writes apart: each reads what the
previous one left in the encrypted ``staging`` area of the local store under deterministic
keys and writes its own the same way. ``workers.config.CHAINS`` names them, in order.

Either way, a step run twice changes nothing, every step first checks that the spool entry
still exists (a revocation deletes it), and the entry goes only once everything is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from capture.consent import StoredTurn
from capture.erasure import STAGED, drop_turn
from capture.metadata import CaptureMetadata
from capture.objects import CONTENT_TYPES, put_objects, redacted_flac, turn_objects
from capture.offsets import to_redacted, word_times
from capture.queries import add_review_item, upsert_capture
from capture.spool import Spool, SpoolError, SpoolRecord
from capture.store import ObjectNotFound, open_store
from capture.store_local import LocalStore
from core.db import session_scope
from core.settings import Settings
from redaction.text import redact_batch

Step = Callable[[Settings, str], None]


def staging(settings: Settings) -> LocalStore:
    """Where split steps leave their results for the next one."""
    return LocalStore(settings, "staging")


class AlreadyDone(Exception):
    """The turn has no spool entry: stored already, or erased. The chain stops quietly."""


@dataclass(frozen=True)
class Prepared:
    """A turn ready to store: redacted metadata, its FLAC, and why a person should review it."""

    metadata: CaptureMetadata
    flac: bytes
    reasons: list[str] = field(default_factory=list)  # pii_review, thumbs_down, low_confidence
    spans: list[dict[str, Any]] = field(default_factory=list)  # flagged, in the redacted text
    word_times: list[list[float]] = field(default_factory=list)

    def review_json(self) -> bytes:
        """What the split chain stages for ``persist`` and ``flag_review``."""
        flags = {"reasons": self.reasons, "spans": self.spans, "word_times": self.word_times}
        return json.dumps(flags).encode()


def prepare(settings: Settings, record: SpoolRecord, pcm: bytes) -> Prepared:
    """Redact the transcript and response, and the audio of what the transcript redacts.

    The audio is encoded to FLAC once, after silencing. The metadata holds redacted text only;
    offsets kept for later (review spans, word timings) point into the redacted transcript.
    """
    transcript, response = redact_batch([record.transcript, record.response])
    entities = transcript.entities
    flac = redacted_flac(
        settings, pcm, record.sample_rate, record.words, record.transcript, entities
    )
    metadata = CaptureMetadata(
        turn_id=record.turn_id,
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
        redaction=transcript.summary(),
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
    return Prepared(metadata, flac, reasons, spans, timed)


def _require(settings: Settings, turn_id: str) -> Spool:
    """Every step starts here: no spool entry means the chain has nothing left to do."""
    spool = Spool(settings)
    if not spool.exists(turn_id):
        raise AlreadyDone(turn_id)
    return spool


def _entry(settings: Settings, turn_id: str) -> tuple[SpoolRecord, bytes]:
    """The spooled record and audio (an entry deleted since the check: nothing to do)."""
    spool = _require(settings, turn_id)
    try:
        return spool.get(turn_id)
    except SpoolError:
        _require(settings, turn_id)
        raise


def _still_wanted(settings: Settings, turn_id: str, metadata: CaptureMetadata) -> None:
    """After a write: if the user opted out meanwhile, undo it and stop the chain."""
    if not Spool(settings).exists(turn_id):
        drop_turn(settings, StoredTurn.on(turn_id, metadata.timestamp, metadata.region))
        raise AlreadyDone(turn_id)


def store(settings: Settings, turn_id: str, metadata: CaptureMetadata, flac: bytes) -> None:
    """The three objects, in the region's bucket under the fixed layout, put concurrently."""
    day = metadata.timestamp.astimezone(UTC).date()
    put_objects(open_store(settings, metadata.region), day, turn_id, turn_objects(metadata, flac))
    _still_wanted(settings, turn_id, metadata)


def _flag(session: Session, turn_id: str, reasons: list[str], spans: list[dict[str, Any]]) -> None:
    """One review item per reason (unique per turn and reason, so repeats add nothing)."""
    for reason in reasons:
        add_review_item(session, turn_id, reason, spans)


def record(settings: Settings, turn_id: str, ready: Prepared) -> None:
    """The capture row and its review items, in one transaction."""
    with session_scope(settings) as session:
        upsert_capture(session, ready.metadata, word_times=ready.word_times)
        _flag(session, turn_id, ready.reasons, ready.spans)
    _still_wanted(settings, turn_id, ready.metadata)


def process(settings: Settings, turn_id: str) -> None:
    """The whole chain in one step: prepare, store, record, finish."""
    ready = prepare(settings, *_entry(settings, turn_id))
    store(settings, turn_id, ready.metadata, ready.flac)
    record(settings, turn_id, ready)
    finish(settings, turn_id)


def _staged(settings: Settings, turn_id: str, name: str) -> bytes:
    """A previous split step's result.

    If it is gone because another run of the same chain finished (the sweep re-enqueued a
    chain still under way), this run has nothing left to do.
    """
    try:
        return staging(settings).get(f"{turn_id}/{name}")
    except ObjectNotFound:
        _require(settings, turn_id)
        raise


def _staged_metadata(settings: Settings, turn_id: str) -> CaptureMetadata:
    return CaptureMetadata.model_validate_json(_staged(settings, turn_id, "metadata.json"))


def redact(settings: Settings, turn_id: str) -> None:
    """Split chain, first step: ``prepare`` the turn and stage what it made."""
    ready = prepare(settings, *_entry(settings, turn_id))
    stage = staging(settings)
    stage.put(f"{turn_id}/audio.flac", ready.flac, content_type=CONTENT_TYPES["audio.flac"])
    stage.put(f"{turn_id}/review.json", ready.review_json(), content_type="application/json")
    stage.put(  # last: the next step reads it first
        f"{turn_id}/metadata.json", ready.metadata.to_json(), content_type="application/json"
    )


def upload(settings: Settings, turn_id: str) -> None:
    """Split chain: the three objects of the turn, in its region's bucket."""
    _require(settings, turn_id)
    metadata = _staged_metadata(settings, turn_id)
    store(settings, turn_id, metadata, _staged(settings, turn_id, "audio.flac"))


def persist(settings: Settings, turn_id: str) -> None:
    """Split chain: upsert the metadata row."""
    _require(settings, turn_id)
    metadata = _staged_metadata(settings, turn_id)
    flags = json.loads(_staged(settings, turn_id, "review.json"))
    with session_scope(settings) as session:
        upsert_capture(session, metadata, word_times=flags["word_times"])
    _still_wanted(settings, turn_id, metadata)


def flag_review(settings: Settings, turn_id: str) -> None:
    """Split chain: the turn's review items."""
    _require(settings, turn_id)
    flags = json.loads(_staged(settings, turn_id, "review.json"))
    with session_scope(settings) as session:
        _flag(session, turn_id, flags["reasons"], flags["spans"])


def finish(settings: Settings, turn_id: str) -> None:
    """The chain succeeded: drop the spool entry and anything staged."""
    _require(settings, turn_id).delete(turn_id)
    stage = staging(settings)
    for name in STAGED:
        stage.delete(f"{turn_id}/{name}")


def encode_audio(settings: Settings, turn_id: str) -> None:
    """Kept for chains enqueued before ``redact`` encoded the audio: nothing to do but check."""
    _require(settings, turn_id)


STEPS: dict[str, Step] = {  # by the name that ``workers.config.CHAINS`` gives each
    "process": process,
    "redact": redact,
    "upload": upload,
    "persist": persist,
    "flag_review": flag_review,
    "finish": finish,
    "encode": encode_audio,
}
