"""Benchmarks that print figures.

``bench-chain``: per-stage latency of ``ask``; ``bench-talk``: latency over ``/v1/voice`` for one
file, or a set of spoken questions with ``--set`` (``bench_set``); ``nlu-eval``: accuracy and
latency of the NLU backend on a labelled set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from api.cli.ask import answer
from api.voice.audio import decode_audio
from api.voice.models import Models
from api.voice.nlu import load_nlu
from core.audio import SAMPLE_RATE
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
    talk = subparsers.add_parser("bench-talk", help="first_audio_ms over /v1/voice, streamed")
    talk.add_argument("input", type=Path, nargs="?", help="one file (or use --set)")
    talk.add_argument("--runs", type=int, default=5)
    talk.add_argument("--url", default=None, help="default ws://HOST:PORT/v1/voice")
    talk.add_argument("--json", action="store_true", help="print one JSON object")
    talk.add_argument(
        "--barge-in",
        action="store_true",
        help="also talk over each answer and time how fast its audio stops",
    )
    talk.add_argument("--set", type=Path, default=None, help="a folder with manifest.jsonl")
    talk.add_argument("--split", choices=["tune", "heldout", "all"], default="all")
    talk.add_argument("--concurrency", type=int, default=1, help="sessions at once (--set)")
    talk.add_argument("--limit", type=int, default=None, help="at most N clips, mixed by kind")
    talk.add_argument(
        "--trailing-silence", type=float, default=None, help="seconds after each (2.5; --set: 4)"
    )
    talk.add_argument("--out", type=Path, default=None, help="results folder (--set)")
    talk.set_defaults(run=run_talk)
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
    # Every run asks the same question: with caches on, runs after the first would be hits.
    uncached = {"response_cache": False, "speech_cache": False}
    models = Models.load(settings.model_copy(update=uncached))
    load_s = time.perf_counter() - started
    output = Path(settings.data_dir) / "bench-reply.wav"
    output.parent.mkdir(parents=True, exist_ok=True)
    runs = [
        asyncio.run(answer(models, audio, args.voice, output))["latency"] for _ in range(args.runs)
    ]
    figures = {stage: _summary([r[stage] or 0.0 for r in runs]) for stage in STAGES}
    result = {
        "input": str(args.input),
        "audio_s": round(audio.size / SAMPLE_RATE, 2),
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


def run_talk(args: argparse.Namespace, settings: Settings) -> int:
    """Stream the file in real time ``--runs`` times, a new session each, to a running service.

    Prints the latency the server reports for each turn, and the number of turns heard. With
    ``--set DIR`` it streams a set of clips instead (``bench_set.run_set``).
    """
    from api.cli.talk import TalkSession

    if args.set is not None:
        if args.input is not None:
            raise VoiceServiceError("give a file or --set, not both", code="bad_argument")
        from api.cli.bench_set import run_set

        return run_set(args, settings)
    if args.input is None:
        raise VoiceServiceError("give a file to stream, or --set DIR", code="bad_argument")
    audio = decode_audio(args.input, max_seconds=settings.max_utterance_s)
    url = args.url or f"ws://{settings.host}:{settings.port}/v1/voice"
    options = argparse.Namespace(
        consent=False,
        voice=None,
        token=None,
        speed=1.0,
        frame_ms=40,
        trailing_silence=2.5 if args.trailing_silence is None else args.trailing_silence,
        json=False,
        quiet=True,
    )
    ends, turns, stops = [], [], []
    for _ in range(args.runs):
        session = TalkSession(options, url)
        asyncio.run(asyncio.wait_for(session.run(audio), timeout=180))
        turns.append(sum(e["type"] == "transcript" for e in session.events))
        ends += [e["latency"] for e in session.events if e["type"] == "turn_end"]
        if args.barge_in:
            stops.append(asyncio.run(asyncio.wait_for(_barge_in(url, audio), timeout=180)))
    if not ends:
        raise VoiceServiceError("no turn was answered", code="no_answer")
    figures = {stage: _summary([e[stage] or 0.0 for e in ends]) for stage in STAGES}
    if stops:
        figures["barge_in_stop_ms"] = _summary(stops)
    result = {
        "input": str(args.input),
        "runs": args.runs,
        "turns_per_run": turns,
        "latency_ms": figures,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.input} over {url}, {args.runs} runs, turns heard per run: {turns}")
    print(f"{'stage':<16}{'median':>10}{'min':>10}{'max':>10}")
    for stage, values in figures.items():
        print(f"{stage:<16}{values['median']:>10}{values['min']:>10}{values['max']:>10}")
    return 0


async def _barge_in(url: str, audio: Any) -> float:
    """Ask, then talk over the answer; time how long its audio goes on.

    Returns ms from the moment the interrupting speech has lasted 250 ms (what barge-in needs
    by default) to the last audio frame of the answer received.
    """
    import websockets

    from api.voice.audio import float_to_pcm16

    question = float_to_pcm16(np.concatenate([audio, np.zeros(40_000, np.float32)]))
    speech = float_to_pcm16(audio[: 3 * SAMPLE_RATE])
    async with websockets.connect(url, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "start"}))
        await _paced(ws, question, frame_s=0.1, speed=3.0)  # within the frame-rate limit
        while not (
            isinstance(m := await ws.recv(), str) and json.loads(m)["type"] == "audio_start"
        ):
            pass
        voice_starts = _first_voiced_s(audio)
        sender = asyncio.create_task(_paced(ws, speech, frame_s=0.04, speed=1.0))
        began = time.perf_counter()
        last_audio = began
        while True:
            message = await ws.recv()
            if isinstance(message, bytes):
                last_audio = time.perf_counter()
            elif json.loads(message)["type"] == "interrupted":
                break
        sender.cancel()
        needed = began + voice_starts + 0.25
        return round(max(0.0, last_audio - needed) * 1000, 1)


async def _paced(ws: Any, pcm: bytes, *, frame_s: float, speed: float) -> None:
    """Send ``pcm`` in frames of ``frame_s``, ``speed`` times faster than real time."""
    frame = int(SAMPLE_RATE * frame_s) * 2
    started = time.perf_counter()
    for index, offset in enumerate(range(0, len(pcm), frame)):
        await asyncio.sleep(max(0.0, started + index * frame_s / speed - time.perf_counter()))
        await ws.send(pcm[offset : offset + frame])


def _first_voiced_s(audio: Any) -> float:
    """Where speech starts in ``audio`` (first 32 ms frame the VAD calls voiced)."""
    from api.voice.vad import FRAME_SAMPLES, SileroVAD

    for index, probability in enumerate(SileroVAD().stream().push(audio[: 3 * SAMPLE_RATE])):
        if probability >= 0.5:
            return index * FRAME_SAMPLES / SAMPLE_RATE
    return 0.0


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
    nlu = load_nlu(settings)

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
