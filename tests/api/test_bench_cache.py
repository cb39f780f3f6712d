"""``voice-service bench-cache``: bad input gets one line; a run prints both figures."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.test_cli import cli
from tests.conftest import speech_clip


def test_bad_runs_and_missing_files_get_one_line(tmp_path: Path) -> None:
    done = cli("bench-cache", str(speech_clip("jfk.flac")), "--runs", "0")
    assert done.returncode != 0 and "--runs must be at least 1" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = cli("bench-cache", str(tmp_path / "missing.flac"))
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1


def test_a_run_prints_cached_and_uncached_first_audio(tmp_path: Path) -> None:
    clip = speech_clip("turns/complete_no_pause-00.flac")
    done = cli(
        "bench-cache",
        str(clip),
        "--runs",
        "1",
        "--json",
        env={"VOICE_DATA_DIR": str(tmp_path), "VOICE_REDIS_URL": ""},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["transcript"].lower().startswith("what is the speed of light")
    assert result["store"] == "in-process"
    assert result["uncached_first_audio_ms"] > 0 and result["cached_first_audio_ms"] >= 0
    assert result["ratio"] == round(
        result["cached_first_audio_ms"] / result["uncached_first_audio_ms"], 4
    )
