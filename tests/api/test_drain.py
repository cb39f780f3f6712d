"""Draining a replica: no new sessions, running turns finish, then it may stop (real models)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.voice.models import Models
from core.settings import Settings
from tests.utils.audio import spoken
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient


def drain(base: str, timeout_s: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    """``voice-service drain`` against ``base``, and when it returned."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "drain", "--url", base, "--timeout", str(timeout_s)],
        capture_output=True,
        text=True,
        timeout=timeout_s + 30,
        env=os.environ.copy(),
    )
    return done, time.monotonic()


async def test_a_drain_lets_the_running_turn_finish_and_refuses_new_sessions(
    settings: Settings, models: Models, tmp_path: Path
) -> None:
    question = await spoken(models, "What is the speed of light?", voice="friendly", silence_s=2)
    app = create_app(settings.model_copy(update={"data_dir": tmp_path}), models=models)
    with serve_app(app) as base:
        url = base.replace("http", "ws") + "/v1/voice"
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{base}/readyz")).status_code == 200
            async with VoiceClient(url) as talking, VoiceClient(url) as idle:
                await talking.start()
                await idle.start()
                speaking = asyncio.create_task(talking.stream(question))
                await talking.wait_for(lambda e: e["type"] == "transcript", timeout=60)
                status = (await http.get(f"{base}/drainz")).json()
                assert status == {"draining": False, "sessions": 2, "in_turn": 1}
                began = (await http.post(f"{base}/drainz")).json()  # what preStop's drain sends
                assert began == {"draining": True, "sessions": 2, "in_turn": 1}
                drained = asyncio.create_task(asyncio.to_thread(drain, base))
                ready = await http.get(f"{base}/readyz")
                assert ready.status_code == 503 and ready.json() == {"status": "draining"}
                async with VoiceClient(url) as late:
                    error = await late.wait_for(lambda e: e["type"] == "error", timeout=10)
                    assert error["code"] == "draining"
                    assert (await late.wait_closed())[0] == 1013
                done, returned = await drained
                await speaking
                assert done.returncode == 0, done.stderr
                assert done.stdout.splitlines()[-1] == (
                    "drained: 2 idle sessions left (closed when the server stops)"
                )
                end = talking.of("turn_end")
                assert end and end[0]["response"] and talking.of("audio_end")
                assert end[0]["at"] < returned  # the turn ended before the drain let go
                assert talking.closed is None and idle.closed is None  # nobody was cut off
                status = (await http.get(f"{base}/drainz")).json()
                assert status == {"draining": True, "sessions": 2, "in_turn": 0}


def test_drain_is_refused_to_anyone_but_the_pod_itself(settings: Settings, models: Models) -> None:
    app = create_app(settings, models=models)
    with TestClient(app) as client:  # its peer is "testclient", not a loopback address
        for method in ("get", "post"):
            response = getattr(client, method)("/drainz")
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "forbidden"
        assert client.get("/readyz").status_code == 200  # not draining


def test_drain_says_in_one_line_when_nothing_listens() -> None:
    done, _ = drain("http://127.0.0.1:9", timeout_s=1)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("voice-service: error: cannot reach http://127.0.0.1:9")
