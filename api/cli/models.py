"""``voice-service models``: the model registry; ``voice-service experiment``: A/B tests.

``models list|show ID|evaluate ID --dataset PATH|promote ID|retire ID|rollback|register DIR``
and ``experiment start ID [--share 0.1]|stop EXP|show EXP``. Every change is audited.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.settings import Settings

ACTOR = "cli"


def add_parser(subparsers: Any) -> None:
    """Register ``models`` and ``experiment``."""
    models = subparsers.add_parser("models", help="the model registry (list, evaluate, promote)")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every model, newest first").set_defaults(run=run_list)
    for name, handler, text in (
        ("show", run_show, "one model as JSON"),
        ("promote", run_promote, "make it the champion if the gate allows"),
        ("retire", run_retire, "take it out of service"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id")
        action.set_defaults(run=handler)
    evaluate = actions.add_parser("evaluate", help="WER and latency against the champion")
    evaluate.add_argument("id")
    evaluate.add_argument("--dataset", type=Path, required=True, help="an export with a test split")
    evaluate.add_argument(
        "--repeats", type=int, default=3, help="runs per clip; its fastest is its latency"
    )
    evaluate.set_defaults(run=run_evaluate)
    rollback = actions.add_parser("rollback", help="the previous champion serves again")
    rollback.set_defaults(run=run_rollback)
    register = actions.add_parser("register", help="add a CTranslate2 folder as a candidate")
    register.add_argument("folder", type=Path)
    register.add_argument("--description", default="")
    register.set_defaults(run=run_register)
    base = actions.add_parser(
        "register-base", help="add the configured STT model (champion if none)"
    )
    base.set_defaults(run=run_register_base)
    experiment = subparsers.add_parser("experiment", help="A/B tests of a challenger model")
    exp_actions = experiment.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = exp_actions.add_parser("start", help="challenger ID against the champion")
    start.add_argument("id")
    start.add_argument("--share", type=float, default=None, help="of users (default: setting)")
    start.set_defaults(run=run_start)
    for name, handler, text in (
        ("stop", run_stop, "stop it"),
        ("show", run_figures, "per-variant figures"),
    ):
        action = exp_actions.add_parser(name, help=text)
        action.add_argument("experiment")
        action.set_defaults(run=handler)


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """One line per model."""
    from learning.registry.versions import listing

    print("id\tstatus\tparent\tcreated\ttest WER\tdescription")
    for model in listing(settings):
        test_wer = model.evaluation.get("wer", "-") if model.evaluation else "-"
        created = model.created_at.isoformat(timespec="seconds")
        print(
            f"{model.id}\t{model.status}\t{model.parent_id or '-'}\t{created}\t{test_wer}\t"
            f"{model.description}"
        )
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """The entry as JSON."""
    from learning.registry.versions import describe, get

    _print(describe(get(settings, args.id)))
    return 0


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate with the champion; print both."""
    from learning.experiments.gate import evaluate

    results = evaluate(settings, args.id, args.dataset, repeats=max(1, args.repeats))
    for model_id, figures in results.items():
        print(
            f"{model_id}: test WER {figures['wer']:.3f} {figures['domains']} regression WER "
            f"{figures['regression_wer']:.3f} latency P50/P95 {figures['latency_ms']['p50']}/"
            f"{figures['latency_ms']['p95']} ms"
        )
    return 0


def run_promote(args: argparse.Namespace, settings: Settings) -> int:
    """Promote through the gate (a refusal is one line and exit 1)."""
    from learning.experiments.gate import promote

    promote(settings, args.id, ACTOR)
    print(f"{args.id} is the champion")
    return 0


def run_retire(args: argparse.Namespace, settings: Settings) -> int:
    """Retire a model that is not the champion."""
    from learning.errors import LearningError
    from learning.registry.versions import get, set_status

    if get(settings, args.id).status == "champion":
        raise LearningError(
            f"{args.id} is the champion: promote another or roll back first", code="is_champion"
        )
    set_status(settings, args.id, "retired", ACTOR)
    print(f"{args.id} retired")
    return 0


def run_rollback(args: argparse.Namespace, settings: Settings) -> int:
    """The previous champion back."""
    from learning.registry.versions import rollback

    retired, restored = rollback(settings, ACTOR)
    print(f"{restored} is the champion again ({retired} retired)")
    return 0


def run_register(args: argparse.Namespace, settings: Settings) -> int:
    """A CT2 folder made elsewhere, as a candidate."""
    from learning.registry.versions import register

    entry = register(settings, args.folder, description=args.description, actor=ACTOR)
    print(f"registered {entry.id} ({entry.status})")
    return 0


def run_register_base(args: argparse.Namespace, settings: Settings) -> int:
    """The configured STT model as an entry."""
    from learning.registry.versions import ensure_base

    entry = ensure_base(settings)
    print(f"{entry.id} ({entry.status})")
    return 0


def run_start(args: argparse.Namespace, settings: Settings) -> int:
    """Start an A/B test."""
    from learning.experiments.ab import start

    share = settings.experiment_share if args.share is None else args.share
    experiment = start(settings, args.id, share, ACTOR)
    print(f"experiment {experiment.id}: {experiment.challenger_id} for {share:.0%} of users")
    return 0


def run_stop(args: argparse.Namespace, settings: Settings) -> int:
    """Stop an A/B test."""
    from learning.experiments.ab import stop

    stop(settings, args.experiment, ACTOR)
    print(f"experiment {args.experiment} stopped")
    return 0


def run_figures(args: argparse.Namespace, settings: Settings) -> int:
    """Per-variant figures and the always-valid p-value."""
    from learning.experiments.figures import experiment_figures

    _print(experiment_figures(settings, args.experiment))
    return 0
