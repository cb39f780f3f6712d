"""A stored turn's three objects: written together, ``metadata.json`` rewritten, audio redacted.

The capture chain and reviewers' decisions both write these objects; this is the one place
that knows how: which content type each has, that the three go up concurrently, how
``metadata.json`` is read, changed and put back, and how words are silenced in the audio
before it is encoded (once) to FLAC.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from capture.flac import encode_flac
from capture.keys import FILES, object_key
from capture.metadata import CaptureMetadata
from capture.store import ObjectNotFound, ObjectStore
from core.messages import Word
from core.settings import Settings
from redaction.audio import redact_audio
from redaction.text import Entity

CONTENT_TYPES = {
    "audio.flac": "audio/flac",
    "metadata.json": "application/json",
    "transcript.txt": "text/plain; charset=utf-8",
}
assert set(CONTENT_TYPES) == set(FILES)
_pools: dict[int, ThreadPoolExecutor] = {}  # one small pool per process (forks make their own)
_pools_lock = threading.Lock()
_put_threads: list[int] = []  # the pool's thread idents (the bench counts their CPU time)


def _pool() -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            _put_threads.clear()
            pool = _pools[os.getpid()] = ThreadPoolExecutor(
                max_workers=len(FILES),
                thread_name_prefix="capture-put",
                initializer=lambda: _put_threads.append(threading.get_ident()),
            )
        return pool


def put_threads() -> list[int]:
    """Idents of this process's upload threads started so far."""
    return list(_put_threads)


def put_objects(store: ObjectStore, day: date, turn_id: str, objects: Mapping[str, bytes]) -> None:
    """Put each of ``objects`` (file name → bytes) under the turn's keys, concurrently.

    Every put is attempted; the first failure is raised once all have finished, so a retry
    finds no put still running.
    """
    keys = {name: object_key(day, turn_id, name) for name in objects}
    if len(objects) == 1:
        ((name, data),) = objects.items()
        store.put(keys[name], data, content_type=CONTENT_TYPES[name])
        return
    futures = [
        _pool().submit(store.put, keys[name], data, content_type=CONTENT_TYPES[name])
        for name, data in objects.items()
    ]
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def turn_objects(metadata: CaptureMetadata, flac: bytes) -> dict[str, bytes]:
    """The three objects of a turn, from its (redacted) metadata and audio."""
    return {
        "audio.flac": flac,
        "metadata.json": metadata.to_json(),
        "transcript.txt": metadata.transcript.encode(),
    }


def read_metadata(store: ObjectStore, day: date, turn_id: str) -> CaptureMetadata:
    """The turn's stored ``metadata.json``; ``ObjectNotFound`` if it is gone."""
    return CaptureMetadata.model_validate_json(store.get(object_key(day, turn_id, "metadata.json")))


def rewrite_metadata(
    store: ObjectStore,
    day: date,
    turn_id: str,
    change: Callable[[CaptureMetadata], None],
    *,
    purge: bool = False,
) -> tuple[bytes, bytes] | None:
    """Read ``metadata.json``, apply ``change`` to it, put it back if that changed it.

    Returns the object's bytes before and after, or None when it is gone (erased or expired
    meanwhile: nothing to rewrite). ``purge`` removes earlier versions on a versioned bucket
    (a rewrite that took text out).
    """
    key = object_key(day, turn_id, "metadata.json")
    try:
        before = store.get(key)
    except ObjectNotFound:
        return None
    metadata = CaptureMetadata.model_validate_json(before)
    change(metadata)
    after = metadata.to_json()
    if after != before:
        store.put(key, after, content_type=CONTENT_TYPES["metadata.json"])
    if purge:
        store.purge_history(key)
    return before, after


def redacted_flac(
    settings: Settings,
    pcm: bytes,
    sample_rate: int,
    words: Sequence[Word],
    transcript: str,
    entities: Sequence[Entity],
) -> bytes:
    """FLAC of ``pcm`` with the words under ``redact`` entities silenced (or toned), encoded once.

    Without such an entity, or without word timings, the audio is encoded as it is.
    """
    if words and any(e.action == "redact" for e in entities):
        pcm = redact_audio(
            pcm,
            sample_rate,
            words,
            transcript,
            entities,
            pad_ms=settings.redaction_pad_ms,
            mode=settings.redaction_audio_mode,
        )
    return encode_flac(pcm, sample_rate)
