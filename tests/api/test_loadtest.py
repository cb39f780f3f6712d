"""``voice-service loadtest`` against a real server with the bundled models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.app import create_app
from api.cli.loadtest import check_url
from api.voice.models import Models
from core.errors import VoiceServiceError
from core.settings import Settings
from tests.utils.server import serve_app

CLI = [sys.executable, "-m", "api.cli", "loadtest"]


def loadtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=180, env=os.environ.copy()
    )


def test_two_talkers_on_one_slot_get_answers_and_refusals(
    settings: Settings, models: Models, tmp_path: Path
) -> None:
    config = settings.model_copy(update={"data_dir": tmp_path, "max_sessions": 1})
    with serve_app(create_app(config, models=models)) as base:
        url = base.replace("http", "ws") + "/v1/voice"
        done = loadtest("--sessions", "2", "--duration", "12", "--url", url, "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["sessions"] == 2 and figures["urls"] == [url]
    assert figures["answered"] >= 1 and figures["turns"] >= figures["answered"]
    assert figures["first_audio_p50_ms"] > 0
    assert figures["first_audio_p50_ms"] <= figures["first_audio_p95_ms"]
    assert figures["first_audio_p95_ms"] <= figures["first_audio_max_ms"]
    assert figures["refusals"].get("busy", 0) >= 1  # the second talker found the slot taken
    assert figures["errors"] == {}
    assert figures["wall_s"] < 12 + 60  # bounded by the duration and one last turn


def test_the_text_report_names_percentiles_refusals_and_errors() -> None:
    done = loadtest("--sessions", "1", "--duration", "1", "--url", "ws://127.0.0.1:9/v1/voice")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1 talkers for 1 s on 1 replica(s): 0 turns")
    assert lines[1] == "first audio ms: p50 None  p95 None  p99 None  max None"
    assert lines[2] == "refusals: none" and lines[3].startswith("errors: unreachable ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sessions", "0", "--duration", "5"], "--sessions must be 1 to 64"),
        (["--sessions", "65", "--duration", "5"], "--sessions must be 1 to 64"),
        (["--sessions", "1", "--duration", "601"], "--duration must be 1 to 600 s"),
        (
            ["--sessions", "1", "--duration", "5", "--url", "ws://voice.example.org/v1/voice"],
            "voice.example.org is not a loopback address; pass --allow-remote",
        ),
        (["--sessions", "1", "--duration", "5", "--url", "http://127.0.0.1:8003"], "not a ws://"),
    ],
)
def test_bounds_and_remote_addresses_are_refused_in_one_line(args: list[str], message: str) -> None:
    done = loadtest(*args)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert message in line


def test_loopback_addresses_pass_and_remote_ones_need_the_flag() -> None:
    for url in ("ws://127.0.0.1:8003/v1/voice", "ws://[::1]:8003/v1/voice", "ws://localhost/x"):
        assert check_url(url, allow_remote=False) == url
    with pytest.raises(VoiceServiceError):
        check_url("ws://10.0.0.5:8003/v1/voice", allow_remote=False)
    assert check_url("wss://voice.example.org/v1/voice", allow_remote=True)
