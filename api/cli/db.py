"""``voice-service db upgrade``: bring the capture database to the latest schema."""

from __future__ import annotations

import argparse
from typing import Any

from core.db import get_engine
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("db", help="the capture database")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="run the Alembic migrations up to REVISION")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(run=run_upgrade)


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, then say where."""
    from migrations import upgrade

    get_engine(settings)  # creates the data folder for the embedded SQLite file
    upgrade(settings.resolved_database_url(), args.revision)
    print(
        f"database at {get_engine(settings).url.render_as_string(hide_password=True)} "
        f"is at {args.revision}"
    )
    return 0
