"""The weekly learning loop (``VOICE_LEARNING_LOOP=on``), each step also a command of its own.

1. Last week's experiment, if any, ends: its challenger is promoted when the offline gate
   passes and live thumbs-up is not significantly worse (always-valid p < 0.05 with a lower
   rate), otherwise retired.
2. The dataset: a fresh export of every kept, consented turn (``datasets/loop-DAY`` in the data
   folder; fine-tuning reads its train, dev and test splits), or ``VOICE_LEARNING_DATASET_PATH``
   where an operator names one -> fine-tune -> evaluate with the champion -> a candidate that
   passes the gate offline starts an A/B test for ``VOICE_EXPERIMENT_SHARE`` of users; one
   that fails is retired.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from core.folders import data_folder
from core.settings import Settings
from learning.errors import LearningError
from learning.experiments import ab, gate
from learning.experiments.figures import experiment_figures
from learning.finetune.job import run_finetune
from learning.finetune.train import TrainSettings
from learning.registry import versions

log = logging.getLogger(__name__)
ACTOR = "learning-loop"
ALPHA = 0.05


def finish_experiment(settings: Settings) -> dict[str, Any] | None:
    """Promote or retire the running experiment's challenger, and stop the experiment."""
    running = ab.running(settings)
    if running is None:
        return None
    figures = experiment_figures(settings, running.id)
    rates = {v: f.get("thumbs_up_rate") for v, f in figures["variants"].items()}
    worse_live = (
        figures["thumbs_up_p_value"] < ALPHA
        and None not in (rates.get("control"), rates.get("challenger"))
        and rates["challenger"] < rates["control"]
    )
    ab.stop(settings, running.id, ACTOR)
    outcome = {"experiment": running.id, "challenger": running.challenger_id, "live": figures}
    if worse_live:
        versions.set_status(
            settings, running.challenger_id, "retired", ACTOR, {"reason": "thumbs-up worse"}
        )
        return {**outcome, "promoted": False, "reason": "live thumbs-up significantly worse"}
    try:
        decision = gate.promote(settings, running.challenger_id, ACTOR)
    except LearningError as exc:
        versions.set_status(settings, running.challenger_id, "retired", ACTOR, {"reason": str(exc)})
        return {**outcome, "promoted": False, "reason": str(exc)}
    return {**outcome, "promoted": True, "decision": decision}


def loop_dataset(settings: Settings, today: date | None = None) -> tuple[Path, dict[str, Any]]:
    """The dataset this turn trains on, and the export's report when the loop made it."""
    if settings.learning_dataset_path is not None:
        return settings.learning_dataset_path, {}
    from learning.dataset.export import export_dataset
    from learning.dataset.options import ExportOptions

    day = (today or datetime.now(UTC).date()).isoformat()
    out = data_folder(settings, "datasets") / f"loop-{day}"
    # a rerun on the same day (a redelivered task) trains on that day's export again
    options = ExportOptions(out=out, task_id=f"learning-loop-{day}")
    return out, export_dataset(settings, options)


def run_loop(settings: Settings) -> dict[str, Any]:
    """One turn of the loop; returns what each step did."""
    report: dict[str, Any] = {"finished": finish_experiment(settings)}
    dataset, exported = loop_dataset(settings)
    report["dataset"] = {"path": str(dataset), "exported": exported.get("exported")}
    if exported.get("empty"):
        report["skipped"] = "no kept, consented turns to train on"
        return report
    versions.ensure_base(settings)
    train = TrainSettings(
        rank=settings.finetune_rank,
        epochs=settings.finetune_epochs,
        scope=settings.finetune_scope,
        device=settings.finetune_device,
    )
    out = data_folder(settings, "models", "runs") / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    result = run_finetune(
        settings, dataset, out, train, base=settings.finetune_base_path, echo=log.info
    )
    model_id = result["model_id"]
    figures = gate.evaluate(settings, model_id, dataset, settings.promotion_eval_repeats)
    champion = versions.champion(settings)
    report.update(model=model_id, evaluation=figures)
    if champion is None or champion.id == model_id:
        return report
    decision = gate.decide(
        figures[model_id],
        figures[champion.id],
        settings.promotion_slice_tolerance,
        settings.promotion_latency_tolerance,
    )
    report["offline_decision"] = decision
    if decision["promote"]:
        report["experiment"] = ab.start(settings, model_id, settings.experiment_share, ACTOR).id
    else:
        versions.set_status(settings, model_id, "retired", ACTOR, {"reasons": decision["reasons"]})
    return report
