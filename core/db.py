"""The database engine and sessions (PostgreSQL through psycopg 3, or embedded SQLite).

The embedded SQLite file is private (0600: SQLite gives its ``-wal`` and ``-shm`` files the
same mode) and every connection runs with ``secure_delete``, so deleted rows are overwritten
with zeros instead of lingering in free pages; ``compact_after_delete`` then empties the
write-ahead log, which still holds the pages as they were before the delete.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.folders import DataFolderError, data_folder
from core.settings import Settings

log = logging.getLogger(__name__)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it is missing, and make it 0600 if it is ours.

    Its folder must exist: making it is the caller's job. A file that cannot be opened is one
    clear error naming it.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DataFolderError(f"cannot open the database file {path}: {exc.strerror}") from None
    try:
        if os.fstat(descriptor).st_uid == os.geteuid():
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL and process."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None and path.parent.is_dir():
            make_private(path)  # before SQLite makes it 0644
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")  # deleted content is overwritten
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def get_engine(settings: Settings) -> Engine:
    """The engine of the configured database."""
    if settings.database_url is None:
        data_folder(settings)  # the embedded SQLite file lives there
    return engine_for(settings.resolved_database_url())


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(get_engine(settings), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def compact_after_delete(settings: Settings, tables: Sequence[str], *, vacuum: bool = True) -> None:
    """After an erasure or retention run: leave no deleted row readable in the database files.

    SQLite: checkpoint the write-ahead log into the database and truncate it to zero bytes
    (``secure_delete`` has already zeroed the deleted rows in the pages written back).
    PostgreSQL: ``VACUUM`` (or ``VACUUM FULL``, which rewrites the files) of ``tables`` when
    ``VOICE_ERASURE_VACUUM`` asks for it and ``vacuum`` allows it (a single dropped turn does
    not: its exclusive locks would stall captures and reviews; the daily retention run vacuums).
    Off by default (see docs/SECURITY.md).

    The deletes are committed by then: a failure here is logged, not raised, so that a retried
    erasure does not run again; the next erasure or retention run compacts what is left.
    """
    engine = get_engine(settings)
    try:
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                busy, _, _ = connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
            if busy:
                log.warning("the SQLite log was not emptied (a reader held it): the next run will")
        elif engine.dialect.name == "postgresql" and vacuum and settings.erasure_vacuum != "off":
            command = "VACUUM FULL" if settings.erasure_vacuum == "full" else "VACUUM"
            quoted = ", ".join(engine.dialect.identifier_preparer.quote(t) for t in tables)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f"{command} {quoted}"))
    except SQLAlchemyError as exc:
        log.error("compacting the database after a delete failed: %s", type(exc).__name__)
