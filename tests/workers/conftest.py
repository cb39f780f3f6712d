"""The worker tests' services: Redis database 14 as the broker, a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from core.settings import Settings
from migrations import upgrade
from tests.utils.capture import BROKER
from tests.utils.databases import fresh_database


@pytest.fixture
def pipeline_env(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    redis.Redis.from_url(BROKER).flushdb()
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        env = {
            "VOICE_DATA_DIR": str(tmp_path),
            "VOICE_BROKER_URL": BROKER,
            "VOICE_DATABASE_URL": url,
        }
        settings = Settings(data_dir=tmp_path, broker_url=BROKER, database_url=url, _env_file=None)  # type: ignore[call-arg]
        yield settings, env
