"""Commands that need the database call :func:`ensure_database` first.

The embedded SQLite file is the service's own: it is migrated on the spot, as ``serve`` does.
A configured database (PostgreSQL) belongs to the operator: a command never migrates it
behind their back, it says which command to run.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from core.db import get_engine
from core.errors import VoiceServiceError
from core.settings import Settings


def ensure_database(settings: Settings) -> None:
    """Make the embedded database current, or check that the configured one is."""
    from migrations import revisions, upgrade

    url = settings.resolved_database_url()
    get_engine(settings)  # the embedded file's folder is made here
    try:
        if settings.database_url is None:
            upgrade(url)
            return
        current, heads = revisions(url)
    except SQLAlchemyError as exc:
        where = get_engine(settings).url.render_as_string(hide_password=True)
        cause = getattr(exc, "orig", None) or exc  # the driver's own words, without SQL
        first = str(cause).strip().splitlines()
        reason = first[0] if first else type(exc).__name__
        raise VoiceServiceError(
            f"cannot use the database at {where}: {reason}", code="database_unavailable"
        ) from exc
    if current != heads:
        state = ", ".join(sorted(current)) or "empty"
        raise VoiceServiceError(
            f"the database is not migrated ({state}; the code needs {', '.join(sorted(heads))}):"
            " run `voice-service db upgrade`",
            code="database_not_migrated",
        )
