"""Settings that cannot work are refused at start-up, in one line naming the variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings
from tests.utils.databases import fresh_database

CLI = [sys.executable, "-m", "api.cli"]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_")}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, env={**clean, **env}
    )


CONTRADICTIONS = [
    ({"require_token": True}, "VOICE_TOKEN_SECRET is empty"),
    ({"storage": "s3", "s3_bucket_template": ""}, "VOICE_S3_BUCKET_TEMPLATE"),
    ({"storage": "s3", "s3_bucket_template": "one-bucket"}, "with {region}"),
    ({"storage": "s3", "s3_bucket_template": "Bad_{region}"}, "VOICE_S3_BUCKET_TEMPLATE"),
    ({"storage": "s3", "s3_bucket_template": "b-{zone}"}, "VOICE_S3_BUCKET_TEMPLATE"),
    ({"s3_kms_key_id": "alias/voice"}, "VOICE_S3_SSE is not aws:kms"),
    ({"tts_backend": "xtts"}, "VOICE_XTTS_CHECKPOINT_DIR"),
    (
        {"turn_complete_probability": 0.5, "turn_incomplete_probability": 0.8},
        "VOICE_TURN_INCOMPLETE_PROBABILITY is above",
    ),
    (
        {"end_of_turn_silence_ms": 2000, "incomplete_turn_silence_ms": 1000},
        "VOICE_END_OF_TURN_SILENCE_MS is longer",
    ),
    ({"database_url": "mysql://voice@db/voice"}, "VOICE_DATABASE_URL must be"),
    ({"review_batch_cron": "0 25 * * 1"}, "Celery cannot parse"),
    ({"review_batch_cron": "0 0 * * funday"}, "Celery cannot parse"),
    ({"review_batch_cron": "0 0 * *"}, "needs 5 fields"),
]


@pytest.mark.parametrize(("values", "message"), CONTRADICTIONS)
def test_contradictions_are_refused(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Settings(data_dir=tmp_path, _env_file=None, **values)  # type: ignore[arg-type]


def test_the_settings_that_agree_are_accepted(tmp_path: Path) -> None:
    Settings(  # type: ignore[call-arg]
        data_dir=tmp_path,
        require_token=True,
        token_secret="c2VjcmV0",
        storage="s3",
        s3_bucket_template="acme-voice-{region}",
        s3_sse="aws:kms",
        s3_kms_key_id="alias/voice",
        review_batch_cron="30 6 * * mon-fri",
        database_url="postgresql://voice@db/voice",
        _env_file=None,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"VOICE_REQUIRE_TOKEN": "true"}, "VOICE_REQUIRE_TOKEN is on but VOICE_TOKEN_SECRET"),
        ({"VOICE_LLM_BACKEND": "gpt-17"}, "VOICE_LLM_BACKEND: Input should be 'llamacpp'"),
        ({"VOICE_TTS_BACKEND": "festival"}, "VOICE_TTS_BACKEND: Input should be 'piper' or"),
        ({"VOICE_REVIEW_BATCH_CRON": "0 0 31 2 8"}, "VOICE_REVIEW_BATCH_CRON: Celery cannot"),
        ({"VOICE_STORAGE": "s3", "VOICE_S3_BUCKET_TEMPLATE": "x"}, "VOICE_S3_BUCKET_TEMPLATE"),
    ],
)
def test_the_cli_says_so_in_one_line_and_exits_2(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    done = cli("db", "upgrade", env={"VOICE_DATA_DIR": str(tmp_path / "var"), **env})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voice-service: error: invalid settings: ")
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "var").exists()  # refused before anything was made


def test_create_key_on_a_fresh_install_migrates_the_embedded_database(tmp_path: Path) -> None:
    env = {"VOICE_DATA_DIR": str(tmp_path / "fresh")}
    done = cli("admin", "create-key", "--role", "admin", "--name", "ops", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("key 1 (admin, ops): vsk_")
    listed = cli("admin", "list-keys", env=env)
    assert listed.returncode == 0 and "\tops\tadmin\t" in listed.stdout
    assert (tmp_path / "fresh" / "voice.db").is_file()


def test_a_configured_database_not_migrated_is_one_line_naming_the_command(
    tmp_path: Path,
) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        env = {"VOICE_DATA_DIR": str(tmp_path / "var"), "VOICE_DATABASE_URL": url}
        for command in (["admin", "list-keys"], ["deadletters", "list"]):
            done = cli(*command, env=env)
            assert done.returncode == 1
            (line,) = done.stderr.strip().splitlines()
            assert line.startswith("voice-service: error: the database is not migrated (empty;")
            assert line.endswith("run `voice-service db upgrade` (database_not_migrated)")
        assert cli("db", "upgrade", env=env).returncode == 0
        assert cli("admin", "list-keys", env=env).returncode == 0


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {
        "VOICE_DATA_DIR": str(tmp_path / "var"),
        "VOICE_DATABASE_URL": "postgresql://voice:pw@127.0.0.1:9/voice",
    }
    done = cli("admin", "list-keys", env=env)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "cannot use the database at postgresql+psycopg://voice:***@127.0.0.1:9/voice" in line
    assert line.endswith("(database_unavailable)") and "pw" not in line
