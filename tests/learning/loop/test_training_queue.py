"""Fine-tuning and the weekly loop as Celery tasks on the `training` queue, with a real worker:
the loop exports the turns the capture chain stored, fine-tunes, evaluates and decides."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from core.db import session_scope
from learning.registry.models import Experiment, ModelVersion, TrainingJob
from tests.learning.conftest import capture
from tests.learning.loop.conftest import Registry
from tests.utils.capture import BROKER
from tests.utils.celery_worker import celery_worker


def _wait_for_job(registry: Registry, job_id: str, timeout_s: float) -> TrainingJob:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope(registry.settings) as session:
            job = session.get(TrainingJob, job_id)
            if job is not None and job.status in ("done", "failed"):
                return job
        time.sleep(2)
    raise AssertionError(f"training job {job_id} did not finish in {timeout_s} s")


@pytest.mark.timeout(1500)
def test_finetune_and_the_loop_run_on_the_training_queue(
    registry: Registry, speech_dataset: Path, tmp_path: Path
) -> None:
    redis.Redis.from_url(BROKER).flushdb()
    env = {**registry.env, "VOICE_BROKER_URL": BROKER}
    queued = registry.cli(
        "finetune",
        "stt",
        "--queue",
        "--dataset",
        str(speech_dataset),
        "--out",
        str(tmp_path / "queued"),
        "--rank",
        "4",
        "--max-steps",
        "2",
        "--eval-every",
        "2",
        env={"VOICE_BROKER_URL": BROKER},  # the worker's broker: Redis db VOICE_TEST_BROKER
    )
    assert queued.returncode == 0, queued.stderr
    job_id = queued.stdout.split()[2]
    with session_scope(registry.settings) as session:
        assert session.get(TrainingJob, job_id).status == "queued"  # type: ignore[union-attr]
    # the loop trains on its own export of what the capture chain stored (8 speakers)
    for n in range(8):
        capture(registry.settings, f"loop-{n}", f"speaker-{n}", n)
    loop_env = {
        **env,
        "VOICE_LEARNING_LOOP": "on",
        "VOICE_DATASET_SPLITS": '{"train": 0.5, "dev": 0.25, "test": 0.25}',
        "VOICE_FINETUNE_RANK": "8",
        "VOICE_FINETUNE_EPOCHS": "1",
        "VOICE_PROMOTION_EVAL_REPEATS": "1",  # the gate's figures, not its latency, are tested
    }
    with celery_worker(loop_env, tmp_path / "worker.log", queues="training"):
        job = _wait_for_job(registry, job_id, 900)
        assert job.status == "done", job.error
        assert job.model_id and job.progress["last"]["event"] == "done"
        from core.settings import Settings
        from workers.config import make_app

        app = make_app(Settings(broker_url=BROKER, _env_file=None))  # type: ignore[call-arg]
        app.send_task("learning.loop")
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            with session_scope(registry.settings) as session:
                jobs = list(session.scalars(select(TrainingJob).where(TrainingJob.id != job_id)))
                loop_jobs = [j for j in jobs if j.created_at > job.created_at]
                made = [j for j in loop_jobs if j.status == "done" and j.model_id]
                if made:
                    entry = session.get(ModelVersion, made[0].model_id)
                    assert entry is not None
                    if entry.evaluation and entry.status in ("challenger", "retired"):
                        break
            time.sleep(3)
        else:
            raise AssertionError((tmp_path / "worker.log").read_text()[-4000:])
    with session_scope(registry.settings) as session:
        if entry.status == "challenger":  # passed the gate offline: its A/B test runs
            assert session.scalars(
                select(Experiment).where(Experiment.challenger_id == entry.id)
            ).one()
    print(f"\nthe loop's model {entry.id}: {entry.status}, test WER {entry.evaluation['wer']}")
