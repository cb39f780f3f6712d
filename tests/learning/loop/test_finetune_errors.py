"""`voice-service finetune stt` refusing bad input, and a training job killed mid-run.

The real fine-tune and its progress are tested in test_loop.py, which makes it once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from core.db import session_scope
from core.settings import Settings
from learning.registry.models import ModelVersion, TrainingJob
from tests.learning.loop.conftest import FAST, Registry
from tests.utils.speech_dataset import build_dataset


def _rows(registry: Registry) -> tuple[int, int]:
    with session_scope(registry.settings) as session:
        models = session.scalar(select(func.count()).select_from(ModelVersion))
        jobs = session.scalar(select(func.count()).select_from(TrainingJob))
    return int(models or 0), int(jobs or 0)


def test_bad_input_is_one_line_and_changes_nothing(
    registry: Registry, speech_dataset: Path, settings: Settings, tmp_path: Path
) -> None:
    no_train = build_dataset(
        tmp_path / "no-train", settings.resolved_piper_paths(), splits=("dev",)
    )
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    cases = [
        (["--dataset", str(no_train), "--out", str(out)], "has no train split"),
        (
            ["--dataset", str(speech_dataset), "--out", str(out), "--rank", "0"],
            "rank must be at least 1",
        ),
        (
            ["--dataset", str(speech_dataset), "--out", str(out), "--base", str(bert)],
            "is not Whisper",
        ),
        (["--dataset", str(speech_dataset), "--out", str(full)], "exists and is not empty"),
        (["--dataset", str(tmp_path / "missing"), "--out", str(out)], "is not a dataset folder"),
    ]
    before = _rows(registry)
    for arguments, message in cases:
        done = registry.cli("finetune", "stt", *arguments)
        assert done.returncode == 1, done.stdout
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not out.exists() and (full / "keep.txt").read_text() == "mine"
    for arguments, message in (
        (["models", "show", "no-such-model"], "no model 'no-such-model'"),
        (["models", "promote", "no-such-model"], "no model 'no-such-model'"),
        (["models", "retire", "no-such-model"], "no model 'no-such-model'"),
    ):
        done = registry.cli(*arguments)
        assert done.returncode == 1 and message in done.stderr and done.stderr.count("\n") == 1
    assert _rows(registry) == before


def test_a_killed_training_job_leaves_no_candidate(
    registry: Registry, speech_dataset: Path, tmp_path: Path
) -> None:
    models_before, _ = _rows(registry)
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "finetune",
            "stt",
            "--dataset",
            str(speech_dataset),
            "--out",
            str(out),
            *FAST,
            "--epochs",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **registry.env},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 600
    for line in process.stdout:
        if line.startswith("step 2 ") or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not out.exists()
    assert _rows(registry)[0] == models_before  # nothing registered, so nothing half-uploaded
    with session_scope(registry.settings) as session:
        job = session.scalars(select(TrainingJob).order_by(TrainingJob.created_at.desc())).first()
        assert job is not None and job.status == "running" and job.model_id is None
        assert job.progress["last"]["step"] >= 1
        job.status = "failed"  # what the next run does once its heartbeat is stale
