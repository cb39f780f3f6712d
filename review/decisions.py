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
from capture.keys import object_key
from capture.metadata import CaptureMetadata
from capture.models import Capture, ReviewBatch, ReviewDecision, ReviewItem
from capture.queries import add_audit
from capture.store import ObjectNotFound, ObjectStore, open_store
from core.db import session_scope
from core.settings import Settings
from redaction.text import Entity
from review import changes
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


class DecisionConflict(InvalidDecision):
    """Another decision on the item was committed while this one was being applied."""


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


def _item(session: Session, item_id: int, *, lock: bool = False) -> tuple[ReviewItem, Capture]:
    item = session.get(ReviewItem, item_id, with_for_update=True if lock else None)
    if item is None:
        raise NotFound(item_id)
    capture = session.get(Capture, item.turn_id)
    assert capture is not None  # the foreign key deletes items with their capture
    return item, capture


def _store(settings: Settings, capture: Capture) -> ObjectStore:
    return open_store(settings, capture.region)


def _key(capture: Capture, name: str) -> str:
    return object_key(capture.day, capture.turn_id, name)


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
        "turn_id": item.turn_id,
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
        "spans": item.spans,
        "tags": item.tags,
        "metadata": metadata,
        "audio_url": f"/v1/admin/review/items/{item.id}/audio",
        "decisions": [
            {
                "version": d.version,
                "decision": d.decision,
                "transcript": d.transcript,
                "spans": d.spans,
                "tags": d.tags,
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
    """Apply and record a decision; returns the item as it now is.

    The order is explicit (``review.changes``): plan from the rows and objects, write the
    objects, then commit the rows in one short transaction; a failed commit undoes the writes.
    A rejection is recorded first, then the capture deleted (objects, then rows): repeating it
    finishes a deletion that failed part-way.
    """
    correction = _corrected(decision)  # redacted before anything is stored
    record = _record(decision, correction)
    with session_scope(settings) as session:
        item, capture = _item(session, item_id)
        _check(decision, capture)
        history = _history(session, item_id)
        repeated = bool(history) and _same(history[-1], record)
        version = (history[-1].version if history else 0) + 1
        if decision.decision == "reject":
            if not repeated:
                _add(session, item, version, reviewer, record, decision)
                _count_rejected(session, item, capture)
            return _reject(settings, session, item, capture)
        if repeated:
            return _detail(settings, session, item, capture)  # a repeated request
    planned = changes.plan(  # the rows as read, the objects as stored: nothing written yet
        settings,
        item,
        capture,
        status=STATUS_OF[decision.decision],
        tags=list(decision.tags),
        label=correction.text if correction else capture.label,
        entities=_entities(decision),
    )
    written = changes.store_first(settings, capture, planned)
    try:
        with session_scope(settings) as session:
            item, capture = _item(session, item_id, lock=True)
            _add(session, item, version, reviewer, record, decision)
            planned.apply(item, capture)
    except BaseException:
        changes.undo(written)
        raise
    changes.purge(written)
    return item_detail(settings, item_id)


def _add(
    session: Session,
    item: ReviewItem,
    version: int,
    reviewer: str,
    record: dict[str, Any],
    decision: Decision,
) -> None:
    """The decision's row and audit entry, as version ``version`` (the next one)."""
    latest = session.scalar(
        select(func.max(ReviewDecision.version)).where(ReviewDecision.item_id == item.id)
    )
    if (latest or 0) != version - 1:
        raise DecisionConflict(f"item {item.id} was decided meanwhile: reload it and decide again")
    session.add(
        ReviewDecision(
            item_id=item.id,
            turn_id=item.turn_id,
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
    item.tags = list(decision.tags)


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
        "spans": correction.flags if correction else [s.model_dump() for s in decision.spans],
        "tags": list(decision.tags),
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


def _entities(decision: Decision) -> list[Entity]:
    """A redaction's spans, merged, as entities to redact (none for other decisions)."""
    if decision.decision != "redact":
        return []
    return [Entity(s.type, s.start, s.end, 1.0, "redact") for s in _merged(decision.spans)]


def _count_rejected(session: Session, item: ReviewItem, capture: Capture) -> None:
    """The batch counts the items the rejection deletes (the turn's items in it)."""
    item.status = STATUS_OF["reject"]
    if item.batch_id is None:
        return
    siblings = session.scalar(
        select(func.count())
        .select_from(ReviewItem)
        .where(ReviewItem.turn_id == capture.turn_id, ReviewItem.batch_id == item.batch_id)
    )
    batch = session.get(ReviewBatch, item.batch_id)
    assert batch is not None
    batch.rejected += int(siblings or 0)


def _reject(
    settings: Settings, session: Session, item: ReviewItem, capture: Capture
) -> dict[str, Any]:
    """Commit the recorded rejection, then delete the capture: objects, then rows."""
    session.flush()
    detail = _detail(settings, session, item, capture)
    detail["metadata"], detail["audio_url"] = {}, None
    session.commit()  # recorded and audited before the capture goes (the row goes with it)
    drop_turn(settings, StoredTurn.on(capture.turn_id, capture.timestamp, capture.region))
    return detail


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(start=last.start, end=max(last.end, span.end), type=last.type)
        else:
            merged.append(span)
    return merged
