"""Latency percentiles per stage and end to end, from captured turns and bench-talk results.

Captured turns carry ``latency`` in their metadata (``stt_ms``, ``nlu_ms``, ``rag_ms``,
``llm_ms``, ``tts_ms``: the server's timings of each stage; ``first_audio_ms``: from the end
of the user's speech to the answer's first audio, the end-to-end latency the objectives are
about; ``total_ms``: to the end of the answer).
A bench-talk results folder (``results.json`` of ``voice-service bench-talk --set``) gives
the client's view: first reply audio after the true end of speech. Percentiles are numpy's
(linear interpolation); with few turns P99 is close to the maximum.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import VoiceServiceError
from core.settings import Settings

STAGES = ("stt_ms", "nlu_ms", "rag_ms", "llm_ms", "tts_ms", "first_audio_ms", "total_ms")
END_TO_END = "first_audio_ms"


def percentiles(values: Sequence[float]) -> dict[str, Any]:
    """count, P50, P95, P99, mean and max (ms, one decimal); Nones when there are none."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    p50, p95, p99 = (round(float(v), 1) for v in np.percentile(values, [50, 95, 99]))
    return {
        "count": len(values),
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "mean": round(float(np.mean(values)), 1),
        "max": round(float(np.max(values)), 1),
    }


def slo(settings: Settings) -> dict[str, float]:
    """The end-to-end latency objectives, ms."""
    return {"p50": settings.slo_p50_ms, "p95": settings.slo_p95_ms, "p99": settings.slo_p99_ms}


def slo_check(figures: Mapping[str, Any], objectives: Mapping[str, float]) -> dict[str, Any]:
    """For each objective: target, measured, and whether it is met (None without data)."""
    return {
        name: {
            "target_ms": target,
            "measured_ms": figures.get(name),
            "met": None if figures.get(name) is None else figures[name] < target,
        }
        for name, target in objectives.items()
    }


def week_of(moment: datetime) -> str:
    """The ISO week, e.g. ``2026-W48``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def from_turns(
    turns: Iterable[Mapping[str, Any]], objectives: Mapping[str, float]
) -> dict[str, Any]:
    """Per-stage and end-to-end figures, per week, and the SLO check, from captured turns.

    Each turn is a mapping with ``latency`` (stage -> ms) and ``timestamp`` (datetime); a
    stage with 0 ms did not run in that turn (no retrieval, say) and is left out of its figures.
    """
    rows = list(turns)
    stages = {
        stage: [float(t["latency"][stage]) for t in rows if float(t["latency"].get(stage) or 0) > 0]
        for stage in STAGES
    }
    weeks: dict[str, list[float]] = {}
    for turn in sorted(rows, key=lambda t: t["timestamp"]):
        total = float(turn["latency"].get(END_TO_END) or 0)
        if total > 0:
            weeks.setdefault(week_of(turn["timestamp"]), []).append(total)
    overall = percentiles(stages[END_TO_END])
    return {
        "turns": len(rows),
        "stages": {stage: percentiles(values) for stage, values in stages.items()},
        "end_to_end": overall,
        "slo": slo_check(overall, objectives),
        "per_week": {week: percentiles(values) for week, values in weeks.items()},
        "samples": {stage: [round(v, 1) for v in values] for stage, values in stages.items()},
    }


def from_bench(folder: Path, objectives: Mapping[str, float]) -> dict[str, Any]:
    """First-audio latency of a ``bench-talk --set`` results folder, and the SLO check."""
    path = folder / "results.json"
    try:
        document = json.loads(path.read_text("utf-8"))
        clips = document["clips_detail"]
        values = [float(c["first_audio_ms"]) for c in clips if c.get("first_audio_ms") is not None]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VoiceServiceError(f"cannot read {path}: {exc}", code="bad_bench") from exc
    figures = percentiles(values)
    return {
        "folder": str(folder),
        "set": document.get("set"),
        "finished_utc": document.get("finished_utc"),
        "clips": len(clips),
        "unanswered": len(clips) - len(values),
        "first_audio": figures,
        "slo": slo_check(figures, objectives),
        "samples": [round(v, 1) for v in values],
    }
