"""Fresh databases for tests: one PostgreSQL database per use on 127.0.0.1:5432, or SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from core.db import engine_for

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield a URL of an empty database of ``kind`` (``postgresql`` or ``sqlite``)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'voice.db'}"
        yield url
        engine_for(url).dispose()
        return
    name = f"voice_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
