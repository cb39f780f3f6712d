"""The review API against PostgreSQL and moto's S3 server: batches, auth, decisions, stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import numpy as np
import pytest
from sqlalchemy import select

from api.app import create_app
from api.routes.limits import FAILURES_ALLOWED
from api.voice.models import Models
from capture.consent import request_change
from capture.erasure import apply_change
from capture.flac import decode_flac
from capture.keys import object_key
from capture.metadata import user_id_for
from capture.models import AuditEntry, Capture, ReviewBatch, ReviewDecision
from capture.store import open_store
from capture.store_s3 import S3Store
from core.db import session_scope
from core.messages import Word
from core.settings import Settings
from migrations import upgrade
from redaction import RedactionError
from review import corrections
from review.batches import build_batch
from review.keys import create_key, revoke_key
from tests.utils.capture import run_chain, spool_turn
from tests.utils.databases import fresh_database
from tests.utils.s3 import s3_server
from tests.utils.server import serve_app

NOW = datetime.now(UTC)
PII = "my name is John Smith and I live at 12 Elm Street"
RATE = 16_000
SPEECH = (np.sin(np.arange(4 * RATE) * 2 * np.pi * 300 / RATE) * 8000).astype("<i2").tobytes()


def timed_words(text: str, seconds: float = 4.0) -> list[Word]:
    """The transcript's words spread evenly over the clip (what STT would give)."""
    words = text.split()
    step = seconds / len(words)
    return [
        Word(text=w, start=i * step, end=(i + 0.8) * step, probability=0.9)
        for i, w in enumerate(words)
    ]


@dataclass
class Review:
    settings: Settings
    base: str
    reviewer: str
    admin: str

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        return httpx.get(self.base + path, headers=self._auth(key), timeout=30)

    def post(self, path: str, body: object, key: str | None = None) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self._auth(key), timeout=30)

    def _auth(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.reviewer}"}

    def items(self) -> dict[str, dict[str, object]]:
        listed = self.get("/v1/admin/review/items").json()["items"]
        return {f"{i['turn_id']}/{i['reason']}": i for i in listed}

    def stored(self, turn_id: str, name: str, region: str = "eu") -> bytes:
        return open_store(self.settings, region).get(object_key(NOW.date(), turn_id, name))


@pytest.fixture
def review(tmp_path: Path, models: Models, monkeypatch: pytest.MonkeyPatch) -> Iterator[Review]:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with s3_server() as endpoint, fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        settings = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path,
            database_url=url,
            storage="s3",
            s3_endpoint_url=endpoint,
            _env_file=None,
        )
        S3Store(settings, "voice-captures-eu").ensure_bucket()
        seed(settings)
        _, reviewer = create_key(settings, "rita", "reviewer")
        _, boss = create_key(settings, "ada", "admin")
        with serve_app(create_app(settings, models=models)) as base:
            yield Review(settings, base, reviewer, boss)


def seed(settings: Settings) -> None:
    """Captures of every kind: flagged or not, expiring, erased."""
    today = NOW.isoformat()
    turns: dict[str, dict[str, object]] = {
        "pii": {"transcript": PII, "words": timed_words(PII)},
        "down": {"transcript": "what is a photon", "feedback": "thumbs_down"},
        "doubtful": {"transcript": "what is a fallopian tube", "avg_logprob": -1.6},
        "fine": {"transcript": "what is the speed of light", "feedback": "thumbs_up"},
        "expiring": {
            "transcript": "what is a muon",
            "feedback": "thumbs_down",
            "timestamp": (NOW - timedelta(days=settings.retention_days + 1)).isoformat(),
        },
        "withdrawn": {
            "transcript": "what is a quark",
            "feedback": "thumbs_down",
            "user_id": user_id_for("gone", "secret"),
        },
    }
    for turn_id, fields in turns.items():
        spool_turn(settings, turn_id, SPEECH, **{"timestamp": today, **fields})
        run_chain(settings, turn_id)
    change = request_change(settings, user_id_for("gone", "secret"), granted=False, source="api")
    apply_change(settings, change.event_id)


def test_batch_building_picks_exactly_the_right_items(review: Review) -> None:
    batch_id = build_batch(review.settings, datetime.now(UTC))
    assert batch_id is not None
    items = review.items()
    assert {k for k, v in items.items() if v["batch_id"] == batch_id} == {
        "pii/pii_review",
        "down/thumbs_down",
        "doubtful/low_confidence",
    }
    assert items["expiring/thumbs_down"]["batch_id"] is None  # past its retention
    assert not any(k.startswith(("fine/", "withdrawn/")) for k in items)
    assert build_batch(review.settings, datetime.now(UTC)) is None  # all batched
    batch = review.get(f"/v1/admin/review/batches/{batch_id}").json()
    assert (batch["total"], batch["done"], batch["counts"]["pending"]) == (3, 0, 3)
    assert review.get("/v1/admin/review/batches").json()["batches"][0]["id"] == batch_id
    detail = review.get(f"/v1/admin/review/items/{items['pii/pii_review']['id']}").json()
    flagged = {(s["type"], detail["transcript"][s["start"] : s["end"]]) for s in detail["spans"]}
    assert flagged == {("PERSON", "John Smith"), ("STREET_ADDRESS", "12 Elm Street")}
    assert detail["metadata"]["turn_id"] == "pii" and detail["label"] is None


def test_keys_roles_and_failed_attempts(review: Review) -> None:
    assert httpx.get(review.base + "/v1/admin/whoami").status_code == 401
    assert review.get("/v1/admin/whoami", key="vsk_wrong").status_code == 401
    assert review.get("/v1/admin/whoami").json() == {"name": "rita", "role": "reviewer"}
    stats = review.get("/v1/admin/stats")
    assert stats.status_code == 403 and stats.json()["error"]["code"] == "forbidden"
    assert review.post("/v1/admin/review/batches", {}).status_code == 403
    assert review.get("/v1/admin/stats", key=review.admin).status_code == 200
    key_id, key = create_key(review.settings, "temp", "reviewer")
    assert review.get("/v1/admin/whoami", key=key).status_code == 200
    revoke_key(review.settings, key_id)
    assert review.get("/v1/admin/whoami", key=key).status_code == 401
    for _ in range(FAILURES_ALLOWED):
        review.get("/v1/admin/whoami", key="vsk_guess")
    limited = review.get("/v1/admin/whoami", key="vsk_other")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert review.get("/v1/admin/whoami").status_code == 200  # a good key is never refused


def test_each_decision_changes_the_database_and_the_store(review: Review) -> None:
    build_batch(review.settings, datetime.now(UTC))
    items = review.items()
    path = "/v1/admin/review/items/{}/decision"
    down, pii, doubtful = (
        items[k]["id"] for k in ("down/thumbs_down", "pii/pii_review", "doubtful/low_confidence")
    )

    approved = review.post(path.format(down), {"decision": "approve", "tags": ["bad_response"]})
    assert approved.status_code == 200 and approved.json()["item"]["status"] == "approved"

    fix = {"decision": "correct", "transcript": "what is a fallopian tube?", "tags": ["stt_error"]}
    first = review.post(path.format(doubtful), fix).json()["item"]
    again = review.post(path.format(doubtful), fix).json()["item"]  # idempotent
    assert first["label"] == again["label"] == fix["transcript"]
    assert [d["version"] for d in again["decisions"]] == [1]
    metadata = json.loads(review.stored("doubtful", "metadata.json"))
    assert (
        metadata["review"]["label"] == fix["transcript"]
        and metadata["transcript"] != fix["transcript"]
    )
    with session_scope(review.settings) as session:
        assert session.get(Capture, "doubtful").label == fix["transcript"]  # type: ignore[union-attr]

    detail = review.get(f"/v1/admin/review/items/{pii}").json()
    start = detail["transcript"].index("John Smith")
    before, _ = decode_flac(review.stored("pii", "audio.flac"))
    redacted = review.post(
        path.format(pii),
        {"decision": "redact", "spans": [{"start": start, "end": start + 10, "type": "PERSON"}]},
    ).json()["item"]
    assert redacted["transcript"] == "my name is [PERSON] and I live at 12 Elm Street"
    assert [s["type"] for s in redacted["spans"]] == ["STREET_ADDRESS"]
    assert review.stored("pii", "transcript.txt").decode() == redacted["transcript"]
    after, _ = decode_flac(review.stored("pii", "audio.flac"))
    samples = np.frombuffer(after, "<i2")
    john = timed_words(PII)[3]  # "John": silenced, padding included
    assert not samples[int(john.start * RATE) : int(john.end * RATE)].any()
    assert np.frombuffer(before, "<i2")[int(john.start * RATE)] != 0 or samples[: RATE // 4].any()
    assert samples[: int(0.5 * RATE)].any()  # "my name" stays

    rejected = review.post(path.format(pii), {"decision": "reject"}).json()["item"]
    assert rejected["status"] == "rejected"
    assert (
        open_store(review.settings, "eu").list(f"raw/audio/voice_captures/{NOW.date()}/pii/") == []
    )
    with session_scope(review.settings) as session:
        assert session.get(Capture, "pii") is None
        batch = session.scalars(select(ReviewBatch)).one()
        actions = [a.action for a in session.scalars(select(AuditEntry))]
        assert actions.count("review.decision") == 4
        assert all("John" not in json.dumps(a.details) for a in session.scalars(select(AuditEntry)))
    progress = review.get(f"/v1/admin/review/batches/{batch.id}").json()
    assert progress["counts"] == {
        "pending": 0,
        "approved": 1,
        "corrected": 1,
        "redacted": 0,
        "rejected": 1,
    }
    assert (progress["total"], progress["done"]) == (3, 3)
    assert review.get(f"/v1/admin/review/items/{pii}").status_code == 404

    stats = review.get("/v1/admin/stats", key=review.admin).json()
    assert stats["items_by_status"]["rejected"] == 1
    assert {t["tag"] for t in stats["top_error_tags"]} == {"bad_response", "stt_error"}
    assert stats["thumbs_up_rate"] == 0.333  # fine (up) against down and expiring (down)


def test_a_correction_is_redacted_and_a_redaction_leaves_no_old_version(review: Review) -> None:
    s3 = boto3.client("s3", endpoint_url=review.settings.s3_endpoint_url)
    s3.put_bucket_versioning(
        Bucket="voice-captures-eu", VersioningConfiguration={"Status": "Enabled"}
    )
    build_batch(review.settings, datetime.now(UTC))
    pii = review.items()["pii/pii_review"]["id"]
    path = f"/v1/admin/review/items/{pii}/decision"
    said = "my name is John Smith and I live at 12 Elm Street, my card is 4111 1111 1111 1111"
    fix = {"decision": "correct", "transcript": said, "tags": ["stt_error"]}
    item = review.post(path, fix).json()["item"]
    label = "my name is John Smith and I live at 12 Elm Street, my card is [CREDIT_CARD]"
    assert item["label"] == label
    flags = item["decisions"][-1]["spans"]
    assert sorted((f["type"], label[f["start"] : f["end"]]) for f in flags) == [
        ("PERSON", "John Smith"),
        ("STREET_ADDRESS", "12 Elm Street"),
    ]
    again = review.post(path, fix).json()["item"]  # the same correction: nothing new
    assert [d["version"] for d in again["decisions"]] == [1]
    assert json.loads(review.stored("pii", "metadata.json"))["review"]["label"] == label
    with session_scope(review.settings) as session:
        assert session.scalars(select(ReviewDecision.transcript)).one() == label
        assert session.get(Capture, "pii").label == label  # type: ignore[union-attr]

    start = item["transcript"].index("John Smith")
    span = {"start": start, "end": start + 10, "type": "PERSON"}
    review.post(path, {"decision": "redact", "spans": [span]})
    prefix = f"raw/audio/voice_captures/{NOW.date()}/pii/"
    listed = s3.list_object_versions(Bucket="voice-captures-eu", Prefix=prefix)
    assert "DeleteMarkers" not in listed
    kept = sorted(v["Key"].removeprefix(prefix) for v in listed["Versions"])
    assert kept == ["audio.flac", "metadata.json", "transcript.txt"]  # one version of each
    for version in listed["Versions"]:
        body = s3.get_object(
            Bucket="voice-captures-eu", Key=version["Key"], VersionId=version["VersionId"]
        )["Body"].read()
        assert b"4111" not in body
        if version["Key"].endswith("transcript.txt"):
            assert body == b"my name is [PERSON] and I live at 12 Elm Street"


def test_bad_input_gets_clear_errors(review: Review) -> None:
    build_batch(review.settings, datetime.now(UTC))
    item = review.items()["down/thumbs_down"]["id"]
    path = f"/v1/admin/review/items/{item}/decision"
    cases = [
        ("/v1/admin/review/items/99999/decision", {"decision": "approve"}, 404),
        ("/v1/admin/review/items/abc/decision", {"decision": "approve"}, 422),
        ("/v1/admin/review/items/..%2F..%2Fetc/decision", {"decision": "approve"}, 404),
        (path, {"decision": "maybe"}, 422),
        (path, {"decision": "correct"}, 422),
        (path, {"decision": "redact", "spans": [{"start": 5, "end": 999}]}, 422),
        (path, {"decision": "redact", "spans": [{"start": -1, "end": 2}]}, 422),
        (path, {"decision": "approve", "tags": ["nonsense"]}, 422),
        (path, {"decision": "approve", "extra": 1}, 422),
        (path, ["not", "an", "object"], 422),
    ]
    for url, body, status in cases:
        answer = review.post(url, body)
        assert answer.status_code == status, (url, body, answer.text)
        if status == 422:
            assert answer.json()["error"]["code"] == "invalid_request"
    assert review.get("/v1/admin/review/items?status=weird").status_code == 422
    assert review.get("/v1/admin/review/items/99999").status_code == 404
    assert review.get("/v1/admin/review/batches/99999").status_code == 404
    assert review.get(f"/v1/admin/review/items/{item}").json()["status"] == "pending"


def test_admin_cli_keys_are_printed_once_and_listed_without_the_key(tmp_path: Path) -> None:
    env = {**os.environ, "VOICE_DATA_DIR": str(tmp_path)}
    env.pop("VOICE_DATABASE_URL", None)
    upgrade(Settings(data_dir=tmp_path, _env_file=None).resolved_database_url())  # type: ignore[call-arg]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    made = cli("admin", "create-key", "--role", "reviewer", "--name", "rita")
    assert made.returncode == 0, made.stderr
    key = made.stdout.split(": ", 1)[1].split()[0]
    assert key.startswith("vsk_") and len(key) > 40
    listed = cli("admin", "list-keys")
    assert (
        "rita\treviewer" in listed.stdout and key not in listed.stdout and "active" in listed.stdout
    )
    assert cli("admin", "revoke-key", "1").returncode == 0
    assert "revoked" in cli("admin", "list-keys").stdout
    missing = cli("admin", "revoke-key", "42")
    assert missing.returncode == 1 and "not_found" in missing.stderr
    bad = cli("admin", "create-key", "--role", "god", "--name", "x")
    assert bad.returncode == 2
    assert cli("review", "build-batch").stdout.strip() == "nothing to review"
    env["VOICE_REVIEW_BATCH_CRON"] = "0 0 1"  # three fields: a clear one-line error
    wrong = cli("review", "build-batch")
    assert wrong.returncode == 2 and "VOICE_REVIEW_BATCH_CRON" in wrong.stderr
    assert wrong.stderr.strip().count("\n") == 0


def test_a_correction_the_redactor_fails_on_is_refused_and_nothing_is_stored(
    review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(text: str) -> None:
        raise RedactionError("the engine failed")

    monkeypatch.setattr(corrections, "redact_text", failing)  # the server runs in this process
    build_batch(review.settings, datetime.now(UTC))
    item = review.items()["pii/pii_review"]["id"]
    fix = {"decision": "correct", "transcript": "my card is 4111 1111 1111 1111"}
    answer = review.post(f"/v1/admin/review/items/{item}/decision", fix)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "redaction_failed"
    stored = review.get(f"/v1/admin/review/items/{item}").json()
    assert stored["status"] == "pending" and stored["decisions"] == []
    assert "4111" not in json.dumps(stored)
