"""deploy/k8s: every object validates against Kubernetes' schemas offline, kustomize builds it,
and it says what the service needs (probes, drain, autoscaling, queues, GPU, one beat)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from workers.config import QUEUES

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.30.0"  # the schemas validated against (kubernetes-validate bundles them)
Objects = dict[tuple[str, str], dict[str, Any]]


def manifests() -> Objects:
    """Every object of the files kustomization.yaml lists, by kind and name."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found: Objects = {}
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def generated(kind: str) -> dict[str, str]:
    """The data of the ConfigMap or Secret kustomization.yaml generates."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    if kind == "ConfigMap":
        (generator,) = kustomization["configMapGenerator"]
        return dict(literal.split("=", 1) for literal in generator["literals"])
    (generator,) = kustomization["secretGenerator"]
    assert generator["envs"] == ["secrets.env"]
    lines = (K8S / "secrets.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def objects() -> Objects:
    return manifests()


def pod(objects: Objects, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects[("Deployment", name)]["spec"]["template"]["spec"]
    return spec


def test_every_manifest_validates_against_the_kubernetes_schemas(objects: Objects) -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    for (kind, name), doc in objects.items():
        try:
            validate.validate(doc, KUBERNETES, strict=True)
        except validate.ValidationError as exc:
            pytest.fail(f"{kind}/{name}: {exc.message} at {list(exc.path)}")
    kinds = {kind for kind, _ in objects}
    assert {"Namespace", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"} <= kinds
    assert {"PersistentVolumeClaim", "PodDisruptionBudget"} <= kinds


def test_kustomize_builds_it_and_the_build_validates(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (its kustomize builds deploy/k8s offline)")
    validate = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    example = (copy / "secrets.env.example").read_text()
    (copy / "secrets.env").write_text(example.replace("=\n", "=x\n"))
    done = subprocess.run(
        [kubectl, "kustomize", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    docs = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    for doc in docs:
        validate.validate(doc, KUBERNETES, strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "voice"
    names = {doc["kind"]: doc["metadata"]["name"] for doc in docs}
    for doc in docs:
        if doc["kind"] == "Deployment":  # references follow the generated, hashed names
            refs = doc["spec"]["template"]["spec"]["containers"][0]["envFrom"]
            used = {next(iter(ref.values()))["name"] for ref in refs}
            assert used == {names["ConfigMap"], names["Secret"]}


def test_the_api_is_ready_on_readyz_drains_before_stopping_and_scales_on_sessions(
    objects: Objects,
) -> None:
    api = pod(objects, "voice-api")
    container = api["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    drain = container["lifecycle"]["preStop"]["exec"]["command"]
    assert drain[:2] == ["/app/.venv/bin/voice-service", "drain"]
    assert api["terminationGracePeriodSeconds"] > float(drain[drain.index("--timeout") + 1])
    hpa = objects[("HorizontalPodAutoscaler", "voice-api")]["spec"]
    metrics = {m["type"]: m for m in hpa["metrics"]}
    assert metrics["Pods"]["pods"]["metric"]["name"] == "voice_active_sessions"
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    sessions = int(generated("ConfigMap")["VOICE_MAX_SESSIONS"])
    assert float(metrics["Pods"]["pods"]["target"]["averageValue"]) < sessions
    adapter = yaml.safe_load((K8S / "monitoring" / "prometheus-adapter.yaml").read_text())
    (rule,) = adapter["rules"]["custom"]
    assert rule["name"]["as"] == "voice_active_sessions"
    assert rule["seriesQuery"].startswith("voice_active_sessions{")


def test_the_ingress_keeps_websockets_open(objects: Objects) -> None:
    annotations = objects[("Ingress", "voice-api")]["metadata"]["annotations"]
    for name in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{name}"]) >= 3600
    backend = objects[("Ingress", "voice-api")]["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"]["name"] == "voice-api"


def test_every_queue_has_workers_and_training_runs_on_a_gpu(objects: Objects) -> None:
    consumed: set[str] = set()
    for (kind, name), _ in objects.items():
        if kind == "Deployment" and name.startswith("voice-worker-"):
            command = pod(objects, name)["containers"][0]["command"]
            consumed |= set(command[command.index("--queues") + 1].split(","))
    assert set(QUEUES) <= consumed
    assert {"capture", "redaction", "persist", "review", "datasets", "training"} <= consumed
    training = pod(objects, "voice-worker-training")
    assert training["nodeSelector"]
    assert training["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    beat = objects[("Deployment", "voice-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"


def test_secrets_come_from_the_secret_and_every_pod_shares_the_spool(objects: Objects) -> None:
    secret = generated("Secret")
    assert {"VOICE_STORAGE_KEY", "VOICE_USER_ID_SECRET", "VOICE_TOKEN_SECRET"} <= set(secret)
    assert all(value == "" for value in secret.values())  # the example holds no secret
    assert "VOICE_TOKEN_SECRET" not in generated("ConfigMap")
    claim = objects[("PersistentVolumeClaim", "voice-data")]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for (kind, name), _ in objects.items():
        if kind != "Deployment":
            continue
        spec = pod(objects, name)
        refs = {next(iter(ref.values()))["name"] for ref in spec["containers"][0]["envFrom"]}
        assert refs == {"voice-config", "voice-secrets"}, name
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in spec["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == ["voice-data"], name
        assert spec["securityContext"]["runAsNonRoot"] is True
    assert "deploy/k8s/secrets.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_a_release_job_migrates_the_database_and_applies_the_lifecycle(objects: Objects) -> None:
    job = objects[("Job", "voice-migrate")]["spec"]
    spec = job["template"]["spec"]
    assert spec["restartPolicy"] == "Never" and job["backoffLimit"] >= 1
    assert job["ttlSecondsAfterFinished"] > 0  # the next release's apply can make it again
    (container,) = spec["containers"]
    script = " ".join(container["command"])
    upgrade, lifecycle = "voice-service db upgrade", "voice-service storage apply-lifecycle"
    assert upgrade in script and lifecycle in script and "--create-buckets" in script
    assert script.index(upgrade) < script.index(lifecycle) and "&&" in script
    refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert refs == {"voice-config", "voice-secrets"}
    assert spec["securityContext"]["runAsNonRoot"] is True
