"""Consent changes: kept durably on the API side, applied (ledger, erasure) by a worker.

A change is written to an outbox folder beside the spool before anything else happens, so a
grant or a revocation survives a broker or database outage; the worker task records it in
the ledger (once: the event id is unique), erases on revocation, then removes the file. The
sweep re-enqueues files left behind.

A revocation also deletes the user's spool entries at once, on the API side: every step of
the capture chain checks that its turn's entry still exists, so a chain in flight stops and
cleans up after itself, and the turns it had stored are erased by the worker from the list
kept in the change.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from capture.keys import check_id
from capture.spool import Spool, SpoolRecord, aged
from capture.store_local import write_durably
from core.folders import data_folder
from core.settings import Settings

SUFFIX = ".json"


class StoredTurn(BaseModel):
    """Where a turn's objects are: enough to delete them without the database."""

    turn_id: str
    day: str  # YYYY-MM-DD (UTC), as in the object layout
    region: str

    @classmethod
    def on(cls, turn_id: str, when: datetime, region: str) -> StoredTurn:
        """The turn recorded at ``when`` (its UTC day names its objects' folder)."""
        return cls(turn_id=turn_id, day=when.astimezone(UTC).date().isoformat(), region=region)

    @classmethod
    def of_record(cls, record: SpoolRecord) -> StoredTurn:
        """Where a spooled turn's objects go."""
        return cls.on(record.turn_id, datetime.fromisoformat(record.timestamp), record.region)


class ConsentChange(BaseModel):
    """One grant or revocation, as the user made it."""

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    user_id: str = Field(min_length=64, max_length=64)  # HMAC of the user token
    granted: bool
    policy_version: str
    source: str  # session, api
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    spooled_turns: list[StoredTurn] = Field(default_factory=list)  # erased from the spool


class ConsentOutbox:
    """Changes not yet applied, under ``{data_dir}/consent``."""

    def __init__(self, settings: Settings) -> None:
        self.root = data_folder(settings, "consent")

    def _path(self, event_id: str) -> Path:
        return self.root / f"{check_id(event_id)}{SUFFIX}"

    def put(self, change: ConsentChange) -> None:
        """Keep the change durably."""
        write_durably(self._path(change.event_id), change.model_dump_json().encode())

    def get(self, event_id: str) -> ConsentChange | None:
        """The change, or None once applied (or if the file is not a change)."""
        try:
            return ConsentChange.model_validate_json(self._path(event_id).read_bytes())
        except (FileNotFoundError, ValidationError):
            return None

    def delete(self, event_id: str) -> None:
        """The change is applied."""
        self._path(event_id).unlink(missing_ok=True)

    def pending(self, older_than_s: float = 0.0) -> list[str]:
        """Event ids not yet applied, kept at least ``older_than_s`` seconds ago, oldest first."""
        cutoff = time.time() - older_than_s
        entries = [(mtime, p.name.removesuffix(SUFFIX)) for p, mtime in aged(self.root, SUFFIX)]
        return [event_id for mtime, event_id in sorted(entries) if mtime <= cutoff]


def request_change(
    settings: Settings, user_id: str, *, granted: bool, source: str
) -> ConsentChange:
    """Keep a consent change; on revocation, erase the user's spooled turns now.

    Returns the change for the caller to enqueue (``workers.config.enqueue_consent``).
    """
    change = ConsentChange(
        user_id=user_id,
        granted=granted,
        policy_version=settings.consent_policy_version,
        source=source,
    )
    spool = Spool(settings)
    if not granted:  # all of the user's entries: each was recorded before this change
        change.spooled_turns = [StoredTurn.of_record(r) for r in spool.records_of(user_id)]
    ConsentOutbox(settings).put(change)  # first: the erasure survives a crash from here on
    if not granted:
        for turn in change.spooled_turns:
            spool.delete(turn.turn_id)
    return change
