"""Shared fixtures: real models loaded once per test session, the test speech clips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.voice.models import Models
from core.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Under pytest-xdist (`make test` runs two processes) each process has its own Redis
# database as broker and cache (14, 13, ...), so one's flushdb never touches the other's.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw"):
    os.environ["VOICE_TEST_BROKER"] = f"redis://127.0.0.1:6379/{14 - int(_XDIST_WORKER[2:])}"
ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "data" / "speech"


def speech_clip(name: str) -> Path:
    """A clip of real speech from tests/data/speech (README.md there names each one's source)."""
    path = SPEECH / name
    assert path.is_file(), f"test speech {path} is missing from the checkout"
    return path


# Files of minutes each (the learning loop's real fine-tunes). pytest-xdist hands out files in
# collection order (make test passes --no-loadscope-reorder; by default it puts files with many
# tests first): these start at once, one per process, instead of queuing in one at the end.
_SLOW_FIRST = (
    "tests/learning/loop/test_loop.py",
    "tests/learning/loop/test_training_queue.py",
    "tests/learning/loop/test_finetune_errors.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first, in the order above; every other test keeps its place."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return _SLOW_FIRST.index(path) if path in _SLOW_FIRST else len(_SLOW_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    # tts_noise off: speech the tests make is the same every run (Piper's noise is random)
    return Settings(data_dir=data_dir, tts_noise=False, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def models(settings: Settings) -> Iterator[Models]:
    yield Models.load(settings)
