"""The promotion gate: a challenger replaces the champion only if it is better where it counts.

Rules (tolerances are settings): test WER lower overall; no domain slice's WER higher by
more than ``promotion_slice_tolerance`` (absolute); the regression set's WER not higher by
more than that either; latency P95 not higher by more than ``promotion_latency_tolerance``
(a share). Both sets of figures must come from the same dataset (its hash). The decision
and its figures are recorded on the model and in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings
from learning.errors import LearningError, NotEvaluated
from learning.registry import versions


def decide(
    challenger: dict[str, Any],
    champion: dict[str, Any],
    slice_tolerance: float,
    latency_tolerance: float,
) -> dict[str, Any]:
    """``{"promote": bool, "reasons": [...], figures}`` from two evaluations."""
    reasons: list[str] = []
    if challenger.get("dataset_hash") != champion.get("dataset_hash"):
        reasons.append("the two evaluations are on different datasets")
    if not challenger["wer"] < champion["wer"]:
        reasons.append(f"test WER {challenger['wer']:.3f} is not lower than {champion['wer']:.3f}")
    for domain, before in sorted(champion.get("domains", {}).items()):
        after = challenger.get("domains", {}).get(domain)
        if after is None:
            reasons.append(f"no figure for domain {domain}")
        elif after > before + slice_tolerance:
            reasons.append(f"domain {domain} WER rose {before:.3f} -> {after:.3f}")
    if challenger["regression_wer"] > champion["regression_wer"] + slice_tolerance:
        reasons.append(
            f"regression WER rose {champion['regression_wer']:.3f} -> "
            f"{challenger['regression_wer']:.3f}"
        )
    p95_before, p95_after = champion["latency_ms"]["p95"], challenger["latency_ms"]["p95"]
    if p95_after > p95_before * (1 + latency_tolerance):
        reasons.append(f"latency P95 rose {p95_before:.0f} -> {p95_after:.0f} ms")
    return {
        "promote": not reasons,
        "reasons": reasons,
        "tolerances": {"slice_wer": slice_tolerance, "latency_p95": latency_tolerance},
        "challenger": {
            k: challenger.get(k) for k in ("wer", "domains", "regression_wer", "latency_ms")
        },
        "champion": {
            k: champion.get(k) for k in ("wer", "domains", "regression_wer", "latency_ms")
        },
    }


def evaluate(
    settings: Settings, model_id: str, dataset: Path, repeats: int = 3
) -> dict[str, dict[str, Any]]:
    """Evaluate ``model_id`` and the champion together; both records are kept."""
    from learning.experiments.evaluate import evaluate_folders, held_out_clips, regression_clips
    from learning.finetune.data import dataset_digest, dataset_id

    entry = versions.get(settings, model_id)
    test = held_out_clips(dataset)  # checks the dataset before any model is fetched
    regression = regression_clips()
    champion = versions.champion(settings, entry.kind)
    ids = [model_id] + ([champion.id] if champion is not None and champion.id != model_id else [])
    folders = {i: versions.local_folder(settings, i) for i in ids}
    results = evaluate_folders(settings, folders, test, regression, repeats)
    digest, name = dataset_digest(dataset), dataset_id(dataset)
    for i, figures in results.items():
        figures.update(
            dataset_hash=digest, dataset_id=name, compared_with=[x for x in ids if x != i]
        )
        versions.record_evaluation(settings, i, figures)
    return results


def promote(settings: Settings, model_id: str, actor: str) -> dict[str, Any]:
    """Promote if the gate allows; a refusal is audited and raised as one line."""
    from capture.queries import add_audit
    from core.db import session_scope

    entry = versions.get(settings, model_id)
    if not entry.evaluation:
        raise NotEvaluated(
            f"model {model_id} was never evaluated: run `voice-service models evaluate {model_id}`"
        )
    champion = versions.champion(settings, entry.kind)
    if champion is not None and champion.id == model_id:
        raise LearningError(f"model {model_id} is already the champion", code="already_champion")
    if champion is None:
        decision: dict[str, Any] = {"promote": True, "reasons": [], "challenger": entry.evaluation}
    else:
        if not champion.evaluation or champion.evaluation.get(
            "dataset_hash"
        ) != entry.evaluation.get("dataset_hash"):
            raise NotEvaluated(
                f"the champion {champion.id} has no evaluation on the same dataset: "
                f"run `voice-service models evaluate {model_id}` again"
            )
        decision = decide(
            entry.evaluation,
            champion.evaluation,
            settings.promotion_slice_tolerance,
            settings.promotion_latency_tolerance,
        )
    if not decision["promote"]:
        with session_scope(settings) as session:
            add_audit(session, actor, "model_promote_refused", model_id, {"decision": decision})
        raise LearningError(
            f"promotion of {model_id} refused: {'; '.join(decision['reasons'])}",
            code="gate_refused",
        )
    versions.promote(settings, model_id, actor, decision)
    from learning.experiments import ab

    running = ab.running(settings, entry.kind)
    if running is not None and model_id in (running.challenger_id, running.control_id):
        ab.stop(settings, running.id, actor)  # decided: every new session gets the champion
    return decision
