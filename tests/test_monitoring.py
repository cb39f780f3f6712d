"""The monitoring files: Prometheus' config and alert rules, and the Grafana dashboard.

``promtool`` (Debian's ``prometheus`` package, installed by scripts/ensure-prometheus.sh) checks
the config, the rules and their unit tests, and parses every dashboard query; every metric name
a query or rule uses must be one the API or a worker exports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import Metric

import api.metrics  # noqa: F401 - registers the API's metrics in the default registry
from core.settings import Settings
from workers.metrics import Backlog, WorkerMetrics

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "voice-service.json"
# Series Prometheus makes itself, and PromQL words that look like names
BUILTIN = {"up", "scrape_duration_seconds"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan"}  # fmt: skip


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    return found


def run_promtool(*args: str, cwd: Path = PROMETHEUS) -> str:
    done = subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def sample_names(family: Metric) -> set[str]:
    """The series names a family exposes (``prometheus_client`` drops ``_total`` from counters)."""
    if family.type == "counter":
        return {f"{family.name}_total", f"{family.name}_created"}
    if family.type == "histogram":
        return {f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count", "created")}
    if family.type == "info":
        return {f"{family.name}_info"}
    return {family.name}


def exported_names(tmp_path: Path) -> set[str]:
    """Every series name the API process and a worker export."""
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    backlog = Backlog(Settings(data_dir=tmp_path, _env_file=None), celery=None)  # type: ignore[call-arg, arg-type]
    families = [*REGISTRY.collect(), *registry.collect(), *backlog.describe()]
    return set().union(*(sample_names(f) for f in families)) | BUILTIN


def names_in(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    word = r"(?<![\w:.])[A-Za-z_:][\w:]*(?![\w:])"  # whole words, not numbers like 2.5e3
    tokens = re.findall(word + r"(?!\s*\()", expr)  # not functions
    return {t for t in tokens if t.lower() not in KEYWORDS and not re.fullmatch(r"\d.*", t)}


def dashboard_queries() -> list[str]:
    def walk(panels: list[dict]) -> list[str]:
        found = []
        for panel in panels:
            found += [t["expr"] for t in panel.get("targets", [])]
            found += walk(panel.get("panels", []))
        return found

    return walk(json.loads(DASHBOARD.read_text())["panels"])


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_rules_config_and_alert_unit_tests_pass_promtool() -> None:
    assert "SUCCESS" in run_promtool("check", "rules", "alerts.yml")
    run_promtool("check", "config", "prometheus.yml")  # also reads the rule file it names
    run_promtool("test", "rules", "alerts.test.yml")  # each alert fires when it should, only then
    names = {rule["alert"] for rule in alert_rules()}
    assert {
        "VoiceFirstAudioP95OverSLO",
        "VoiceDeadLettersRising",
        "VoiceSpoolEntryStale",
        "VoiceWorkerDown",
    } <= names


def test_the_first_audio_alert_waits_ten_minutes_over_the_slo() -> None:
    rule = next(r for r in alert_rules() if r["alert"] == "VoiceFirstAudioP95OverSLO")
    assert rule["for"] == "10m" and "> 2.5" in rule["expr"] and "0.95" in rule["expr"]


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 20
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": q} for i, q in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    run_promtool("check", "rules", str(path), cwd=tmp_path)


def test_queries_and_rules_use_only_exported_metric_names(tmp_path: Path) -> None:
    exported = exported_names(tmp_path)
    used: dict[str, set[str]] = {}  # name -> where it is used
    for query in dashboard_queries():
        for name in names_in(query):
            used.setdefault(name, set()).add("dashboard")
    for rule in alert_rules():
        for name in names_in(rule["expr"]):
            used.setdefault(name, set()).add(rule["alert"])
    unknown = {name: where for name, where in used.items() if name not in exported}
    assert not unknown, f"not exported by the API or a worker: {unknown}"
    # the panels the dashboard promises: latency per stage against the SLOs, sessions, errors,
    # capture throughput and backlog, thumbs-up rate
    for needed in (
        "voice_turn_stage_seconds_bucket",
        "voice_active_sessions",
        "voice_ws_errors_total",
        "voice_worker_captures_total",
        "voice_queue_length",
        "voice_spool_entries",
        "voice_feedback_total",
    ):
        assert needed in used, needed


def test_the_name_check_catches_a_misspelt_name() -> None:
    assert names_in('sum by (le) (rate(voice_turn_stage_second_bucket{stage="tts"}[5m]))') == {
        "voice_turn_stage_second_bucket"
    }
    assert names_in("histogram_quantile(0.95, x) > on(instance) y or vector(2.5)") == {"x", "y"}
