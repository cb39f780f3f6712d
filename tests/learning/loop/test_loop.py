"""The loop end to end on CPU: dataset -> fine-tune -> CTranslate2 -> evaluate -> A/B ->
promotion refused when a slice worsens, accepted when all improve -> rollback.
"""

from __future__ import annotations

import asyncio
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
from learning.evaluation.stt import wer
from learning.experiments.evaluate import held_out_clips
from learning.registry.models import ModelVersion
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
    bad = next(line.split()[1] for line in out.splitlines() if line.startswith("registered "))

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
