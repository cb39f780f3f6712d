"""``voice-service finetune stt``: LoRA fine-tuning of Whisper on an exported dataset.

Runs here (progress on the console) or, with ``--queue``, as a job on the Celery ``training``
queue (``voice-service worker -Q training``). Needs the ``train`` extra (torch, peft,
transformers).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register ``finetune stt``."""
    parser = subparsers.add_parser("finetune", help="fine-tune a model on an exported dataset")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    stt = kinds.add_parser("stt", help="Whisper LoRA on the dataset's train split")
    stt.add_argument("--dataset", type=Path, required=True, help="a `dataset export` folder")
    stt.add_argument("--out", type=Path, required=True, help="new folder (ct2/ inside)")
    stt.add_argument("--rank", type=int, default=32)
    stt.add_argument("--alpha", type=int, default=None, help="LoRA alpha (default 2 x rank)")
    stt.add_argument("--epochs", type=int, default=3)
    stt.add_argument("--lr", type=float, default=1e-3)
    stt.add_argument("--batch-size", type=int, default=8)
    stt.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: epochs)")
    stt.add_argument("--eval-every", type=int, default=0, help="steps between dev WER (0: epoch)")
    stt.add_argument("--patience", type=int, default=2)
    stt.add_argument(
        "--scope",
        choices=("decoder", "all"),
        default="decoder",
        help="adapters on the decoder's q/v (CPU) or the encoder's too (GPU)",
    )
    stt.add_argument("--device", default="cpu", help="cpu or cuda")
    stt.add_argument(
        "--base",
        type=Path,
        default=None,
        help="local Hugging Face Whisper folder (default: bundled tiny.en)",
    )
    stt.add_argument("--no-register", action="store_true", help="do not add it to the registry")
    stt.add_argument("--queue", action="store_true", help="run on the training queue instead")
    stt.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Train (or queue), then say where the model is."""
    from learning.finetune.train import TrainSettings

    train = TrainSettings(
        rank=args.rank,
        alpha=args.alpha,
        epochs=args.epochs,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        max_steps=args.max_steps,
        eval_every=args.eval_every,
        patience=args.patience,
        scope=args.scope,
        device=args.device,
    )
    train.check()
    if args.queue:
        from learning.finetune.job import queue_job
        from workers.config import enqueue_training, make_app

        job_id = queue_job(settings, args.dataset.resolve(), train)
        enqueue_training(
            make_app(settings),
            job_id,
            str(args.out.resolve()),
            args.base and str(args.base.resolve()),
        )
        print(f"training job {job_id} queued")
        return 0
    from learning.finetune.job import run_finetune

    result = run_finetune(
        settings,
        args.dataset,
        args.out,
        train,
        base=args.base,
        register=not args.no_register,
        echo=lambda line: print(line, flush=True),
    )
    print(
        f"model: {result['ct2']} ({result['steps']} steps, {result['steps_per_s']} steps/s, "
        f"dev WER {result['base_dev_wer']} -> {result['best_dev_wer']})"
    )
    return 0
