"""Alembic environment and versions of the capture database (``voice-service db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url``, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def revisions(url: str) -> tuple[set[str], set[str]]:
    """The database's current revisions and the code's heads (equal when it is up to date)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from core.db import engine_for

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine_for(url).connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, heads
