"""``voice-service dataset export`` and ``dataset bench``: training datasets from captured turns.

``export`` runs here with a progress bar, or on a ``datasets`` worker with ``--enqueue``
(``voice-service worker --queues datasets``). docs/LEARNING.md explains the rules and formats.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from core.errors import VoiceServiceError
from core.settings import Settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def add_parser(subparsers: Any) -> None:
    """Register ``dataset export`` and ``dataset bench``."""
    parser = subparsers.add_parser("dataset", help="training datasets from consented turns")
    actions = parser.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="export a speech dataset to OUT")
    export.add_argument("out", type=Path, metavar="OUT", help="a new or empty folder")
    export.add_argument("--since", type=_day, help="turns recorded on or after this day (UTC)")
    export.add_argument("--until", type=_day, help="turns recorded on or before this day (UTC)")
    export.add_argument(
        "--min-reviewed", action="store_true", help="only turns a reviewer approved or corrected"
    )
    export.add_argument("--augment", type=int, default=0, metavar="N", help="copies per train clip")
    export.add_argument("--format", choices=("hf", "nemo"), default="hf")
    export.add_argument("--synthetic", action="store_true", help="add the science-term split")
    export.add_argument("--overwrite", action="store_true", help="replace a dataset in OUT")
    export.add_argument("--enqueue", action="store_true", help="run on a datasets worker")
    export.add_argument("--json", action="store_true", help="print the report as JSON")
    export.set_defaults(run=run_export)
    bench = actions.add_parser("bench", help="time an export of N stored turns (scratch folder)")
    bench.add_argument("--n", type=int, default=1000, help="turns")
    bench.add_argument("--format", choices=("hf", "nemo"), default="hf")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(run=run_bench)


class ProgressBar:
    """One tqdm bar per stage, on stderr (hidden when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Move the stage's bar to ``done`` of ``total`` (a new stage starts a new bar)."""
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="clip", file=sys.stderr, disable=None)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """End the current bar."""
        if self.bar is not None:
            self.bar.close()


def _options(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from learning.dataset.options import ExportOptions

    try:
        return ExportOptions(
            out=args.out.absolute(),
            since=args.since,
            until=args.until,
            min_reviewed=args.min_reviewed,
            augment=args.augment,
            format=args.format,
            overwrite=args.overwrite,
            synthetic=args.synthetic,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise VoiceServiceError(f"--{where}: {error['msg']}", code="bad_arguments") from None


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export here (or enqueue), then print the report's summary."""
    options = _options(args)
    if args.enqueue:
        from learning.dataset.writer import check_destination
        from workers.config import enqueue_dataset_export, make_app

        options.window()
        check_destination(options.out, options.overwrite)  # the worker checks again
        task_id = enqueue_dataset_export(make_app(settings), options.model_dump(mode="json"))
        print(f"enqueued dataset export {task_id}: {options.out} (queue datasets)")
        return 0
    from learning.dataset.export import export_dataset

    bar = ProgressBar()
    try:
        report = export_dataset(settings, options, bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{options.out}: {report['message']}")
    for name, split in report["splits"].items():
        terms = split["science_terms"]
        print(
            f"  {name:9} {split['utterances']:6d} utterances {split['hours']:8.3f} h "
            f"{split['speakers']:5d} speakers  +{split['augmented_copies']} copies  "
            f"terms {terms['covered']}/{terms['of']}"
        )
    for key in ("excluded", "skipped", "dropped_during_export"):
        if report[key]:
            print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in report[key].items()))
    filtered = {k: v for k, v in report["filtered"].items() if v}
    if filtered:
        print("  filtered: " + ", ".join(f"{k} {v}" for k, v in filtered.items()))
    return 0


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Seed, export, print the figures."""
    from learning.dataset.bench import run_bench as bench

    if args.n < 1:
        raise VoiceServiceError("--n must be at least 1", code="bad_arguments")
    bar = ProgressBar()
    try:
        figures = bench(settings, args.n, args.format, bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"exported {figures['exported']} of {figures['turns']} turns ({figures['format']}) in "
        f"{figures['seconds']} s ({figures['cpu_seconds']} s of CPU): {figures['turns_per_s']} "
        f"turns/s with {figures['workers']} workers (VOICE_DATASET_WORKERS)"
    )
    print("  stages: " + ", ".join(f"{k} {v} s" for k, v in figures["stage_s"].items()))
    return 0
