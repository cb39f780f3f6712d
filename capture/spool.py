"""The local spool: a consenting user's turn, kept on disk until the capture chain has stored it.

It holds unredacted data (the raw transcript and audio), so each entry is one file encrypted
with AES-GCM (the local store's key, the turn id authenticated with it), mode 0600 in a 0700
folder, written to a temporary name, fsynced and renamed: an entry is either whole or absent.
An entry is deleted only once the whole chain has succeeded; a sweep re-enqueues the ones
left behind.
"""

from __future__ import annotations

import json
import struct
import time
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field

from capture.keys import check_id
from capture.store_local import load_key, seal, unseal, write_durably
from core.audio import SAMPLE_RATE
from core.folders import data_folder
from core.messages import Word
from core.settings import Settings

MAGIC = b"VSP1"
SUFFIX = ".entry"


def aged(folder: Path, suffix: str) -> list[tuple[Path, float]]:
    """Files of ``folder`` ending in ``suffix``, with their modification times.

    A file deleted while the folder is read (a worker finished it) is left out.
    """
    found = []
    for path in folder.glob(f"*{suffix}"):
        try:
            found.append((path, path.stat().st_mtime))
        except FileNotFoundError:
            continue
    return found


class SpoolError(Exception):
    """An entry is missing, unreadable or not for this key."""


class SpoolRecord(BaseModel):
    """Everything the capture chain needs about one turn, before redaction."""

    turn_id: str
    user_id: str  # HMAC of the user token, never the token
    timestamp: str  # ISO 8601 UTC
    region: str
    conversation_id: str
    turn_index: int
    transcript: str
    response: str
    intent: str
    domain: str
    latency: dict[str, float]
    models: dict[str, str]
    words: list[Word] = Field(default_factory=list)  # STT word timestamps, for audio redaction
    avg_logprob: float = 0.0
    feedback: str | None = None
    sample_rate: int = SAMPLE_RATE


class Spool:
    """Entries under ``{data_dir}/spool``."""

    def __init__(self, settings: Settings) -> None:
        self.root = data_folder(settings, "spool")
        self.cipher = AESGCM(load_key(settings))

    def _path(self, turn_id: str) -> Path:
        return self.root / f"{check_id(turn_id)}{SUFFIX}"

    def put(self, record: SpoolRecord, pcm: bytes) -> Path:
        """Write the entry durably; returns its path."""
        header = record.model_dump_json().encode()
        plain = MAGIC + struct.pack(">I", len(header)) + header + pcm
        path = self._path(record.turn_id)
        write_durably(path, seal(self.cipher, plain, record.turn_id))
        return path

    def get(self, turn_id: str) -> tuple[SpoolRecord, bytes]:
        """The record and its PCM16 audio."""
        try:
            sealed = self._path(turn_id).read_bytes()
        except FileNotFoundError as exc:
            raise SpoolError(f"no spool entry for {turn_id}") from exc
        try:
            plain = unseal(self.cipher, sealed, turn_id)
        except InvalidTag as exc:
            raise SpoolError(f"spool entry {turn_id} does not decrypt") from exc
        if plain[:4] != MAGIC:
            raise SpoolError(f"spool entry {turn_id} has an unknown format")
        (length,) = struct.unpack(">I", plain[4:8])
        record = SpoolRecord.model_validate(json.loads(plain[8 : 8 + length]))
        return record, plain[8 + length :]

    def delete(self, turn_id: str) -> None:
        """Remove the entry (after the chain succeeded, or on erasure)."""
        self._path(turn_id).unlink(missing_ok=True)

    def pending(self, older_than_s: float = 0.0) -> list[str]:
        """Turn ids of entries written at least ``older_than_s`` seconds ago, oldest first."""
        cutoff = time.time() - older_than_s
        entries = [
            (mtime, path.name.removesuffix(SUFFIX)) for path, mtime in aged(self.root, SUFFIX)
        ]
        return [turn for mtime, turn in sorted(entries) if mtime <= cutoff]

    def exists(self, turn_id: str) -> bool:
        """Whether the turn still waits here (a chain step's check that it may go on)."""
        return self._path(turn_id).exists()

    def records_of(self, user_id: str, until: datetime | None = None) -> list[SpoolRecord]:
        """Entries of ``user_id`` (recorded at or before ``until``), oldest first."""
        found = []
        for turn_id in self.pending():
            try:
                record, _ = self.get(turn_id)
            except SpoolError:
                continue
            recorded = datetime.fromisoformat(record.timestamp)
            if record.user_id == user_id and (until is None or recorded <= until):
                found.append(record)
        return found
