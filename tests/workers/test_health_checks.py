"""The health checks docker-compose.yml gives the worker and beat, run against real ones.

The commands are taken from the compose file as written, with the image's paths swapped for
this checkout's (``/app/.venv/bin/celery`` -> this interpreter, ``/data`` -> the test's folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from core.settings import Settings
from tests.utils.capture import wait_until
from tests.utils.celery_worker import celery_worker
from tests.utils.processes import stop

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def check(service: str, env: dict[str, str], data_dir: Path) -> int:
    """Run ``service``'s health check as the container's shell would; its exit status."""
    test = yaml.safe_load(COMPOSE.read_text())["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    command = (
        test[1]
        .replace("$$", "$")
        .replace("/app/.venv/bin/celery", f"{sys.executable} -m celery")
        .replace("/data", str(data_dir))
    )
    environment = {**os.environ, **env, "HOSTNAME": socket.gethostname()}
    done = subprocess.run(["sh", "-c", command], env=environment, timeout=60, check=False)
    return done.returncode


def test_the_worker_is_healthy_while_it_answers_ping(
    pipeline_env: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    _, env = pipeline_env
    with celery_worker(env) as worker:
        time.sleep(2)  # it has joined the broker's control exchange
        assert check("worker", env, tmp_path) == 0
    assert worker.poll() is not None
    assert check("worker", env, tmp_path) != 0  # no worker answers: unhealthy


def test_beat_is_healthy_while_its_schedule_file_is_fresh(
    pipeline_env: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = pipeline_env
    assert check("beat", env, settings.data_dir) != 0  # no schedule file yet
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel=INFO"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: check("beat", env, settings.data_dir) == 0, timeout=60, what="beat")
    finally:
        stop(beat, timeout_s=20)
    for path in settings.data_dir.glob("celerybeat-schedule*"):
        os.utime(path, (time.time() - 11 * 60, time.time() - 11 * 60))  # 11 minutes stale
    assert check("beat", env, settings.data_dir) != 0
