"""The export benchmark: N captured turns made in a scratch data folder, then exported, timed.

The turns are real speech (sentences said by the bundled Piper voice, so the VAD rule has
speech to find), stored as the capture chain stores them (FLAC, metadata.json and
transcript.txt in the local encrypted store, a row in a SQLite database of the scratch
folder), from 50 users. Only the export is timed; it runs without augmentation.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from capture.keys import object_key
from capture.metadata import CaptureMetadata, user_id_for
from capture.queries import upsert_capture
from capture.store import open_store
from core.audio import SAMPLE_RATE
from core.db import session_scope
from core.settings import Settings
from learning.dataset.export import export_dataset
from learning.dataset.options import ExportOptions, Progress
from learning.dataset.quality import encode, to_16k

SENTENCES = (
    "What is the speed of light in a vacuum?",
    "How many joules are in a kilowatt hour?",
    "Explain how photosynthesis works in plants.",
    "What does the Planck constant measure?",
    "Convert ten miles into kilometres please.",
    "Why do electrons have a negative charge?",
)
USERS = 50


def spoken_sentences(settings: Settings) -> list[np.ndarray]:
    """Each sentence said by the bundled Piper voice, int16 at 16 kHz."""
    from piper import PiperVoice

    model, config = settings.resolved_piper_paths()
    voice = PiperVoice.load(model, config_path=config)
    clips = []
    for text in SENTENCES:
        pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32_768
        resampled = to_16k(audio, voice.config.sample_rate) * 32_767
        clips.append(np.clip(resampled, -32_768, 32_767).astype(np.int16))
    return clips


def seed_turns(settings: Settings, n: int, clips: list[np.ndarray]) -> None:
    """``n`` stored turns, as the capture chain leaves them."""
    store = open_store(settings, "eu")
    flacs = [encode(clip) for clip in clips]
    now = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(settings) as session:
        for index in range(n):
            choice = index % len(clips)
            metadata = CaptureMetadata(
                turn_id=f"bench-{index:06d}",
                user_id=user_id_for(f"user-{index % USERS}", "bench"),
                timestamp=now + timedelta(seconds=index),
                duration_ms=clips[choice].size * 1000 // SAMPLE_RATE,
                transcript=f"{SENTENCES[choice]} Question {index}.",
                intent="scientific_query",
                domain="physics",
                response="An answer.",
                latency={"stt_ms": 300.0, "total_ms": 900.0},
                region="eu",
                conversation_id=f"bench-{index % USERS}",
                turn_index=index // USERS,
                models={"stt": "bench"},
                redaction={"entities": {}, "review": False},
            )
            day = metadata.timestamp.date()
            store.put(
                object_key(day, metadata.turn_id, "audio.flac"),
                flacs[choice],
                content_type="audio/flac",
            )
            store.put(
                object_key(day, metadata.turn_id, "metadata.json"),
                metadata.to_json(),
                content_type="application/json",
            )
            store.put(
                object_key(day, metadata.turn_id, "transcript.txt"),
                metadata.transcript.encode(),
                content_type="text/plain; charset=utf-8",
            )
            upsert_capture(session, metadata)


def run_bench(
    settings: Settings,
    n: int,
    fmt: Literal["hf", "nemo"] = "hf",
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Seed ``n`` turns in a scratch folder, export them, and return the figures."""
    from migrations import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-dataset-") as scratch:
        bench = settings.model_copy(
            update={
                "data_dir": Path(scratch),
                "database_url": None,
                "storage": "local",
                "dataset_duplicate_similarity": 1.0,  # each transcript differs a little
            }
        )
        upgrade(bench.resolved_database_url())
        seed_turns(bench, n, spoken_sentences(bench))
        stages: dict[str, float] = {}
        cpu = time.process_time()  # every thread of this process: what a loaded machine can't hide
        started = time.perf_counter()

        def timed(stage: str, done: int, total: int) -> None:
            stages.setdefault(stage, time.perf_counter() - started)
            if progress is not None:
                progress(stage, done, total)

        hooked: Progress = timed
        options = ExportOptions(out=Path(scratch) / "dataset", format=fmt)
        report = export_dataset(bench, options, hooked)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
    marks = [*sorted(stages.items(), key=lambda item: item[1]), ("end", seconds)]
    return {
        "turns": n,
        "exported": report["exported"],
        "format": fmt,
        "workers": settings.dataset_workers,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "turns_per_s": round(n / seconds, 1),
        "stage_s": {
            stage: round(marks[i + 1][1] - at, 2) for i, (stage, at) in enumerate(marks[:-1])
        },
        "filtered": {k: v for k, v in report["filtered"].items() if v},
    }
