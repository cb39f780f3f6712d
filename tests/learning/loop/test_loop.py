"""The loop end to end on CPU: dataset -> fine-tune -> CTranslate2 -> evaluate -> A/B ->
promotion refused when a slice worsens, accepted when all improve -> rollback.

The good fine-tune is made once here, for every test in this file: under pytest-xdist a
session fixture is made once per process, and a fixture shared with another file cost a
second fine-tune of minutes in the other process. Its own checks come first, while it is
still a candidate; the end-to-end test promotes it and rolls it back.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from api.voice.backends.stt_faster_whisper import FasterWhisperSTT
from api.voice.stt_versions import SttVersions
from capture.models import AuditEntry, Capture
from core.db import session_scope
from core.settings import Settings
from learning.evaluation.stt import wer
from learning.experiments.evaluate import evaluate_folders, held_out_clips
from learning.registry.models import ModelVersion, TrainingJob
from tests.learning.loop.conftest import FAST, Registry
from tests.utils.speech_dataset import relabel


def _status(registry: Registry, model_id: str) -> str:
    with session_scope(registry.settings) as session:
        entry = session.get(ModelVersion, model_id)
        assert entry is not None
        return entry.status


def _ok(done: object) -> str:
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    return str(done.stdout)  # type: ignore[attr-defined]


def _registered(console: str) -> str:
    """The model id a fine-tune printed ("registered ID ...")."""
    return next(line.split()[1] for line in console.splitlines() if line.startswith("registered "))


@pytest.fixture(scope="module")
def finetuned(
    registry: Registry, speech_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, str]:
    """One real fine-tune through the CLI: (model id, its CT2 folder, the console output)."""
    out = tmp_path_factory.mktemp("runs") / "good"
    done = registry.cli(
        "finetune", "stt", "--dataset", str(speech_dataset), "--out", str(out), *FAST
    )
    return _registered(_ok(done)), out / "ct2", done.stdout


def test_fine_tune_lowers_wer_on_held_out_clips_of_the_terms(
    finetuned: tuple[str, Path, str], speech_dataset: Path, settings: Settings
) -> None:
    """Held-out sentences and speaker: the terms tiny.en mishears are heard after a few steps."""
    _, ct2, _ = finetuned
    figures = evaluate_folders(
        settings,
        {"base": settings.resolved_stt_model_path(), "tuned": ct2},
        held_out_clips(speech_dataset),
        [],
        repeats=1,
    )
    training = json.loads((ct2.parent / "training.json").read_text())
    print(
        f"\ntest WER {figures['base']['wer']:.3f} -> {figures['tuned']['wer']:.3f}; per domain "
        f"{figures['base']['domains']} -> {figures['tuned']['domains']}; {training['steps']} steps "
        f"at {training['steps_per_s']} steps/s, {training['seconds']} s in all"
    )
    assert figures["base"]["wer"] >= 0.1, "the base model should mishear these terms"
    assert figures["tuned"]["wer"] < figures["base"]["wer"]
    assert training["best_dev_wer"] < training["base_dev_wer"]


def test_progress_goes_to_the_console_and_the_job_record(
    finetuned: tuple[str, Path, str], registry: Registry
) -> None:
    model_id, ct2, console = finetuned
    assert "step 1 epoch 1 loss" in console and "dev WER" in console
    with session_scope(registry.settings) as session:
        job = session.scalars(select(TrainingJob).where(TrainingJob.model_id == model_id)).one()
        entry = session.get(ModelVersion, model_id)
    assert job.status == "done" and job.finished_at is not None
    steps = [h for h in job.progress["history"] if h["event"] == "step"]
    assert steps and all("loss" in h for h in steps)
    assert any(h.get("dev_wer") is not None for h in steps)
    assert entry is not None and entry.status == "candidate"
    assert entry.parent_id is not None and entry.parent_id.startswith("stt-base-")
    assert entry.dataset_hash and len(entry.dataset_hash) == 64
    assert entry.training["settings"]["rank"] == 8 and entry.training["settings"]["alpha"] == 16
    assert (ct2 / "model.bin").is_file() and (ct2 / "tokenizer.json").is_file()


@pytest.mark.timeout(1800)
def test_the_loop_end_to_end(
    registry: Registry, speech_dataset: Path, finetuned: tuple[str, Path, str], tmp_path: Path
) -> None:
    good, _, _ = finetuned
    dataset = str(speech_dataset)
    # A fine-tune on labels that are wrong for one slice: the gate must refuse it.
    poisoned = relabel(
        speech_dataset, tmp_path / "poisoned", {"the Moon": "the Loom", "a planet": "a banana"}
    )
    out = _ok(
        registry.cli(
            "finetune", "stt", "--dataset", str(poisoned), "--out", str(tmp_path / "bad"), *FAST
        )
    )
    bad = _registered(out)

    # promoting before any evaluation: one line, nothing changed
    refused = registry.cli("models", "promote", bad)
    assert refused.returncode == 1 and "never evaluated" in refused.stderr
    assert _status(registry, bad) == "candidate"

    # one run per clip: the slice, not latency, is what refuses it
    print(_ok(registry.cli("models", "evaluate", bad, "--dataset", dataset, "--repeats", "1")))
    refused = registry.cli("models", "promote", bad)
    assert (
        refused.returncode == 1 and "refused" in refused.stderr and "astronomy" in refused.stderr
    ), refused.stderr
    assert _status(registry, bad) == "candidate"
    with session_scope(registry.settings) as session:
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "model_promote_refused", AuditEntry.subject == bad
            )
        ).one()
        assert audit.details["decision"]["promote"] is False
        base = (
            session.scalars(select(ModelVersion).where(ModelVersion.status == "champion")).one().id
        )
    _ok(registry.cli("models", "retire", bad))

    # the good fine-tune: evaluated with the champion, then an A/B test, then promoted
    print(_ok(registry.cli("models", "evaluate", good, "--dataset", dataset, "--repeats", "2")))
    _ok(registry.cli("experiment", "start", good, "--share", "0.1"))
    assert _status(registry, good) == "challenger"
    versions = SttVersions(registry.settings, FasterWhisperSTT(registry.settings))
    versions.sync()  # what a starting API process does: loads both arms from the store
    arms = [versions.assign(f"user-{n}")[1] for n in range(10_000)]
    challengers = [a for a in arms if a.variant == "challenger"]
    assert abs(len(challengers) / 10_000 - 0.1) < 0.01
    assert all(versions.assign(f"user-{n}")[1] == arms[n] for n in range(0, 10_000, 97))  # sticky
    assert {a.model_id for a in challengers} == {good} and {a.model_id for a in arms} == {
        good,
        base,
    }
    stt, arm = versions.assign(f"user-{arms.index(challengers[0])}")
    clip = next(c for c in held_out_clips(speech_dataset) if "Avogadro" in c.text)
    heard = asyncio.run(stt.transcribe_all(clip.audio)).text
    default_heard = asyncio.run(versions.default.transcribe_all(clip.audio)).text
    print(f"challenger heard {heard!r}; champion heard {default_heard!r}")
    assert wer([clip.text], [heard]) <= wer([clip.text], [default_heard])

    _captured_turns(registry, arm.experiment_id or "", good, base)
    figures = _ok(registry.cli("experiment", "show", arm.experiment_id or ""))
    assert '"thumbs_up_p_value"' in figures and '"challenger"' in figures

    _ok(registry.cli("models", "promote", good))
    assert _status(registry, good) == "champion" and _status(registry, base) == "retired"
    versions.sync()
    assert versions.default_id == good
    _ok(registry.cli("models", "rollback"))
    assert _status(registry, base) == "champion" and _status(registry, good) == "retired"
    listing = _ok(registry.cli("models", "list"))
    assert f"{base}\tchampion" in listing and f"{good}\tretired" in listing


def _captured_turns(registry: Registry, experiment: str, good: str, base: str) -> None:
    """Turns as the capture pipeline stores them, with the session's arm in ``models``."""
    rng = np.random.default_rng(0)
    now = datetime.now(UTC)
    with session_scope(registry.settings) as session:
        for n in range(120):
            variant = "challenger" if n % 4 == 0 else "control"
            up = rng.random() < (0.8 if variant == "challenger" else 0.6)
            session.add(
                Capture(
                    turn_id=uuid.uuid4().hex,
                    user_id=f"u{n}",
                    conversation_id="c",
                    turn_index=0,
                    region="us",
                    day=now.date(),
                    timestamp=now + timedelta(seconds=n),
                    duration_ms=2000,
                    transcript="what is boltzmann constant",
                    response="...",
                    intent="scientific_query",
                    domain="physics",
                    latency={"total_ms": 900.0 + n},
                    redaction={},
                    models={
                        "stt_version": good if variant == "challenger" else base,
                        "experiment": experiment,
                        "variant": variant,
                    },
                    avg_logprob=-0.3,
                    feedback="thumbs_up" if up else "thumbs_down",
                    label="what is Boltzmann constant" if n % 10 == 0 else None,
                )
            )
