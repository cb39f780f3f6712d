"""Shared fixtures: real models loaded once per test session, the shared speech clips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.voice.models import Models
from core.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_clip(name: str) -> Path:
    """A clip from ../shared/data; skips (naming it) where that folder is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"test speech {path} is absent (it lives beside the checkout, not in it)")
    return path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def models(settings: Settings) -> Iterator[Models]:
    yield Models.load(settings)
