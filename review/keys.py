"""Admin API keys: made once and shown once, kept as SHA-256 hashes, revocable.

Keys are 256 random bits, so a plain SHA-256 (not a slow password hash) is enough to make a
leaked table useless, and lets a request's key be found by its hash in one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select

from capture.models import ApiKey
from capture.queries import add_audit
from core.db import session_scope
from core.settings import Settings

Role = Literal["reviewer", "admin"]
ROLES: tuple[Role, ...] = ("reviewer", "admin")
PREFIX = "vsk_"
MAX_KEY_CHARS = 128


@dataclass(frozen=True)
class Caller:
    """Who an accepted key belongs to."""

    key_id: int
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        """Admins may do everything reviewers may."""
        return self.role == "admin" or role == "reviewer"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(settings: Settings, name: str, role: str) -> tuple[int, str]:
    """A new key for ``name``; returns its id and the key (never stored in clear)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 64:
        raise ValueError("a key needs a name of 1 to 64 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    with session_scope(settings) as session:
        row = ApiKey(name=name, role=role, key_hash=_hash(key), created_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        add_audit(session, "cli", "key.create", f"key:{row.id}", {"role": role})
        return row.id, key


def list_keys(settings: Settings) -> list[ApiKey]:
    """Every key, revoked ones included (their hashes are never shown)."""
    with session_scope(settings) as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(settings: Settings, key_id: int) -> bool:
    """Revoke a key; False if there is no such key."""
    with session_scope(settings) as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            return False
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            add_audit(session, "cli", "key.revoke", f"key:{key_id}", {})
        return True


def authenticate(settings: Settings, key: str) -> Caller | None:
    """The caller a live key belongs to (its last use recorded), or None."""
    if not key.startswith(PREFIX) or len(key) > MAX_KEY_CHARS or not key.isascii():
        return None  # keys are ASCII: anything else is malformed, refused without a lookup
    with session_scope(settings) as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == _hash(key))).first()
        if row is None or row.revoked_at is not None:
            return None
        row.last_used_at = datetime.now(UTC)
        return Caller(row.id, row.name, row.role)  # type: ignore[arg-type]
