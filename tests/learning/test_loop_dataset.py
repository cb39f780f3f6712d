"""The weekly loop's own export: what it trains on when no dataset is named (the whole loop on
such an export runs in tests/learning/loop/test_training_queue.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from datasets import load_from_disk

from core.settings import Settings
from learning.loop import loop_dataset, run_loop
from tests.learning.conftest import capture


def test_the_loop_exports_the_kept_turns_once_a_day(stored: Settings) -> None:
    for n in range(8):
        capture(stored, f"loop-{n}", f"speaker-{n}", n)
    day = date(2026, 12, 6)
    path, report = loop_dataset(stored, today=day)
    assert path == stored.data_dir / "datasets" / "loop-2026-12-06"
    assert report["exported"] == 8 and not report["empty"]
    splits = load_from_disk(str(path))
    assert sum(len(table) for table in splits.values()) == 8
    assert {"train", "test"} <= set(splits)
    again_path, again = loop_dataset(stored, today=day)  # a redelivered task: the same export
    assert again_path == path and again["finished_at"] == report["finished_at"]


def test_an_operator_named_dataset_is_used_as_it_is(stored: Settings, tmp_path: Path) -> None:
    named = stored.model_copy(update={"learning_dataset_path": tmp_path / "theirs"})
    assert loop_dataset(named) == (tmp_path / "theirs", {})


def test_with_no_turns_the_loop_stops_before_training(stored: Settings) -> None:
    report = run_loop(stored)
    assert report["skipped"] == "no kept, consented turns to train on"
    assert report["dataset"]["exported"] == 0 and "model" not in report
