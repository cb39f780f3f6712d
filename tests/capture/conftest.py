"""The capture tests' database: each test runs on PostgreSQL and on SQLite, migrated by the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from tests.utils.databases import fresh_database


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    with fresh_database(request.param, tmp_path) as url:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "db", "upgrade"],
            capture_output=True,
            text=True,
            env={**os.environ, "VOICE_DATABASE_URL": url},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "is at head" in done.stdout
        yield Settings(database_url=url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
