import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from capture.lifecycle import estimate, lifecycle_rules
from capture.store import open_store
from core.settings import Settings
from tests.utils.s3 import s3_server

CLI = [sys.executable, "-m", "api.cli"]


def test_rules_follow_retention() -> None:
    rule, markers = lifecycle_rules(90)
    assert rule["Expiration"] == {"Days": 90}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert markers["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert markers["Filter"] == rule["Filter"] and "Days" not in markers["Expiration"]
    assert rule["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    assert rule["Filter"] == {"Prefix": "raw/audio/voice_captures/"}
    expire_only, _ = lifecycle_rules(90, ia_after_days=90)
    assert "Transitions" not in expire_only
    long, _ = lifecycle_rules(365, glacier_after_days=120, noncurrent_days=3)
    assert long["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3}
    assert [t["StorageClass"] for t in long["Transitions"]] == ["STANDARD_IA", "GLACIER"]


def test_cost_estimate_by_hand() -> None:
    # 100k turns a month, 180 KB of FLAC + 2 KB of small objects, kept 90 days:
    # STANDARD only: 18.2 GB x 3 months x $0.023 = $1.26
    # rules: month 1 STANDARD $0.42; months 2-3: audio in IA 18 x 2 x $0.0125 = $0.45,
    # small objects $0.01, 100k transitions $1.00: $1.88
    cost = estimate(lifecycle_rules(90), turns_per_month=100_000, audio_kb=180)
    assert (cost.with_rules, cost.standard_only) == (1.88, 1.26)
    assert any("transition requests cost more" in w for w in cost.warnings)


def test_warnings_for_small_objects_and_glacier_minimum() -> None:
    small = estimate(lifecycle_rules(90), turns_per_month=10_000, audio_kb=60)
    assert any("under 128 KB" in w for w in small.warnings)
    assert small.with_rules == small.standard_only
    glacier = estimate(lifecycle_rules(90, glacier_after_days=60), 10_000, 400)
    assert any("GLACIER bills at least 90 days" in w for w in glacier.warnings)
    kept_long = estimate(lifecycle_rules(730, glacier_after_days=120), 10_000, 2000)
    assert kept_long.with_rules < kept_long.standard_only and not kept_long.warnings


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, timeout=120, env={**os.environ, **env}
    )


def test_storage_ls_and_cat_on_the_local_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    key = "raw/audio/voice_captures/2026-11-26/t9/transcript.txt"
    open_store(settings, "us").put(key, b"hello\x00world", content_type="text/plain")
    env = {"VOICE_DATA_DIR": str(tmp_path)}
    listed = cli("storage", "ls", "raw/", env=env)
    assert listed.returncode == 0 and listed.stdout.decode().split() == [key]
    assert cli("storage", "cat", key, env=env).stdout == b"hello\x00world"
    missing = cli("storage", "cat", key, "--region", "eu", env=env)
    assert missing.returncode == 1
    assert missing.stderr.decode().count("\n") == 1 and b"no object" in missing.stderr


def test_apply_lifecycle_puts_the_rules_on_every_bucket(tmp_path: Path) -> None:
    aws = {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with s3_server() as endpoint:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="t",
            aws_secret_access_key="t",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="voice-captures-eu")  # the us bucket is made by the CLI
        client.put_bucket_versioning(
            Bucket="voice-captures-eu", VersioningConfiguration={"Status": "Enabled"}
        )
        env = {
            **aws,
            "VOICE_STORAGE": "s3",
            "VOICE_S3_ENDPOINT_URL": endpoint,
            "VOICE_DATA_DIR": str(tmp_path),
            "VOICE_RETENTION_DAYS": "90",
        }
        done = cli(
            "storage", "apply-lifecycle", "--turns-per-month", "50000", "--create-buckets", env=env
        )
        assert done.returncode == 0, done.stderr
        out = done.stdout.decode()
        assert "applied to voice-captures-eu" in out and "applied to voice-captures-us" in out
        assert "monthly cost at 50,000 turns" in out
        rule, markers = client.get_bucket_lifecycle_configuration(Bucket="voice-captures-eu")[
            "Rules"
        ]
        assert client.get_bucket_lifecycle_configuration(Bucket="voice-captures-us")["Rules"]
        assert rule["Expiration"]["Days"] == 90
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
        assert markers["Expiration"] == {"ExpiredObjectDeleteMarker": True}
        assert rule["Transitions"][0]["StorageClass"] == "STANDARD_IA"
        printed = json.loads(out[: out.index("monthly cost")])
        assert printed["Rules"][0]["ID"] == rule["ID"]


@pytest.mark.parametrize("args", [["--turns-per-month", "-1"], ["--audio-kb", "0"]])
def test_apply_lifecycle_refuses_nonsense(tmp_path: Path, args: list[str]) -> None:
    done = cli(
        "storage", "apply-lifecycle", "--dry-run", *args, env={"VOICE_DATA_DIR": str(tmp_path)}
    )
    assert done.returncode == 1 and b"must be positive" in done.stderr
