"""The deployment files: docker-compose.yml runs the whole stack, and Compose accepts it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    pytest.skip("neither docker-compose nor the docker compose plugin is installed")


def test_compose_accepts_the_stack() -> None:
    done = subprocess.run(
        [*compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_the_stack_has_every_part_wired_to_the_same_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "worker", "beat", "migrate", "redis", "postgres", "minio"} <= set(services)
    commands = {name: " ".join(services[name]["command"]) for name in ("api", "worker", "beat")}
    assert commands["api"].endswith("serve") and "worker" in commands["worker"]
    assert commands["beat"].endswith("beat")
    for name in ("api", "worker", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["VOICE_STORAGE"] == "s3" and env["VOICE_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["VOICE_REDIS_URL"].startswith("redis://redis:")
        assert "@postgres:5432/" in env["VOICE_DATABASE_URL"]
        assert "voice-data:/data" in services[name]["volumes"]  # the shared spool
    assert "db upgrade" in " ".join(services["migrate"]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("api", "core", "workers", "capture", "redaction", "review", "migrations"):
        assert f"COPY {package} {package}" in dockerfile
