"""What a decision changes in a stored capture, made in an explicit order.

1. ``plan``: read the row and the stored objects, compute every new value and object (the
   silenced audio encoded once, the redacted transcript, ``metadata.json``). No writes.
2. ``store_first``: put the new objects, keeping the bytes they replace.
3. The caller commits the rows in one short transaction.
4. If that fails, ``undo`` puts the kept bytes back (the compensating step), only where the
   object is still what this decision wrote; once it succeeds, ``purge`` removes the earlier
   versions on a versioned bucket.

Should the undo fail too, the store is left ahead of the database, never behind it: it holds
the reviewer's redaction, which repeating the decision (the same request) completes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from capture.flac import decode_flac
from capture.keys import object_key
from capture.metadata import CaptureMetadata
from capture.models import Capture, ReviewItem
from capture.objects import CONTENT_TYPES, redacted_flac, rewrite_metadata
from capture.offsets import placeholder, to_redacted
from capture.store import ObjectStore, open_store
from core.messages import Word
from core.settings import Settings
from redaction.text import Entity

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """The capture and item as the decision leaves them, and the objects to rewrite."""

    status: str
    tags: list[str]
    label: str | None
    transcript: str
    word_times: list[Any]
    spans: list[Any]
    redaction: dict[str, Any]
    objects: dict[str, bytes] = field(default_factory=dict)  # audio.flac, transcript.txt

    def apply(self, item: ReviewItem, capture: Capture) -> None:
        """Set the rows' new values (the caller commits them)."""
        item.status, item.tags, item.spans = self.status, self.tags, self.spans
        capture.label, capture.transcript = self.label, self.transcript
        capture.word_times, capture.redaction = self.word_times, self.redaction

    def change_metadata(self, metadata: CaptureMetadata) -> None:
        """``metadata.json`` as the decision leaves it."""
        metadata.transcript = self.transcript
        metadata.redaction = self.redaction
        metadata.review = {"status": self.status, "label": self.label, "tags": self.tags}


def plan(
    settings: Settings,
    item: ReviewItem,
    capture: Capture,
    *,
    status: str,
    tags: list[str],
    label: str | None,
    entities: list[Entity],
) -> Plan:
    """The decision's effect; ``entities`` are spans to redact (none but for ``redact``)."""
    planned = Plan(
        status,
        tags,
        label,
        capture.transcript,
        list(capture.word_times),
        list(item.spans),
        dict(capture.redaction),
    )
    if entities:
        _redact(settings, planned, capture, entities)
    return planned


def _redact(settings: Settings, planned: Plan, capture: Capture, entities: list[Entity]) -> None:
    """Replace the spans in the transcript and silence the words they cover in the audio."""
    text, times = capture.transcript, capture.word_times
    words = [
        Word(text=text[int(first) : int(last)], start=start, end=end, probability=1.0)
        for first, last, start, end in times
    ]
    if words:
        key = object_key(capture.day, capture.turn_id, "audio.flac")
        pcm, rate = decode_flac(open_store(settings, capture.region).get(key))
        planned.objects["audio.flac"] = redacted_flac(settings, pcm, rate, words, text, entities)
    pieces, cursor = [], 0
    for entity in entities:
        pieces += [text[cursor : entity.start], placeholder(entity)]
        cursor = entity.end
    planned.transcript = "".join([*pieces, text[cursor:]])
    planned.objects["transcript.txt"] = planned.transcript.encode()
    planned.word_times = [
        [to_redacted(int(a), entities), to_redacted(int(b), entities, end=True), s, e]
        for a, b, s, e in times
    ]
    planned.spans = [
        {
            **span,
            "start": to_redacted(span["start"], entities),
            "end": to_redacted(span["end"], entities, end=True),
        }
        for span in planned.spans
        if not any(e.start < span["end"] and span["start"] < e.end for e in entities)
    ]
    counts = dict(planned.redaction.get("entities", {}))
    for entity in entities:
        counts[entity.type] = counts.get(entity.type, 0) + 1
    planned.redaction = {**planned.redaction, "entities": counts}


@dataclass
class Written:
    """What ``store_first`` replaced: each key's bytes before and after."""

    store: ObjectStore
    before: dict[str, bytes] = field(default_factory=dict)
    after: dict[str, bytes] = field(default_factory=dict)


def store_first(settings: Settings, capture: Capture, planned: Plan) -> Written:
    """Put the planned objects and ``metadata.json``; a failure part-way undoes what was put."""
    store = open_store(settings, capture.region)
    written = Written(store)
    try:
        for name, data in planned.objects.items():
            key = object_key(capture.day, capture.turn_id, name)
            written.before[key] = store.get(key)
            store.put(key, data, content_type=CONTENT_TYPES[name])
            written.after[key] = data
        key = object_key(capture.day, capture.turn_id, "metadata.json")
        rewritten = rewrite_metadata(store, capture.day, capture.turn_id, planned.change_metadata)
        if rewritten is not None:
            written.before[key], written.after[key] = rewritten
    except BaseException:
        undo(written)
        raise
    return written


def undo(written: Written) -> None:
    """The compensating step: each object back as it was, unless something replaced it since."""
    for key, before in written.before.items():
        try:
            if key in written.after and written.store.get(key) != written.after[key]:
                continue  # another decision wrote it since: leave theirs
            name = key.rsplit("/", 1)[-1]
            written.store.put(key, before, content_type=CONTENT_TYPES[name])
        except Exception:
            log.exception("could not put %s back after a failed decision", key)


def purge(written: Written) -> None:
    """After the commit: no earlier version of a rewritten object stays (a redaction's old text)."""
    for key in written.after:
        written.store.purge_history(key)
