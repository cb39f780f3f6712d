"""``models evaluate``: WER and latency on a test split and the shipped regression set.

The regression set ships with the package (``learning/data/regression``).

Models compared are run in the same pass, clip by clip in turn, so a busy machine slows
each alike and the latency figures stay comparable. Decoding is the service's: faster-whisper
with the configured device, compute type, beam size and language.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.audio import SAMPLE_RATE
from core.settings import Settings
from learning.evaluation.stt import wer
from learning.finetune.data import Clip

REGRESSION = Path(__file__).resolve().parents[1] / "data" / "regression"


def regression_clips(folder: Path = REGRESSION) -> list[Clip]:
    """The fixed regression set: ``manifest.jsonl`` lines of ``file`` and ``text``."""
    from faster_whisper import decode_audio

    clips = []
    for line in (folder / "manifest.jsonl").read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            audio = np.asarray(decode_audio(str(folder / entry["file"]), sampling_rate=SAMPLE_RATE))
            clips.append(Clip(audio, entry["text"], "regression", entry["file"]))
    return clips


def held_out_clips(dataset: Path) -> list[Clip]:
    """The dataset's test split (a dataset without one is an error)."""
    from learning.errors import LearningError
    from learning.finetune import data

    splits = data.load_splits(dataset)
    if "test" not in splits or len(splits["test"]) == 0:
        raise LearningError(f"dataset {dataset} has no test split to evaluate on")
    return data.clips(splits["test"], dataset)


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else 0.0


def evaluate_folders(
    settings: Settings,
    folders: dict[str, Path],
    test: list[Clip],
    regression: list[Clip],
    repeats: int = 3,
) -> dict[str, dict[str, Any]]:
    """Figures per model id: test WER overall and per domain, regression WER, latency.

    Each clip's latency is the fastest of ``repeats`` runs (models taking turns): the least
    disturbed by whatever else the machine does, so P95s of two models compare fairly.
    """
    from faster_whisper import WhisperModel

    models = {
        model_id: WhisperModel(
            str(folder),
            device=settings.stt_device,
            compute_type=settings.stt_compute_type,
            cpu_threads=settings.stt_cpu_threads,
            local_files_only=True,
        )
        for model_id, folder in folders.items()
    }
    texts: dict[str, dict[str, str]] = defaultdict(dict)
    times: dict[str, list[float]] = defaultdict(list)
    for clip in [*test, *regression]:
        fastest: dict[str, float] = {}
        for _ in range(max(1, repeats)):
            for model_id, model in models.items():
                started = time.perf_counter()
                segments, _ = model.transcribe(
                    clip.audio,
                    language=settings.stt_language,
                    beam_size=settings.stt_beam_size,
                    condition_on_previous_text=False,
                    vad_filter=False,
                )
                texts[model_id][clip.turn_id] = " ".join(s.text.strip() for s in segments)
                took = (time.perf_counter() - started) * 1000
                fastest[model_id] = min(took, fastest.get(model_id, took))
        for model_id, took in fastest.items():
            times[model_id].append(took)
    results = {}
    for model_id in models:
        said = texts[model_id]
        domains = sorted({c.domain for c in test})
        results[model_id] = {
            "wer": round(wer([c.text for c in test], [said[c.turn_id] for c in test]), 4),
            "domains": {
                d: round(
                    wer(
                        [c.text for c in test if c.domain == d],
                        [said[c.turn_id] for c in test if c.domain == d],
                    ),
                    4,
                )
                for d in domains
            },
            "regression_wer": round(
                wer([c.text for c in regression], [said[c.turn_id] for c in regression]), 4
            ),
            "latency_ms": {
                "p50": _percentile(times[model_id], 50),
                "p95": _percentile(times[model_id], 95),
            },
            "clips": {"test": len(test), "regression": len(regression)},
            "worst": sorted(
                (
                    {"turn_id": c.turn_id, "reference": c.text, "heard": said[c.turn_id]}
                    for c in test
                    if wer([c.text], [said[c.turn_id]]) > 0
                ),
                key=lambda item: item["turn_id"],
            )[:20],
            "evaluated_at": datetime.now(UTC).isoformat(),
        }
    return results
