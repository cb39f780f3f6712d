"""The turn-taking benchmark set (tests/data/speech/turns) matches its manifest.

The clips are made by scripts/make_turn_set.py and committed; these checks read the files
as committed, so a regenerated or hand-edited clip that disagrees with the manifest fails.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from api.cli.bench_report import KINDS

TURNS = Path(__file__).resolve().parents[1] / "data" / "speech" / "turns"
FIELDS = {"file", "text", "voice", "speed", "pauses", "kind", "end_s", "samples", "sha256", "split"}
FRAME = 160  # 10 ms at 16 kHz, as in the generator
VOICED_RMS = 0.004


def _rows() -> list[dict]:
    lines = (TURNS / "manifest.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = _rows()


def test_the_set_is_big_enough_and_covers_every_kind_and_split() -> None:
    assert len(ROWS) >= 60
    kinds = {row["kind"] for row in ROWS}
    assert kinds == set(KINDS)
    for kind in KINDS:
        of_kind = [row for row in ROWS if row["kind"] == kind]
        assert len(of_kind) >= 8, kind
        assert {row["split"] for row in of_kind} == {"tune", "heldout"}, kind
    held = sum(row["split"] == "heldout" for row in ROWS)
    assert 0.25 <= held / len(ROWS) <= 0.4
    assert len({row["file"] for row in ROWS}) == len(ROWS)
    listed = {row["file"] for row in ROWS}
    assert {p.name for p in TURNS.glob("*.flac")} == listed, "a clip without a manifest line"
    assert len({row["voice"] for row in ROWS}) >= 6
    total = sum(p.stat().st_size for p in TURNS.glob("*.flac"))
    assert total < 5_000_000


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_each_clip_matches_its_manifest_line(row: dict) -> None:
    assert set(row) == FIELDS
    assert row["kind"] in KINDS and row["split"] in {"tune", "heldout"}
    assert row["text"].strip() and "<" not in row["text"]
    assert isinstance(row["speed"], float | int) and 0.5 <= row["speed"] <= 1.5
    path = TURNS / row["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 16_000 and audio.ndim == 1
    assert audio.size == row["samples"]
    # Every clip ends where the turn really ends: its duration is end_s, within a frame.
    assert abs(audio.size / rate - row["end_s"]) <= FRAME / rate
    words = row["text"].replace(",", " ").split()
    for pause in row["pauses"]:
        assert 0.4 <= pause["seconds"] <= 1.3
        assert pause["after_word"] in {w.strip(".?!") for w in words}
    if row["voice"] == "human":
        return
    # Synthesized clips: the last frame is voiced, and each pause is exact digital silence.
    frames = audio[: audio.size // FRAME * FRAME].reshape(-1, FRAME)
    voiced = np.sqrt((frames**2).mean(axis=1)) >= VOICED_RMS
    assert voiced[-1], "the clip does not end on speech"
    assert len(row["pauses"]) == (row["kind"] not in {"complete_no_pause", "short_complete"})
    silences = _silent_runs(audio, min_s=0.35)
    assert silences == pytest.approx([p["seconds"] for p in row["pauses"]], abs=0.011)


def _silent_runs(audio: np.ndarray, *, min_s: float) -> list[float]:
    """Lengths (s) of runs of exact zeros at least ``min_s`` long, in order, after the lead-in."""
    silent = np.concatenate([[False], audio == 0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    runs = zip(edges[0::2], edges[1::2], strict=True)
    return [
        (end - start) / 16_000 for start, end in runs if start > 0 and end - start >= min_s * 16_000
    ]
