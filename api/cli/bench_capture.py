"""``voice-service bench-capture``: the capture pipeline's throughput, cost and enqueue latency.

Runs on the configured services (``VOICE_BROKER_URL``, ``VOICE_DATABASE_URL``, ``VOICE_STORAGE``
and ``VOICE_S3_ENDPOINT_URL``; ``--moto`` starts moto's S3 server in this process) with
``--workers`` worker processes (solo pool, one task at a time each; ``--threads N``: a threads
pool of N in each) and the chain of
``--chain`` (``VOICE_CAPTURE_CHAIN``), in a data folder of its own. It prints:

- what the voice path pays to hand a turn over (``CaptureSink.record`` on the event loop),
  p50 and p99, and the background spool write and publish per turn;
- CPU milliseconds per capture for each stage, run in this process (the fused chain's
  prepare, store, record, finish; or the split chain's steps);
- captures per second end to end through the broker, the workers, the store and the database.

Its captures are erased at the end (the same erasure an opt-out runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from api.cli.worker import worker_command
from api.voice.capture_sink import CaptureSink
from capture import pipeline
from capture.consent import ConsentChange
from capture.erasure import erase_user
from capture.models import Capture
from capture.objects import put_threads
from capture.spool import Spool, SpoolRecord
from capture.store_s3 import S3Store
from core.audio import SAMPLE_RATE
from core.db import session_scope
from core.errors import VoiceServiceError
from core.messages import Latency, NLUResult, Transcript
from core.settings import Settings
from migrations import upgrade
from workers.config import CHAINS, enqueue_capture, make_app

TURN_S = 3.0  # seconds of audio per synthetic turn
TRANSCRIPT = "my card number is 4111 1111 1111 1111 and what is the speed of light"


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "bench-capture", help="capture pipeline: captures/s, CPU ms per stage, enqueue p99"
    )
    parser.add_argument("--n", type=int, default=500, help="captures end to end")
    parser.add_argument("--cpu-sample", type=int, default=50, help="turns timed per stage")
    parser.add_argument("--moto", action="store_true", help="start moto's S3 server here")
    parser.add_argument("--workers", type=int, default=1, help="worker processes end to end")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="tasks at once in each worker process (threads pool); 0: one (solo pool)",
    )
    parser.add_argument(
        "--chain", choices=sorted(CHAINS), help="the capture chain (default: VOICE_CAPTURE_CHAIN)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait, at most")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the three measurements and print them."""
    if args.n < 1 or args.cpu_sample < 1 or args.workers < 1 or not 0 <= args.threads <= 16:
        raise VoiceServiceError(
            "--n, --cpu-sample and --workers must be at least 1, --threads 0 to 16",
            code="bad_arguments",
        )
    chain = args.chain or settings.capture_chain
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as folder, _s3(args, settings) as s3:
        bench = settings.model_copy(update={"data_dir": Path(folder), "capture_chain": chain, **s3})
        upgrade(bench.resolved_database_url())
        if bench.storage == "s3":
            S3Store(bench, "voice-captures-eu").ensure_bucket()
        token = f"bench-{uuid.uuid4().hex}"  # a user of the bench's own, erased at the end
        user = CaptureSink(bench).user_id(token)
        try:
            results = {
                "enqueue": _enqueue_latency(bench, token, args.n),
                "cpu_ms_per_stage": _cpu_per_stage(bench, user, args.cpu_sample),
                "end_to_end": _end_to_end(
                    bench, user, args.n, args.workers, args.timeout, threads=args.threads
                ),
            }
        finally:
            done = ConsentChange(user_id=user, granted=False, policy_version="", source="bench")
            erase_user(bench, done)
    _print(results, args.json)
    return 0


@contextmanager
def _s3(args: argparse.Namespace, settings: Settings) -> Iterator[dict[str, Any]]:
    if not args.moto:
        yield {}
        return
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise VoiceServiceError("--moto needs moto[server] (pip install '.[dev]')") from exc
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield {"storage": "s3", "s3_endpoint_url": f"http://{host}:{port}"}
    finally:
        server.stop()


def _turn(user: str, turn_id: str) -> tuple[SpoolRecord, bytes]:
    samples = np.arange(int(TURN_S * SAMPLE_RATE))
    pcm = (np.sin(samples * 2 * np.pi * 220 / SAMPLE_RATE) * 6000).astype("<i2").tobytes()
    record = SpoolRecord(
        turn_id=turn_id,
        user_id=user,
        timestamp=datetime.now(UTC).isoformat(),
        region="eu",
        conversation_id="bench",
        turn_index=0,
        transcript=TRANSCRIPT,
        response="About 300,000 kilometres per second.",
        intent="scientific_query",
        domain="physics",
        latency={"stt_ms": 400.0, "total_ms": 900.0},
        models={"bench": "1"},
    )
    return record, pcm


def _enqueue_latency(settings: Settings, token: str, n: int) -> dict[str, float]:
    """Time ``record`` on the event loop; the spool write and publish run on its thread."""
    sink = CaptureSink(settings)
    record, pcm = _turn(sink.user_id(token), "unused")
    nlu = NLUResult(intent="scientific_query", domain="physics", entities=[])

    async def hand_over() -> tuple[list[float], float]:
        costs = []
        for index in range(n):
            started = time.perf_counter()
            sink.record(
                turn_id=f"enqueue-{index:05d}",
                user_token=token,
                region="eu",
                conversation_id="bench",
                turn_index=index,
                transcript=Transcript(text=record.transcript),
                response=record.response,
                nlu=nlu,
                latency=Latency(),
                pcm=pcm,
                feedback=None,
            )
            costs.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0)  # a session does other work between turns
        started = time.perf_counter()
        await sink.drain()
        return costs, (time.perf_counter() - started) * 1000

    costs, drain_ms = asyncio.run(hand_over())
    spool = Spool(settings)
    for turn_id in spool.pending():  # published for nobody: no worker runs yet
        spool.delete(turn_id)
    sink.celery.control.purge()
    quantiles = statistics.quantiles(costs, n=100)
    return {
        "voice_path_p50_ms": round(statistics.median(costs), 3),
        "voice_path_p99_ms": round(quantiles[98], 3),
        "voice_path_max_ms": round(max(costs), 3),
        "background_drain_ms": round(drain_ms, 1),
    }


def _cpu_s() -> float:
    """CPU seconds of this thread and of the upload threads (moto's, with --moto, left out)."""
    return time.thread_time() + sum(
        time.clock_gettime(time.pthread_getcpuclockid(ident)) for ident in put_threads()
    )


def _fused(settings: Settings, turn_id: str) -> Iterator[str]:
    """``pipeline.process`` stage by stage: each name is yielded once its stage has run."""
    ready = pipeline.prepare(settings, *Spool(settings).get(turn_id))
    yield "prepare"
    pipeline.store(settings, turn_id, ready.metadata, ready.flac)
    yield "store"
    pipeline.record(settings, turn_id, ready)
    yield "record"
    pipeline.finish(settings, turn_id)
    yield "finish"


def _split(settings: Settings, turn_id: str) -> Iterator[str]:
    """The split chain's steps, each name yielded once its step has run."""
    for step, _ in CHAINS["split"]:
        pipeline.STEPS[step](settings, turn_id)
        yield step


def _cpu_per_stage(settings: Settings, user: str, n: int) -> dict[str, float]:
    """CPU time of each stage, per capture (the first, warm-up, excluded)."""
    spool = Spool(settings)
    stages = _fused if settings.capture_chain == "fused" else _split
    totals: dict[str, float] = {}
    for index in range(n + 1):
        turn_id = f"cpu-{index:05d}"
        spool.put(*_turn(user, turn_id))
        running = stages(settings, turn_id)
        while True:
            started = _cpu_s()
            try:
                name = next(running)
            except StopIteration:
                break
            if index:
                totals[name] = totals.get(name, 0.0) + _cpu_s() - started
    per_capture = {name: round(total * 1000 / n, 2) for name, total in totals.items()}
    per_capture["total"] = round(sum(per_capture.values()), 2)
    return per_capture


def _captured(settings: Settings, prefix: str) -> int:
    with session_scope(settings) as session:
        return session.query(Capture).filter(Capture.turn_id.startswith(prefix)).count()


def _end_to_end(
    settings: Settings, user: str, n: int, workers: int, timeout_s: float, *, threads: int = 0
) -> dict[str, Any]:
    """N turns through the broker and the workers, from the first publish to the last row.

    ``threads``: tasks at once in each worker process (0: the solo pool, one at a time).
    """
    env = {
        **os.environ,
        "VOICE_DATA_DIR": str(settings.data_dir),
        "VOICE_BROKER_URL": settings.resolved_broker_url(),
        "VOICE_DATABASE_URL": settings.resolved_database_url(),
        "VOICE_STORAGE": settings.storage,
        "VOICE_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "VOICE_CAPTURE_CHAIN": settings.capture_chain,
    }
    pool = "threads" if threads else "solo"
    command = [*worker_command(max(1, threads), pool=pool), "--without-mingle", "--without-gossip"]
    fleet = [
        subprocess.Popen(  # noqa: S603 - our own command
            [*command, "-n", f"bench{index}@%h"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(workers)
    ]
    celery = make_app(settings)
    spool = Spool(settings)
    try:
        for index in range(workers):  # each worker loads the redaction engine
            spool.put(*_turn(user, f"warmup-{index}"))
            enqueue_capture(celery, f"warmup-{index}")
        _wait(lambda: _captured(settings, "warmup") == workers, fleet, timeout_s)
        for index in range(n):
            spool.put(*_turn(user, f"e2e-{index:05d}"))
        started = time.perf_counter()
        for index in range(n):
            enqueue_capture(celery, f"e2e-{index:05d}")
        _wait(lambda: _captured(settings, "e2e-") == n and not spool.pending(), fleet, timeout_s)
        elapsed = time.perf_counter() - started
    finally:
        for worker in fleet:
            worker.terminate()
        for worker in fleet:
            worker.wait(timeout=60)
    return {
        "captures": n,
        "workers": workers,
        "threads": threads,
        "chain": settings.capture_chain,
        "seconds": round(elapsed, 2),
        "captures_per_s": round(n / elapsed, 1),
    }


def _wait(done: Any, fleet: list[subprocess.Popen[bytes]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if any(worker.poll() is not None for worker in fleet):
            raise VoiceServiceError("a worker exited during the benchmark", code="worker_exited")
        if time.monotonic() > deadline:
            raise VoiceServiceError("the captures did not complete in time", code="timeout")
        time.sleep(0.2)


def _print(results: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(results))
        return
    enqueue, cpu, e2e = results["enqueue"], results["cpu_ms_per_stage"], results["end_to_end"]
    print(
        f"voice path hand-over: p50 {enqueue['voice_path_p50_ms']} ms, "
        f"p99 {enqueue['voice_path_p99_ms']} ms, max {enqueue['voice_path_max_ms']} ms"
    )
    print("CPU ms per capture: " + ", ".join(f"{k} {v}" for k, v in cpu.items()))
    print(
        f"end to end: {e2e['captures']} captures in {e2e['seconds']} s = "
        f"{e2e['captures_per_s']} captures/s ({e2e['workers']} worker processes, "
        + (f"{e2e['threads']} threads each, " if e2e["threads"] else "solo pool, ")
        + f"{e2e['chain']} chain)"
    )
