"""The deployment files: docker-compose.yml runs the whole stack, and Compose accepts it.

No Docker engine runs here: Compose checks the files offline (``config``), and the Dockerfile
is read as text.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
PROD = ROOT / "deploy" / "docker-compose.prod.example.yml"
MAKE_SECRETS = ROOT / "deploy" / "make-secrets.sh"
SECRETS = (
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "MINIO_KMS_SECRET_KEY",
    "VOICE_STORAGE_KEY",
    "VOICE_USER_ID_SECRET",
    "GRAFANA_ADMIN_PASSWORD",
)


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    pytest.skip("neither docker-compose nor the docker compose plugin is installed")


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What deploy/make-secrets.sh writes, read back."""
    path = tmp_path_factory.mktemp("secrets") / "stack.env"
    done = subprocess.run([str(MAKE_SECRETS), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def compose(
    tmp_path: Path,
    env: dict[str, str],
    *files: Path,
    args: tuple[str, ...] = ("config", "-q"),
    profiles: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Compose on ``files`` with exactly ``env`` (an env file; no .env, no inherited vars)."""
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    command = [*compose_command(), "--project-directory", str(ROOT), "--env-file", str(env_file)]
    for profile in profiles:
        command += ["--profile", profile]
    for file in files or (COMPOSE,):
        command += ["-f", str(file)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
    )


def resolved(
    tmp_path: Path, env: dict[str, str], *files: Path, profiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    done = compose(tmp_path, env, *files, args=("config",), profiles=profiles)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = yaml.safe_load(done.stdout)
    return loaded


def port(entry: str | dict[str, Any]) -> str:
    """A published port as ``[IP:]HOST:CONTAINER``, whichever way this Compose writes it."""
    if isinstance(entry, dict):
        host = f"{entry['host_ip']}:" if entry.get("host_ip") else ""
        return f"{host}{entry['published']}:{entry['target']}"
    return str(entry).removesuffix("/tcp")


def mount_target(entry: str | dict[str, Any]) -> str:
    """A volume's path in the container, whichever way this Compose writes it."""
    return str(entry["target"]) if isinstance(entry, dict) else entry.split(":")[1]


def test_compose_accepts_the_stack_with_its_secrets(
    tmp_path: Path, secrets: dict[str, str]
) -> None:
    done = compose(tmp_path, secrets)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_the_stack_without_each_secret(
    tmp_path: Path, secrets: dict[str, str], missing: str
) -> None:
    for env in ({k: v for k, v in secrets.items() if k != missing}, {**secrets, missing: ""}):
        done = compose(tmp_path, env)
        assert done.returncode != 0
        assert f"set {missing}" in done.stderr  # the message says what to set


def test_no_secret_is_written_in_the_files() -> None:
    """Every password, key and secret is a required ``${VAR:?...}``, never a value or default."""
    for path in (COMPOSE, PROD):
        data = yaml.safe_load(path.read_text())
        environments = [data.get("x-voice-env", {}), data.get("x-prod-env", {})]
        environments += [s.get("environment", {}) for s in data["services"].values()]
        checked = 0
        for environment in environments:
            for key, value in environment.items():
                if re.search(r"PASSWORD|SECRET|_KEY$", key) and key != "AWS_ACCESS_KEY_ID":
                    assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), (path.name, key)
                    checked += 1
        assert checked >= (7 if path == COMPOSE else 1)
        assert "change-me" not in path.read_text()
    url = yaml.safe_load(COMPOSE.read_text())["x-voice-env"]["VOICE_DATABASE_URL"]
    assert ":${POSTGRES_PASSWORD:?" in url


def test_only_loopback_ports_are_published(tmp_path: Path, secrets: dict[str, str]) -> None:
    """The api and MinIO's console (and the monitoring profile's services) on 127.0.0.1 only;
    MinIO's S3 API, Redis, Postgres not at all."""
    services = resolved(tmp_path, secrets)["services"]
    published = {
        (name, port(entry))
        for name, service in services.items()
        for entry in service.get("ports", [])
    }
    assert published == {
        ("api", "127.0.0.1:8003:8003"),
        ("minio", "127.0.0.1:9001:9001"),
        ("flower", "127.0.0.1:5555:5555"),
        ("prometheus", "127.0.0.1:9090:9090"),
        ("grafana", "127.0.0.1:3000:3000"),
    }


def test_minio_encrypts_what_the_service_asks_it_to(
    tmp_path: Path, secrets: dict[str, str]
) -> None:
    """The services ask for SSE-S3, which MinIO refuses without a KMS key: the key is set."""
    services = resolved(tmp_path, secrets)["services"]
    for name in ("api", "worker", "beat", "migrate"):
        assert services[name]["environment"]["VOICE_S3_SSE"] == "AES256"
    kms = services["minio"]["environment"]["MINIO_KMS_SECRET_KEY"]
    name, key = kms.split(":", 1)
    assert name and len(base64.b64decode(key, validate=True)) == 32


def test_the_production_example_requires_tokens_and_one_origin(
    tmp_path: Path, secrets: dict[str, str]
) -> None:
    env = {**secrets, "VOICE_DOMAIN": "voice.example.org"}
    services = resolved(tmp_path, env, COMPOSE, PROD)["services"]
    api = services["api"]["environment"]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        require_token=api["VOICE_REQUIRE_TOKEN"],
        token_secret=api["VOICE_TOKEN_SECRET"],
        allowed_origins=yaml.safe_load(api["VOICE_ALLOWED_ORIGINS"]),
        forwarded_allow_ips=yaml.safe_load(api["VOICE_FORWARDED_ALLOW_IPS"]),
    )
    assert settings.require_token and len(base64.b64decode(settings.token_secret)) == 32
    assert settings.allowed_origins == ["https://voice.example.org"]
    assert api["VOICE_STORAGE_KEY"] == secrets["VOICE_STORAGE_KEY"]  # the base still applies
    proxy = services["proxy"]
    # only the proxy's forwarded addresses are believed: rate limits see each real client
    assert [str(ip) for ip in settings.forwarded_allow_ips] == ["172.28.0.10/32"]
    assert proxy["networks"]["default"]["ipv4_address"] == "172.28.0.10"
    assert " ".join(proxy["command"]).endswith("--from voice.example.org --to api:8003")
    assert {port(entry) for entry in proxy["ports"]} == {"443:443", "80:80"}
    for missing in ("VOICE_DOMAIN", "VOICE_TOKEN_SECRET"):
        without = {k: v for k, v in env.items() if k != missing}
        done = compose(tmp_path, without, COMPOSE, PROD)
        assert done.returncode != 0 and missing in done.stderr


def test_make_secrets_writes_a_private_file_once(tmp_path: Path) -> None:
    target = tmp_path / "stack.env"
    assert subprocess.run([str(MAKE_SECRETS), str(target)], capture_output=True).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_text()
    values = dict(line.split("=", 1) for line in first.splitlines())
    assert set(SECRETS) | {"VOICE_TOKEN_SECRET"} == set(values)
    for key in ("VOICE_STORAGE_KEY", "VOICE_USER_ID_SECRET", "VOICE_TOKEN_SECRET"):
        assert len(base64.b64decode(values[key], validate=True)) == 32
    again = subprocess.run([str(MAKE_SECRETS), str(target)], capture_output=True, text=True)
    assert again.returncode == 1 and "not overwriting" in again.stderr
    assert target.read_text() == first
    other = tmp_path / "other.env"
    subprocess.run([str(MAKE_SECRETS), str(other)], capture_output=True, check=True)
    assert set(other.read_text().splitlines()).isdisjoint(first.splitlines())  # fresh each time


def test_the_stack_has_every_part_wired_to_the_same_services(
    tmp_path: Path, secrets: dict[str, str]
) -> None:
    services = resolved(tmp_path, secrets)["services"]
    assert {"api", "worker", "beat", "migrate", "redis", "postgres", "minio"} <= set(services)
    commands = {name: " ".join(services[name]["command"]) for name in ("api", "worker", "beat")}
    assert commands["api"].endswith("serve") and "worker" in commands["worker"]
    assert commands["beat"].endswith("beat")
    from workers.config import DATASETS, QUEUES

    worker = services["worker"]["command"]
    assert set(worker[worker.index("--queues") + 1].split(",")) == {*QUEUES, DATASETS}
    for name in ("api", "worker", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["VOICE_STORAGE"] == "s3" and env["VOICE_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["VOICE_REDIS_URL"].startswith("redis://redis:")
        password = secrets["POSTGRES_PASSWORD"]
        assert env["VOICE_DATABASE_URL"] == f"postgresql://voice:{password}@postgres:5432/voice"
        assert env["AWS_SECRET_ACCESS_KEY"] == secrets["MINIO_ROOT_PASSWORD"]
        assert "/data" in map(mount_target, services[name]["volumes"])  # the shared spool
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]
    assert "db upgrade" in " ".join(services["migrate"]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("api", "core", "workers", "capture", "redaction", "review", "migrations"):
        assert f"COPY {package} {package}" in dockerfile


# The image, read as text: no engine here to build it


def dockerfile_stages() -> list[dict[str, Any]]:
    """Each stage: its base image, name and instructions (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append({"image": image.strip(), "name": name.strip(), "lines": []})
        else:
            stages[-1]["lines"].append((instruction.upper(), rest.strip()))
    return stages


PINNED = re.compile(r"[\w./-]+:(v?\d+\.\d+(\.\d+)?[\w.-]*|RELEASE\.[\dTZ-]+)")


def test_the_image_builds_in_one_stage_and_runs_from_another() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2 and stages[0]["name"] == "builder"
    builder, final = stages[0], stages[-1]
    assert any("build-essential" in rest for _, rest in builder["lines"])
    assert ("COPY", "--from=builder /app /app") in final["lines"]
    final_text = " ".join(rest for _, rest in final["lines"])
    for tool in ("build-essential", "cmake", "gcc", "g++", "make install", "pip install"):
        assert tool not in final_text, tool


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    final = dockerfile_stages()[-1]
    users = [rest for instruction, rest in final["lines"] if instruction == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user.isdigit() and int(user) >= 1000  # numeric: k8s
    instructions = [instruction for instruction, _ in final["lines"]]
    assert instructions.index("USER") > max(
        i for i, name in enumerate(instructions) if name in ("RUN", "COPY")
    )  # nothing after it runs as root
    assert "install -d -o voice -g voice -m 0700 /data" in " ".join(r for _, r in final["lines"])


def test_every_image_is_pinned_to_a_version() -> None:
    images = [stage["image"] for stage in dockerfile_stages()]
    for path in (COMPOSE, PROD):
        for service in yaml.safe_load(path.read_text())["services"].values():
            if "image" in service and "build" not in service:
                images.append(service["image"])
    assert any(image.startswith("minio/minio:") for image in images)
    for image in images:
        assert PINNED.fullmatch(image), image
        assert ":latest" not in image


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", "var"} <= set(ignored)


# Celery operations and the monitoring profile

MONITORING = ("flower", "prometheus", "grafana")


def test_workers_and_beat_have_health_checks(tmp_path: Path, secrets: dict[str, str]) -> None:
    services = resolved(tmp_path, secrets)["services"]
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    # `config` writes a literal $ escaped ($$): the shell in the container sees $HOSTNAME
    assert "celery -A workers inspect ping -d celery@$$HOSTNAME" in worker
    beat = " ".join(services["beat"]["healthcheck"]["test"])
    assert "celerybeat-schedule" in beat and "-mmin -10" in beat
    # the schedule file is where the workers' configuration puts it, in the shared volume
    from workers.config import make_app

    settings = Settings(data_dir=Path("/data"), broker_url="redis://redis:6379/0", _env_file=None)  # type: ignore[call-arg]
    app = make_app(settings)
    assert Path(app.conf.beat_schedule_filename).parent == Path("/data")
    assert app.conf.beat_max_loop_interval * 3 <= 10 * 60  # rewritten well within 10 minutes
    assert "worker" in " ".join(services["worker"]["command"])  # -E: voice-service worker


def test_the_worker_command_has_task_events_on_a_real_broker() -> None:
    from api.cli.worker import worker_command

    assert "-E" in worker_command(events=True) and "-E" not in worker_command()
    command = worker_command(queues=["capture"])
    assert command[command.index("-Q") + 1] == "capture" and "--pool=prefork" in command
    assert "--pool=threads" in worker_command(2, pool="threads")


def test_a_worker_of_unknown_queues_is_refused_in_one_line() -> None:
    from api.cli.worker import parse_queues
    from core.errors import VoiceServiceError
    from workers.config import QUEUES

    assert parse_queues("capture, review") == ["capture", "review"]
    assert parse_queues(",".join(QUEUES)) == list(QUEUES)
    for wrong in ("capture,nope", "", ","):
        with pytest.raises(VoiceServiceError, match="choose from capture, redaction"):
            parse_queues(wrong)


def test_the_monitoring_profile_adds_flower_prometheus_and_grafana(
    tmp_path: Path, secrets: dict[str, str]
) -> None:
    env = secrets
    assert compose(tmp_path, env, profiles=("monitoring",)).returncode == 0
    services = resolved(tmp_path, env, profiles=("monitoring",))["services"]
    assert set(MONITORING) <= set(services)
    published = {
        (name, port(entry)) for name in MONITORING for entry in services[name].get("ports", [])
    }
    assert published == {
        ("flower", "127.0.0.1:5555:5555"),
        ("prometheus", "127.0.0.1:9090:9090"),
        ("grafana", "127.0.0.1:3000:3000"),
    }
    assert services["flower"]["environment"]["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    mounts = {mount_target(v) for v in services["prometheus"]["volumes"]}
    assert "/etc/prometheus" in mounts
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    grafana = {mount_target(v) for v in services["grafana"]["volumes"]}
    assert "/etc/grafana/provisioning" in grafana
    assert "/var/lib/grafana/dashboards/voice-service.json" in grafana
    password = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert password == secrets["GRAFANA_ADMIN_PASSWORD"]
    for name, service in services.items():  # off unless asked for (Compose 1.29 lists them all)
        assert service.get("profiles", []) == (["monitoring"] if name in MONITORING else []), name


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard_folder() -> None:
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "voice-service.yml").read_text())[
        "providers"
    ]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
