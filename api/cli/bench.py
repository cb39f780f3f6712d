"""Benchmarks that print figures.

``bench-chain``: per-stage latency of ``ask``; ``nlu-eval``: accuracy and latency of the NLU
backend on a labelled set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from api.cli.ask import answer
from api.voice.audio import decode_audio
from api.voice.models import Models
from api.voice.nlu import registry as nlu_registry
from core.errors import VoiceServiceError
from core.settings import VOICES, Settings

STAGES = ["stt_ms", "nlu_ms", "rag_ms", "llm_ms", "tts_ms", "first_audio_ms", "total_ms"]


def add_parser(subparsers: Any) -> None:
    """Register both commands."""
    chain = subparsers.add_parser("bench-chain", help="per-stage latency of the chain on a file")
    chain.add_argument("input", type=Path)
    chain.add_argument("--runs", type=int, default=5)
    chain.add_argument("--voice", choices=VOICES, default="friendly")
    chain.add_argument("--json", action="store_true", help="print one JSON object")
    chain.set_defaults(run=run_chain)
    nlu = subparsers.add_parser("nlu-eval", help="NLU accuracy and latency on labelled JSON lines")
    nlu.add_argument("dataset", type=Path, help='JSON lines with "text", "intent", "domain"')
    nlu.add_argument("--json", action="store_true", help="print one JSON object")
    nlu.set_defaults(run=run_nlu)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def run_chain(args: argparse.Namespace, settings: Settings) -> int:
    """Load once, run ``--runs`` turns (each with fresh history), print median/min/max."""
    if args.runs < 1:
        raise VoiceServiceError("--runs must be at least 1", code="bad_argument")
    audio = decode_audio(args.input, max_seconds=settings.max_utterance_s)
    started = time.perf_counter()
    models = Models.load(settings)
    load_s = time.perf_counter() - started
    output = Path(settings.data_dir) / "bench-reply.wav"
    output.parent.mkdir(parents=True, exist_ok=True)
    runs = [
        asyncio.run(answer(models, audio, args.voice, output))["latency"] for _ in range(args.runs)
    ]
    figures = {stage: _summary([r[stage] or 0.0 for r in runs]) for stage in STAGES}
    result = {
        "input": str(args.input),
        "audio_s": round(audio.size / 16_000, 2),
        "runs": args.runs,
        "models": models.describe(),
        "load_s": round(load_s, 2),
        "latency_ms": figures,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{args.input} ({result['audio_s']} s of audio), {args.runs} runs, models loaded in "
        f"{result['load_s']} s"
    )
    print(f"{'stage':<16}{'median':>10}{'min':>10}{'max':>10}")
    for stage, values in figures.items():
        print(f"{stage:<16}{values['median']:>10}{values['min']:>10}{values['max']:>10}")
    return 0


def run_nlu(args: argparse.Namespace, settings: Settings) -> int:
    """Intent and domain accuracy, and per-utterance latency percentiles."""
    try:
        rows = [
            json.loads(line)
            for line in args.dataset.read_text("utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, ValueError) as exc:
        raise VoiceServiceError(f"cannot read {args.dataset}: {exc}", code="bad_dataset") from exc
    backend = nlu_registry.load(settings.nlu_backend)
    if settings.nlu_backend == "llm":
        from api.voice.llm import load_llm

        nlu = backend(settings, load_llm(settings))  # type: ignore[call-arg]
    else:
        nlu = backend(settings)  # type: ignore[call-arg]

    async def evaluate() -> tuple[list[Any], list[float]]:
        results, timings = [], []
        for row in rows:
            started = time.perf_counter()
            results.append(await nlu.understand(row["text"]))
            timings.append((time.perf_counter() - started) * 1000)
        return results, timings

    results, timings = asyncio.run(evaluate())
    pairs = list(zip(results, rows, strict=True))
    ordered = sorted(timings)
    result = {
        "dataset": str(args.dataset),
        "backend": settings.nlu_backend,
        "utterances": len(rows),
        "intent_accuracy": round(sum(r.intent == e["intent"] for r, e in pairs) / len(pairs), 4),
        "domain_accuracy": round(sum(r.domain == e["domain"] for r, e in pairs) / len(pairs), 4),
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)], 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<16} {value}")
    return 0
