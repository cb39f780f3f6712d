"""Latency percentiles and the SLO check, human MOS intervals, satisfaction, all by hand."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from capture.keys import object_key
from capture.metadata import CaptureMetadata
from capture.models import Capture
from capture.store import open_store
from core.db import session_scope
from learning.evaluation.latency import from_bench, from_turns, percentiles
from learning.evaluation.mos import human_mos, mos_interval
from learning.evaluation.production import production_figures
from tests.learning.conftest import NOW, STT_A, STT_B, Captured

OBJECTIVES = {"p50": 1500.0, "p95": 2500.0, "p99": 4000.0}


def test_percentiles_interpolate_linearly() -> None:
    values = [100.0 * n for n in range(1, 11)]  # 100 .. 1000
    # rank (n - 1) * q: P50 at 4.5 -> 550; P95 at 8.55 -> 900 + 0.55 * 100; P99 at 8.91 -> 991
    assert percentiles(values) == {
        "count": 10,
        "p50": 550.0,
        "p95": 955.0,
        "p99": 991.0,
        "mean": 550.0,
        "max": 1000.0,
    }
    assert percentiles([])["p50"] is None


def test_stage_percentiles_and_slo_from_turn_metadata() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)  # Monday of 2026-W48
    turns = [
        {
            "timestamp": start + timedelta(days=n % 7, hours=n),
            "latency": {
                "stt_ms": 10.0 * n,
                "rag_ms": 0.0,
                "first_audio_ms": 500.0 * n,
                "total_ms": 500.0 * n + 700,
            },
        }
        for n in range(1, 11)
    ]
    figures = from_turns(turns, OBJECTIVES)
    assert figures["turns"] == 10
    assert figures["stages"]["stt_ms"]["p50"] == 55.0
    assert figures["stages"]["rag_ms"]["count"] == 0  # 0 ms: the stage did not run
    e2e = figures["end_to_end"]  # 500 .. 5000: P50 2750, P95 4775, P99 4955
    assert (e2e["p50"], e2e["p95"], e2e["p99"]) == (2750.0, 4775.0, 4955.0)
    assert {k: v["met"] for k, v in figures["slo"].items()} == {
        "p50": False,
        "p95": False,
        "p99": False,
    }
    fast = from_turns([{**t, "latency": {"first_audio_ms": 100.0}} for t in turns], OBJECTIVES)
    assert all(v["met"] for v in fast["slo"].values())
    weeks = figures["per_week"]
    assert sum(w["count"] for w in weeks.values()) == 10
    assert list(weeks) == sorted(weeks)


def test_bench_talk_results_folder(tmp_path: Path) -> None:
    clips = [{"file": f"c{n}.flac", "first_audio_ms": 400.0 + 100 * n} for n in range(5)]
    clips.append({"file": "unanswered.flac", "first_audio_ms": None})
    (tmp_path / "results.json").write_text(
        json.dumps(
            {
                "set": "tests/data/speech/turns",
                "finished_utc": "2026-12-01T10:00:00Z",
                "clips_detail": clips,
            }
        )
    )
    figures = from_bench(tmp_path, OBJECTIVES)
    assert figures["clips"] == 6 and figures["unanswered"] == 1
    assert figures["first_audio"]["p50"] == 600.0  # 400..800
    assert figures["slo"]["p99"]["met"] is True


def test_mos_interval_by_hand() -> None:
    scores = [4, 5, 3, 4, 4]
    # mean 4, sample sd sqrt(2 / 4); t(0.975, 4) = 2.776445 (tables); half = t * sd / sqrt(5)
    half = 2.776445 * math.sqrt(0.5) / math.sqrt(5)
    figures = mos_interval(scores)
    assert figures["mos"] == 4.0 and figures["ratings"] == 5
    assert figures["ci95"] == pytest.approx([4 - half, 4 + half], abs=1e-3)
    assert mos_interval([3])["ci95"] is None
    assert mos_interval([])["mos"] is None


def test_human_mos_counts_raters_per_voice() -> None:
    ratings = [
        {"voice": "friendly", "score": 5, "rater": "rita", "tts": "piper:a"},
        {"voice": "friendly", "score": 4, "rater": "sam", "tts": "piper:a"},
        {"voice": "friendly", "score": 3, "rater": "rita", "tts": "piper:b"},
        {"voice": "technical", "score": 2, "rater": "sam", "tts": "piper:a"},
    ]
    figures = human_mos(ratings)
    assert figures["per_voice"]["friendly"]["raters"] == 2
    assert figures["per_voice"]["friendly"]["ratings"] == 3
    assert figures["per_voice"]["friendly"]["mos"] == 4.0
    assert figures["per_voice"]["friendly"]["tts_versions"] == ["piper:a", "piper:b"]
    assert figures["overall"]["mos"] == 3.5


def test_production_figures_from_captured_turns(captured: Captured) -> None:
    # The chain stored the model versions (with the voice) and first-audio latency in metadata.json.
    with session_scope(captured.settings) as session:
        row = session.get(Capture, "now-0")
        assert row is not None
        key = object_key(row.day, row.turn_id, "metadata.json")
    metadata = CaptureMetadata.model_validate_json(open_store(captured.settings, "eu").get(key))
    assert metadata.models["voice"] == "friendly" and metadata.models["stt"] == STT_B
    assert json.loads(metadata.to_json())["latency"]["first_audio_ms"] == 100.0

    figures = production_figures(captured.settings.model_copy(update={"eval_weeks": 1}), NOW)
    assert figures["period"]["turns"] == 10  # the four older turns are outside one week
    e2e = figures["latency"]["end_to_end"]
    assert (e2e["p50"], e2e["p95"], e2e["p99"]) == (550.0, 955.0, 991.0)
    assert figures["models"]["stt"] == {STT_B: 10}

    figures = production_figures(captured.settings, NOW)  # eight weeks: all 14
    assert figures["models"]["stt"] == {STT_B: 10, STT_A: 4}
    s = figures["satisfaction"]
    assert s["overall"] == {"rated": 13, "thumbs_up": 7, "rate": round(7 / 13, 4)}
    assert s["per_voice"]["friendly"] == {"rated": 9, "thumbs_up": 6, "rate": round(6 / 9, 4)}
    assert s["per_voice"]["technical"] == {"rated": 4, "thumbs_up": 1, "rate": 0.25}
    assert s["per_model"]["stt"][STT_A] == {"rated": 3, "thumbs_up": 0, "rate": 0.0}
    assert s["per_domain"]["chemistry"]["rated"] == 5
    assert len(s["per_week"]) >= 2
    assert figures["human_mos"]["overall"]["ratings"] == 0
