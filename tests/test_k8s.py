"""deploy/k8s: kustomize builds it, every object validates against Kubernetes' schemas offline,
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


def kustomized(tmp_path: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of a copy with secrets.env made from the example (offline)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (it builds the kustomization offline)")
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    example = (copy / "secrets.env.example").read_text()
    (copy / "secrets.env").write_text(example.replace("=\n", "=x\n"))
    done = subprocess.run(
        [kubectl, "kustomize", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    docs = kustomized(tmp_path_factory.mktemp("kustomize"))
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}


def container(objects: dict[tuple[str, str], dict[str, Any]], name: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects[("Deployment", name)]["spec"]["template"]["spec"]
    return spec["containers"][0]  # type: ignore[no-any-return]


def test_every_object_validates_against_the_kubernetes_schemas(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    for (kind, name), doc in objects.items():
        try:
            validate.validate(doc, KUBERNETES, strict=True)
        except validate.ValidationError as exc:
            pytest.fail(f"{kind}/{name}: {exc.message} at {list(exc.path)}")
    kinds = {kind for kind, _ in objects}
    expected = {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Ingress"}
    assert expected | {"HorizontalPodAutoscaler", "PersistentVolumeClaim"} <= kinds
    assert all(doc["metadata"].get("namespace", "voice") == "voice" for doc in objects.values())


def test_each_file_alone_validates_too() -> None:
    """Without kubectl: each manifest, as written (a generator's objects aside)."""
    validate = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            validate.validate(doc, KUBERNETES, strict=True)


def test_the_api_is_ready_on_readyz_drains_before_stopping_and_scales_on_sessions(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    api = container(objects, "voice-api")
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    drain = api["lifecycle"]["preStop"]["exec"]["command"]
    assert drain[:2] == ["/app/.venv/bin/voice-service", "drain"]
    timeout = float(drain[drain.index("--timeout") + 1])
    pod = objects[("Deployment", "voice-api")]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > timeout  # the drain is not cut short
    hpa = objects[("HorizontalPodAutoscaler", "voice-api")]["spec"]
    metrics = {m["type"]: m for m in hpa["metrics"]}
    assert metrics["Pods"]["pods"]["metric"]["name"] == "voice_active_sessions"
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    adapter = yaml.safe_load((K8S / "monitoring" / "prometheus-adapter.yaml").read_text())
    (rule,) = adapter["rules"]["custom"]
    assert rule["name"]["as"] == "voice_active_sessions"
    config = objects[("ConfigMap", next(n for k, n in objects if k == "ConfigMap"))]["data"]
    sessions = int(config["VOICE_MAX_SESSIONS"])
    assert float(metrics["Pods"]["pods"]["target"]["averageValue"]) < sessions


def test_the_ingress_keeps_websockets_open(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    annotations = objects[("Ingress", "voice-api")]["metadata"]["annotations"]
    for name in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{name}"]) >= 3600


def test_every_queue_has_workers_and_training_runs_on_a_gpu(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    consumed: set[str] = set()
    for (kind, name), doc in objects.items():
        if kind == "Deployment" and name.startswith("voice-worker-"):
            command = doc["spec"]["template"]["spec"]["containers"][0]["command"]
            consumed |= set(command[command.index("--queues") + 1].split(","))
    assert set(QUEUES) <= consumed
    assert {"capture", "redaction", "persist", "review", "datasets", "training"} <= consumed
    training = objects[("Deployment", "voice-worker-training")]["spec"]["template"]["spec"]
    assert training["nodeSelector"]
    assert training["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    beat = objects[("Deployment", "voice-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"


def test_secrets_come_from_the_secret_and_every_pod_shares_the_spool(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    secret = next(doc for (kind, _), doc in objects.items() if kind == "Secret")
    assert {"VOICE_STORAGE_KEY", "VOICE_USER_ID_SECRET", "VOICE_TOKEN_SECRET"} <= set(
        secret["data"]
    )
    claim = objects[("PersistentVolumeClaim", "voice-data")]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for (kind, name), doc in objects.items():
        if kind != "Deployment":
            continue
        spec = doc["spec"]["template"]["spec"]
        refs = {next(iter(ref.values()))["name"] for ref in spec["containers"][0]["envFrom"]}
        assert refs == {secret["metadata"]["name"], next(n for k, n in objects if k == "ConfigMap")}
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in spec["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == ["voice-data"], name
        assert spec["securityContext"]["runAsNonRoot"] is True
