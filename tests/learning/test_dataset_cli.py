"""``voice-service dataset`` as users run it, and the export as a task on the datasets queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import redis
from datasets import load_from_disk

from core.settings import Settings
from learning.dataset.export import export_dataset
from learning.dataset.options import DatasetError, ExportOptions
from tests.learning.conftest import capture, env_of
from tests.utils.capture import BROKER, wait_until
from tests.utils.celery_worker import celery_worker


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "dataset", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


def test_an_empty_database_gives_an_empty_dataset_and_a_report_saying_so(
    stored: Settings, tmp_path: Path
) -> None:
    env = {
        **env_of(stored),
        "VOICE_DATASET_SYNTHETIC_MAX_TERMS": "2",
        "VOICE_DATASET_SYNTHETIC_LENGTH_SCALES": "[1.0]",
    }
    out = tmp_path / "empty"
    done = cli(env, "export", str(out), "--synthetic")
    assert done.returncode == 0, done.stderr
    assert "the capture database holds no turns in this window: the dataset is empty" in done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["empty"] is True and report["considered"] == 0 and report["exported"] == 0
    dataset = load_from_disk(str(out))
    assert {name: len(table) for name, table in dataset.items()} == {
        "train": 0,
        "dev": 0,
        "test": 0,
        "synthetic": 2,  # the term split is made from the term list, not from captures
    }
    synthetic = dataset["synthetic"]
    assert synthetic["text"][0] != synthetic["text"][1]
    assert all(s.startswith("piper-") for s in synthetic["speaker"])
    assert all(d > 0.5 for d in synthetic["duration"])
    first_terms = ("Planck", "Avogadro")  # the first hotwords, said in a sentence each
    assert all(any(t in text for t in first_terms) for text in synthetic["text"])
    assert report["splits"]["synthetic"]["science_terms"]["covered"] == 2


def test_a_folder_in_use_is_refused_unless_overwrite_and_only_a_dataset_is_replaced(
    stored: Settings, tmp_path: Path
) -> None:
    env = env_of(stored)
    capture(stored, "one", "speaker-1", 0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    refused = cli(env, "export", str(out))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        f"voice-service: error: {out} exists and is not empty; pass --overwrite to replace it"
        " (dataset_exists)"
    )
    with pytest.raises(DatasetError, match="is not a dataset this command wrote"):
        export_dataset(stored, ExportOptions(out=out, overwrite=True))
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (out / "notes.txt").unlink()

    first = cli(env, "export", str(out), "--format", "nemo")
    assert first.returncode == 0, first.stderr
    with pytest.raises(DatasetError, match="pass --overwrite"):  # a dataset, still not replaced
        export_dataset(stored, ExportOptions(out=out))
    replaced = cli(env, "export", str(out), "--overwrite", "--json")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(replaced.stdout)["format"] == "hf"
    assert not list(out.glob("*_manifest.jsonl")) and (out / "dataset_dict.json").is_file()
    assert not (out / "audio").exists()  # the clips are inside the saved tables
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    reversed_window = ExportOptions(
        out=tmp_path / "x", since=date(2026, 12, 2), until=date(2026, 12, 1)
    )
    with pytest.raises(DatasetError, match="is before --since"):
        export_dataset(stored, reversed_window)
    assert not (tmp_path / "x").exists()


def test_the_export_runs_as_a_task_on_the_datasets_queue(stored: Settings, tmp_path: Path) -> None:
    redis.Redis.from_url(BROKER).flushdb()
    env = env_of(stored)
    for n in range(3):
        capture(stored, f"turn-{n}", f"speaker-{n}", n)
    out = tmp_path / "queued"
    with celery_worker(env, tmp_path / "worker.log", queues="datasets"):
        sent = cli(env, "export", str(out), "--enqueue", "--format", "nemo")
        assert sent.returncode == 0, sent.stderr
        wait_until(lambda: (out / "report.json").is_file(), timeout=240, what="the export task")
    report = json.loads((out / "report.json").read_text())
    assert report["task_id"] and report["task_id"] in sent.stdout
    assert report["exported"] == 3 and report["format"] == "nemo"
    assert "dataset.export" in (tmp_path / "worker.log").read_text()


def test_the_benchmark_prints_its_figures(stored: Settings) -> None:
    done = cli({"VOICE_DATA_DIR": str(stored.data_dir)}, "bench", "--n", "12", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["turns"] == 12 and figures["exported"] == 12
    assert figures["seconds"] > 0 and {"select", "audio", "write"} <= set(figures["stage_s"])


def test_a_worker_for_the_datasets_queue_only() -> None:
    from api.cli import build_parser
    from api.cli.worker import parse_queues, worker_command

    args = build_parser().parse_args(["worker", "--queues", "datasets"])
    command = worker_command(args.concurrency, queues=parse_queues(args.queues))
    assert command[command.index("-Q") + 1] == "datasets"
    default = worker_command()
    assert default[default.index("-Q") + 1] == "capture,redaction,persist,review"
