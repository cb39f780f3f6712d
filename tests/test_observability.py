"""A running ``serve`` and a worker, scraped by a real Prometheus, logging JSON at DEBUG.

Three captured sessions of real speech go through the service, Redis, a worker (its prefork
pool: prometheus-client's multiprocess mode) and PostgreSQL. Then Prometheus' HTTP API answers
``histogram_quantile(0.95, ...)`` of first audio with a number, and sees the worker's captures;
and the logs of both processes are JSON lines that carry the session and turn ids, and never
the transcript, the answer or the user's id.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis

from api.metrics import SLO_BUCKETS
from api.voice.audio import decode_audio
from capture.models import Capture
from capture.spool import Spool
from core.db import session_scope
from core.settings import Settings
from migrations import upgrade
from tests.conftest import SPEECH
from tests.utils.capture import BROKER, wait_until
from tests.utils.databases import fresh_database
from tests.utils.processes import free_port, stop, wait_for_http
from tests.utils.ws import VoiceClient

CLIPS = ("complete_no_pause-00.flac", "complete_no_pause-07.flac", "complete_no_pause-08.flac")
USER = "carol-token-5d1e"
FIRST_AUDIO_P95 = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(voice_turn_stage_seconds_bucket{stage="first_audio"}[5m])))'
)


@dataclass
class Stack:
    """The processes' addresses, logs and settings."""

    settings: Settings
    api: str
    prometheus: str
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)


@dataclass
class Traffic:
    """What the sessions said and were told."""

    sessions: list[str] = field(default_factory=list)
    turns: list[str] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    first_audio_s: list[float] = field(default_factory=list)
    user_ids: set[str] = field(default_factory=set)


def start(
    command: list[str], env: dict[str, str], folder: Path, name: str
) -> subprocess.Popen[bytes]:
    """``command`` with stdout and stderr (the log lines) in files of their own."""
    with open(folder / f"{name}.out", "wb") as out, open(folder / f"{name}.log", "wb") as err:
        return subprocess.Popen(command, env=env, stdout=out, stderr=err)


def ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    if not wait_for_http(url, timeout_s, alive=lambda: process.poll() is None):
        raise RuntimeError(f"{process.args!r} did not answer {url}: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus (Debian package prometheus) is not installed")
    folder = tmp_path_factory.mktemp("stack")
    redis.Redis.from_url(BROKER).flushdb()
    with fresh_database("postgresql", folder) as url:
        upgrade(url)
        api_port, worker_port, prometheus_port = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_")}
        env.update(
            VOICE_DATA_DIR=str(folder / "data"),
            VOICE_BROKER_URL=BROKER,
            VOICE_DATABASE_URL=url,
            VOICE_PORT=str(api_port),
            VOICE_WORKER_METRICS_PORT=str(worker_port),
            VOICE_LOG_FORMAT="json",
            VOICE_LOG_LEVEL="DEBUG",
        )
        settings = Settings(
            data_dir=folder / "data", broker_url=BROKER, database_url=url, _env_file=None
        )  # type: ignore[call-arg]
        config = folder / "prometheus.yml"
        config.write_text(
            json.dumps(  # YAML is a superset of JSON
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "scrape_configs": [
                        {
                            "job_name": "voice-api",
                            "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
                        },
                        {
                            "job_name": "voice-worker",
                            "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
                        },
                    ],
                }
            )
        )
        logs = {name: folder / f"{name}.log" for name in ("serve", "worker", "prometheus")}
        result = Stack(settings, f"http://127.0.0.1:{api_port}", "", logs)
        python = [sys.executable, "-m", "api.cli"]
        try:
            result.processes["worker"] = start([*python, "worker"], env, folder, "worker")
            result.processes["serve"] = start([*python, "serve"], env, folder, "serve")
            ready(f"{result.api}/readyz", result.processes["serve"], logs["serve"], 240)
            ready(
                f"http://127.0.0.1:{worker_port}/metrics",
                result.processes["worker"],
                logs["worker"],
                60,
            )
            result.processes["prometheus"] = start(
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={folder / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prometheus_port}",
                ],
                env,
                folder,
                "prometheus",
            )
            result.prometheus = f"http://127.0.0.1:{prometheus_port}"
            ready(
                f"{result.prometheus}/-/ready",
                result.processes["prometheus"],
                logs["prometheus"],
                60,
            )
            # both targets scraped once before any turn: rate() sees every turn as an increase
            wait_until(lambda: query(result, 'sum(up{job=~"voice-.*"})') == [2.0], 30, "scrapes")
            yield result
        finally:
            for process in reversed(result.processes.values()):
                stop(process, timeout_s=30)


def query(stack: Stack, promql: str) -> list[float]:
    """The values of an instant query through Prometheus' HTTP API."""
    response = httpx.get(f"{stack.prometheus}/api/v1/query", params={"query": promql}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", body
    return [float(item["value"][1]) for item in body["data"]["result"]]


@pytest.fixture(scope="module")
async def traffic(stack: Stack) -> AsyncIterator[Traffic]:
    """Three consented sessions of one user, one turn each (thumbs up on the first)."""
    seen = Traffic()
    ws = stack.api.replace("http", "ws") + "/v1/voice"
    for clip in CLIPS:
        speech = decode_audio(SPEECH / "turns" / clip, max_seconds=10)
        audio = np.concatenate([speech, np.zeros(24_000, np.float32)])  # then 1.5 s of silence
        async with VoiceClient(ws) as client:
            ready_event = await client.start(consent=True, user=USER, region="us")
            await client.stream(audio, speed=2)
            end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=180)
            if not seen.turns:
                feedback = {"type": "feedback", "turn_id": end["turn_id"], "value": "thumbs_up"}
                await client.send_json(feedback)
        seen.sessions.append(ready_event["session_id"])
        seen.turns.append(end["turn_id"])
        seen.transcripts.append(client.of("transcript")[0]["text"])
        seen.responses.append(end["response"])
        seen.first_audio_s.append(end["latency"]["first_audio_ms"] / 1000)
    wait_until(lambda: len(captured(stack.settings)) == 3, 180, "the capture worker")
    wait_until(lambda: Spool(stack.settings).pending() == [], 60, "the spool")
    seen.user_ids = {capture.user_id for capture in captured(stack.settings)}
    yield seen


def captured(settings: Settings) -> list[Capture]:
    with session_scope(settings) as session:
        rows = session.query(Capture).all()
        session.expunge_all()
        return rows


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a log, each of which must be a JSON object."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"{path.name}:{number} is not a JSON line: {line[:200]!r}")
    return lines


def words(text: str) -> str:
    """Lower-case words separated by single spaces (JSON escapes and punctuation dropped)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("\\n", " ")))


def test_prometheus_answers_first_audio_p95_and_sees_the_worker(
    stack: Stack, traffic: Traffic
) -> None:
    def p95() -> list[float]:
        return [v for v in query(stack, FIRST_AUDIO_P95) if math.isfinite(v)]

    # the last turn's increase reaches Prometheus within a scrape or two
    wait_until(lambda: len(p95()) == 1, 30, "a finite first-audio P95")
    (value,) = p95()
    # the quantile interpolates within the 50 ms buckets that hold the turns' first audio
    lowest = max((b for b in SLO_BUCKETS if b < min(traffic.first_audio_s)), default=0.0)
    # (over the last bucket, in +Inf, it is that bucket's bound: a very loaded machine)
    highest = min((b for b in SLO_BUCKETS if b >= max(traffic.first_audio_s)), default=60.0)
    assert lowest <= value <= highest, (value, traffic.first_audio_s)
    turns = 'sum(voice_turns_total{job="voice-api"})'
    wait_until(lambda: query(stack, turns) == [3.0], 30, "the turn count")
    # the worker's pool process counted the captures; its main process served them
    captures = 'sum(voice_worker_captures_total{job="voice-worker"})'
    wait_until(lambda: query(stack, captures) == [3.0], 30, "the capture count")
    processed = 'sum(voice_worker_tasks_total{task="capture.process",outcome="success"})'
    assert query(stack, processed) == [3.0]  # the fused chain: one task a turn
    assert query(stack, 'up{job="voice-worker"}') == [1.0]
    queues = query(stack, "voice_queue_length")
    assert len(queues) == 4 and all(v >= 0 for v in queues)
    assert query(stack, "voice_broker_reachable") == [1.0]
    assert query(stack, "voice_spool_entries") == [0.0]
    thumbs = 'sum(voice_feedback_total{value="thumbs_up"})'
    wait_until(lambda: query(stack, thumbs) == [1.0], 30, "the feedback count")


def test_logs_are_json_lines_with_ids_and_without_what_was_said(
    stack: Stack, traffic: Traffic
) -> None:
    serve, worker = read_lines(stack.logs["serve"]), read_lines(stack.logs["worker"])
    assert serve and worker
    assert {"ts", "level", "logger", "message"} <= set(serve[0])
    assert any(line["level"] == "DEBUG" for line in serve)  # VOICE_LOG_LEVEL applies
    for session, turn in zip(traffic.sessions, traffic.turns, strict=True):
        of_turn = [line for line in serve if line.get("turn_id") == turn]
        assert of_turn, f"no line of the API carries turn {turn}"
        assert all(line.get("session_id") == session for line in of_turn)
        # the capture's tasks carry the same turn id in the worker's log
        tasks = {line.get("task") for line in worker if line.get("turn_id") == turn}
        assert "capture.process" in tasks, tasks  # the fused chain's one task
    text = stack.logs["serve"].read_text() + stack.logs["worker"].read_text()
    logged = f" {words(text)} "
    for said in (*traffic.transcripts, *traffic.responses):  # not even three words in a row
        spoken = words(said).split()
        for i in range(len(spoken) - 2):
            assert f" {' '.join(spoken[i : i + 3])} " not in logged, f"logged: {said!r}"
    text = text.lower()
    for user in (USER, *traffic.user_ids):
        assert user.lower() not in text, "a user id was logged"
    assert len(traffic.user_ids) == 1 and len(next(iter(traffic.user_ids))) == 64
