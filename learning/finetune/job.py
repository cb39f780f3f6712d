"""One fine-tune, end to end: checks, training, CTranslate2 export, registry entry, job record.

Order matters for crashes: the output folder appears whole (renamed from a staging folder),
the artefact is uploaded before its registry entry is written, and the job record says
``running`` with a heartbeat until it says ``done`` or ``failed``. A killed run leaves a job
whose heartbeat stops (marked failed by the next run) and no registry entry.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db import session_scope
from core.folders import data_folder
from core.settings import Settings
from learning.errors import LearningError, TrainingBusy
from learning.finetune.train import TrainSettings

STALE_AFTER = timedelta(minutes=15)  # a running job silent this long is dead
Echo = Callable[[str], None]


def _line(record: dict[str, Any]) -> str:
    if record["event"] == "step":
        text = f"step {record['step']} epoch {record['epoch']} loss {record['loss']:.4f}"
        if "dev_wer" in record:
            text += f" dev WER {record['dev_wer']:.3f}" if record["dev_wer"] is not None else ""
        return text
    return " ".join(f"{k} {v}" for k, v in record.items())


def start_job(
    settings: Settings, dataset: Path, train: TrainSettings, job_id: str | None = None
) -> str:
    """A ``running`` job record, once no other job runs (a stale one is marked failed)."""
    from learning.registry.models import TrainingJob

    now = datetime.now(UTC)
    with session_scope(settings) as session:
        for other in session.scalars(select(TrainingJob).where(TrainingJob.status == "running")):
            if other.id == job_id:
                continue
            if now - other.heartbeat_at > STALE_AFTER:
                other.status, other.error, other.finished_at = "failed", "no heartbeat: killed", now
            else:
                raise TrainingBusy(f"training job {other.id} is running; one runs at a time")
        job = session.get(TrainingJob, job_id) if job_id else None
        if job is None:
            job = TrainingJob(
                id=job_id or uuid.uuid4().hex,
                dataset=str(dataset),
                settings=train.as_record(),
                progress={"history": []},
                created_at=now,
            )
            session.add(job)
        job.status, job.heartbeat_at = "running", now
        return job.id


def queue_job(settings: Settings, dataset: Path, train: TrainSettings) -> str:
    """A ``queued`` job record for the Celery task to pick up."""
    from learning.registry.models import TrainingJob

    train.check()
    now = datetime.now(UTC)
    with session_scope(settings) as session:
        job = TrainingJob(
            id=uuid.uuid4().hex,
            status="queued",
            dataset=str(dataset),
            settings=train.as_record(),
            progress={"history": []},
            created_at=now,
            heartbeat_at=now,
        )
        session.add(job)
        return job.id


def require_train_extra() -> None:
    """One line naming the extra when torch, peft or transformers is missing."""
    import importlib.util

    missing = [
        m
        for m in ("torch", "peft", "transformers", "datasets")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise LearningError(
            f"fine-tuning needs the 'train' extra (missing {', '.join(missing)}): "
            "pip install 'voice-service[train]'",
            code="backend_unavailable",
        )


def _update(settings: Settings, job_id: str, **fields: Any) -> None:
    from learning.registry.models import TrainingJob

    with session_scope(settings) as session:
        job = session.get(TrainingJob, job_id)
        if job is not None:
            for name, value in fields.items():
                setattr(job, name, value)
            job.heartbeat_at = datetime.now(UTC)


def run_finetune(
    settings: Settings,
    dataset: Path,
    out: Path,
    train: TrainSettings,
    *,
    base: Path | None = None,
    register: bool = True,
    job_id: str | None = None,
    echo: Echo = print,
) -> dict[str, Any]:
    """Fine-tune on ``dataset``'s train split into ``out`` (CT2 folder ``out/ct2``)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    train.check()
    require_train_extra()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LearningError(f"output {out} exists and is not empty")
    if base is not None and not base.is_dir():
        raise LearningError(f"base model {base} is not a folder", code="not_whisper")
    from learning.finetune import data
    from learning.finetune.base_model import resolve_base

    splits = data.load_splits(dataset)
    base_dir = resolve_base(
        base, settings.resolved_stt_model_path(), data_folder(settings, "models", "base")
    )
    if register:
        job_id = start_job(settings, dataset, train, job_id)
    history: list[dict[str, Any]] = []

    def progress(record: dict[str, Any]) -> None:
        echo(_line(record))
        history.append(record)
        if job_id:
            _update(settings, job_id, progress={"last": record, "history": history[-500:]})

    staging = out.parent / f".{out.name}.partial"
    try:
        result = _train_and_export(settings, splits, dataset, base_dir, staging, train, progress)
        summary = {
            "settings": train.as_record(),
            "base": str(base or "bundled"),
            "steps": result["steps"],
            "steps_per_s": result["steps_per_s"],
            "seconds": result["seconds"],
            "base_dev_wer": result["base_dev_wer"],
            "best_dev_wer": result["best_dev_wer"],
            "dataset": {"id": data.dataset_id(dataset), "sha256": data.dataset_digest(dataset)},
            "job": job_id,
        }
        (staging / "training.json").write_text(
            json.dumps({**summary, "history": history}, indent=1)
        )
        shutil.rmtree(out, ignore_errors=True)  # an empty folder at most (checked above)
        staging.rename(out)
        model_id = None
        if register:
            model_id = _register(settings, out, base, summary)
            echo(f"registered {model_id} (candidate)")
        if job_id:
            _update(
                settings, job_id, status="done", model_id=model_id, finished_at=datetime.now(UTC)
            )
        return {**summary, "model_id": model_id, "ct2": str(out / "ct2")}
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if job_id:
            _update(
                settings,
                job_id,
                status="failed",
                error=f"{type(exc).__name__}: {exc}"[:2000],
                finished_at=datetime.now(UTC),
            )
        raise


def _train_and_export(
    settings: Settings,
    splits: dict[str, Any],
    dataset: Path,
    base_dir: Path,
    staging: Path,
    train: TrainSettings,
    progress: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    from learning.finetune import data
    from learning.finetune.export import save_hf, to_ctranslate2
    from learning.finetune.train import train as train_lora

    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    train_clips = data.clips(splits["train"], dataset)
    dev_clips = data.clips(splits["dev"], dataset) if "dev" in splits else []
    result = train_lora(base_dir, train_clips, dev_clips, train, progress)
    hf_dir = save_hf(result.model, base_dir, staging / "hf")
    to_ctranslate2(hf_dir, staging / "ct2")
    shutil.rmtree(hf_dir)  # the CT2 folder is the artefact; a later fine-tune converts it back
    return {
        "steps": result.steps,
        "steps_per_s": round(result.steps_per_s, 3),
        "seconds": round(result.seconds, 1),
        "base_dev_wer": result.base_dev_wer,
        "best_dev_wer": result.best_dev_wer,
    }


def _register(settings: Settings, out: Path, base: Path | None, summary: dict[str, Any]) -> str:
    from learning.registry import versions

    parent = None if base is not None else versions.ensure_base(settings).id
    entry = versions.register(
        settings,
        out / "ct2",
        parent_id=parent,
        dataset_id=summary["dataset"]["id"],
        dataset_hash=summary["dataset"]["sha256"],
        training=summary,
        description=f"LoRA r{summary['settings']['rank']} on {summary['dataset']['id']}",
    )
    return entry.id
