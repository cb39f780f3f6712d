"""Reviewers' decisions on review items, and what each does to the stored capture.

``approve`` marks the item; ``correct`` keeps a corrected transcript, redacted like any
transcript (``review.corrections``), as the label beside the original (row and
``metadata.json``); ``redact`` replaces character spans of the transcript with ``[TYPE]`` and
silences the words they cover in the audio, rewriting the stored objects (and removing their
earlier versions on a versioned bucket); ``reject`` deletes the capture everywhere, its
decisions included. Decisions are versioned (the latest supersedes,
every version is kept) and idempotent (repeating the latest adds nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from capture.consent import StoredTurn
from capture.erasure import drop_turn
from capture.flac import decode_flac, encode_flac
from capture.keys import object_key
from capture.metadata import CaptureMetadata
from capture.models import Capture, ReviewBatch, ReviewDecision, ReviewItem
from capture.offsets import placeholder, to_redacted
from capture.queries import add_audit
from capture.store import ObjectNotFound, ObjectStore, open_store
from core.db import session_scope
from core.messages import Word
from core.settings import Settings
from redaction.audio import redact_audio
from redaction.text import Entity
from review.corrections import Correction, redact_correction

TAGS = ("stt_error", "wrong_intent", "bad_response", "tts_artifact", "not_speech")
STATUS_OF = {
    "approve": "approved",
    "correct": "corrected",
    "redact": "redacted",
    "reject": "rejected",
}


class NotFound(LookupError):
    """No review item with that id."""


class InvalidDecision(ValueError):
    """The decision does not fit the item (a span out of range, a missing transcript)."""


class Span(BaseModel):
    """Characters ``start``..``end`` of the item's (redacted) transcript."""

    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=1)
    type: Annotated[str, Field(pattern=r"^[A-Z_]{1,32}$")] = "REDACTED"


class Decision(BaseModel):
    """The body of ``POST /v1/admin/review/items/{id}/decision``."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "correct", "redact", "reject"]
    transcript: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None
    spans: Annotated[list[Span], Field(max_length=50)] = Field(default_factory=list)
    tags: Annotated[list[Literal[TAGS]], Field(max_length=len(TAGS))] = Field(  # type: ignore[valid-type]
        default_factory=list
    )


def _item(session: Session, item_id: int) -> tuple[ReviewItem, Capture]:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(item_id)
    capture = session.get(Capture, item.session_id)
    assert capture is not None  # the foreign key deletes items with their capture
    return item, capture


def _store(settings: Settings, capture: Capture) -> ObjectStore:
    return open_store(settings, capture.region)


def _key(capture: Capture, name: str) -> str:
    return object_key(capture.day, capture.session_id, name)


def _history(session: Session, item_id: int) -> list[ReviewDecision]:
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.item_id == item_id)
            .order_by(ReviewDecision.version)
        )
    )


def summary(item: ReviewItem) -> dict[str, Any]:
    """What a list of items shows."""
    return {
        "id": item.id,
        "batch_id": item.batch_id,
        "session_id": item.session_id,
        "reason": item.reason,
        "status": item.status,
        "created_at": item.created_at.isoformat(),
    }


def _detail(
    settings: Settings, session: Session, item: ReviewItem, capture: Capture
) -> dict[str, Any]:
    try:
        metadata = CaptureMetadata.model_validate_json(
            _store(settings, capture).get(_key(capture, "metadata.json"))
        ).model_dump(mode="json")
    except ObjectNotFound:
        metadata = {}
    return {
        **summary(item),
        "transcript": capture.transcript,
        "response": capture.response,
        "label": capture.label,
        "spans": item.spans.get("items", []),
        "tags": item.tags.get("items", []),
        "metadata": metadata,
        "audio_url": f"/v1/admin/review/items/{item.id}/audio",
        "decisions": [
            {
                "version": d.version,
                "decision": d.decision,
                "transcript": d.transcript,
                "spans": d.spans.get("items", []),
                "tags": d.tags.get("items", []),
                "reviewer": d.reviewer,
                "at": d.at.isoformat(),
            }
            for d in _history(session, item.id)
        ],
    }


def item_detail(settings: Settings, item_id: int) -> dict[str, Any]:
    """Everything a reviewer sees of one item."""
    with session_scope(settings) as session:
        item, capture = _item(session, item_id)
        return _detail(settings, session, item, capture)


def item_audio(settings: Settings, item_id: int) -> bytes:
    """The item's stored FLAC (redacted audio)."""
    with session_scope(settings) as session:
        _, capture = _item(session, item_id)
    return _store(settings, capture).get(_key(capture, "audio.flac"))


def decide(settings: Settings, item_id: int, decision: Decision, reviewer: str) -> dict[str, Any]:
    """Apply and record a decision; returns the item as it now is."""
    correction = _corrected(decision)  # redacted before anything is stored
    with session_scope(settings) as session:
        item, capture = _item(session, item_id)
        _check(decision, capture)
        record = _record(decision, correction)
        history = _history(session, item_id)
        if history and _same(history[-1], record):
            return _detail(settings, session, item, capture)  # a repeated request
        version = (history[-1].version if history else 0) + 1
        session.add(
            ReviewDecision(
                item_id=item.id,
                session_id=item.session_id,
                version=version,
                reviewer=reviewer,
                at=datetime.now(UTC),
                **record,
            )
        )
        add_audit(
            session,
            reviewer,
            "review.decision",
            f"item:{item.id}",
            {"decision": decision.decision, "tags": list(decision.tags), "version": version},
        )
        item.status, item.tags = STATUS_OF[decision.decision], {"items": list(decision.tags)}
        if decision.decision == "reject":
            return _reject(settings, session, item, capture)
        if correction is not None:
            capture.label = correction.text
        elif decision.decision == "redact":
            _redact(settings, item, capture, decision.spans)
        _rewrite_metadata(settings, capture, item)
        session.flush()
        return _detail(settings, session, item, capture)


def _corrected(decision: Decision) -> Correction | None:
    if decision.decision != "correct":
        return None
    if decision.transcript is None:
        raise InvalidDecision("a correction needs the corrected transcript")
    return redact_correction(decision.transcript)


def _record(decision: Decision, correction: Correction | None) -> dict[str, Any]:
    """The decision's row as stored: a correction redacted, with its flagged spans."""
    return {
        "decision": decision.decision,
        "transcript": correction.text if correction else None,
        "spans": {
            "items": correction.flags if correction else [s.model_dump() for s in decision.spans]
        },
        "tags": {"items": list(decision.tags)},
    }


def _check(decision: Decision, capture: Capture) -> None:
    if decision.decision == "redact":
        if not decision.spans:
            raise InvalidDecision("a redaction needs at least one span")
        for span in decision.spans:
            if not span.start < span.end <= len(capture.transcript):
                raise InvalidDecision(
                    f"span {span.start}..{span.end} is outside the transcript "
                    f"(0..{len(capture.transcript)})"
                )


def _same(latest: ReviewDecision, record: dict[str, Any]) -> bool:
    return all(getattr(latest, name) == value for name, value in record.items())


def _reject(
    settings: Settings, session: Session, item: ReviewItem, capture: Capture
) -> dict[str, Any]:
    detail = _detail(settings, session, item, capture)
    detail["metadata"], detail["audio_url"] = {}, None
    siblings = session.scalar(
        select(func.count())
        .select_from(ReviewItem)
        .where(ReviewItem.session_id == capture.session_id, ReviewItem.batch_id == item.batch_id)
    )
    if item.batch_id is not None:
        batch = session.get(ReviewBatch, item.batch_id)
        assert batch is not None
        batch.rejected += int(siblings or 0)
    session.flush()
    session.commit()  # recorded and audited before the capture goes (the row goes with it)
    drop_turn(settings, StoredTurn.on(capture.session_id, capture.timestamp, capture.region))
    return detail


def _redact(settings: Settings, item: ReviewItem, capture: Capture, spans: list[Span]) -> None:
    """Replace the spans in the transcript and silence the words they cover in the audio."""
    text = capture.transcript
    entities = [Entity(s.type, s.start, s.end, 1.0, "redact") for s in _merged(spans)]
    times = capture.word_times.get("items", [])
    words = [
        Word(text=text[int(first) : int(last)], start=start, end=end, probability=1.0)
        for first, last, start, end in times
    ]
    store = _store(settings, capture)
    if words:
        pcm, rate = decode_flac(store.get(_key(capture, "audio.flac")))
        silenced = redact_audio(
            pcm,
            rate,
            words,
            text,
            entities,
            pad_ms=settings.redaction_pad_ms,
            mode=settings.redaction_audio_mode,
        )
        store.put(
            _key(capture, "audio.flac"), encode_flac(silenced, rate), content_type="audio/flac"
        )
        store.purge_history(_key(capture, "audio.flac"))  # the unredacted version goes
    pieces, cursor = [], 0
    for entity in entities:
        pieces += [text[cursor : entity.start], placeholder(entity)]
        cursor = entity.end
    capture.transcript = "".join([*pieces, text[cursor:]])
    capture.word_times = {
        "items": [
            [to_redacted(int(a), entities), to_redacted(int(b), entities, end=True), s, e]
            for a, b, s, e in times
        ]
    }
    item.spans = {
        "items": [
            {
                **span,
                "start": to_redacted(span["start"], entities),
                "end": to_redacted(span["end"], entities, end=True),
            }
            for span in item.spans.get("items", [])
            if not any(e.start < span["end"] and span["start"] < e.end for e in entities)
        ]
    }
    counts = dict(capture.redaction.get("entities", {}))
    for entity in entities:
        counts[entity.type] = counts.get(entity.type, 0) + 1
    capture.redaction = {**capture.redaction, "entities": counts}
    store.put(
        _key(capture, "transcript.txt"),
        capture.transcript.encode(),
        content_type="text/plain; charset=utf-8",
    )
    store.purge_history(_key(capture, "transcript.txt"))


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(start=last.start, end=max(last.end, span.end), type=last.type)
        else:
            merged.append(span)
    return merged


def _rewrite_metadata(settings: Settings, capture: Capture, item: ReviewItem) -> None:
    store = _store(settings, capture)
    key = _key(capture, "metadata.json")
    metadata = CaptureMetadata.model_validate_json(store.get(key))
    metadata.transcript = capture.transcript
    metadata.redaction = capture.redaction
    metadata.review = {"status": item.status, "label": capture.label, "tags": item.tags["items"]}
    store.put(key, metadata.to_json(), content_type="application/json")
    store.purge_history(key)  # holds the transcript: no version from before a redaction stays
