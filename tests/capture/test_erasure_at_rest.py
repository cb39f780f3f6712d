"""After an erasure or a retention run, the turn is gone from the bytes at rest, not only the rows.

The embedded default (SQLite and the local store) is scanned file by file, byte for byte, as
``grep -a -r`` would; PostgreSQL's table files are read after a ``VACUUM FULL``; a versioned
S3 bucket is listed version by version.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from sqlalchemy import event, select, text

from capture.consent import request_change
from capture.erasure import TOUCHED, apply_change, expire
from capture.feedback import apply_feedback
from capture.keys import object_key
from capture.metadata import user_id_for
from capture.models import ConsentEvent, ReviewDecision, ReviewItem
from capture.store_s3 import S3Store
from core.db import engine_for, session_scope
from core.settings import Settings
from migrations import upgrade
from review.decisions import Decision, decide
from tests.utils.capture import USER, run_chain, spool_turn
from tests.utils.databases import fresh_database
from tests.utils.leaks import files_holding
from tests.utils.s3 import s3_server

TOLD = "my name is John Smith and I live at 12 Elm Street, my card is 4111 1111 1111 1111"
ANSWER = "Thank you John Smith, I have noted the Zanzibar question."
CORRECTED = "my name is Jon Smythe and I live at 14 Elmwood Street, card 4111 1111 1111 1111"
WORDS = ["John Smith", "Elm Street", "Zanzibar", "Jon Smythe", "Elmwood Street", "4111 1111"]
STORED = ["John Smith", "Zanzibar", "Jon Smythe"]  # what is kept in clear before the erasure
WHEN = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
OTHER = user_id_for("user-2", "secret")


def library_default_off(connection: Any, _record: Any) -> None:
    """What a SQLite built without SQLITE_SECURE_DELETE starts with (Debian's is built with it)."""
    connection.execute("PRAGMA secure_delete=OFF")


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Settings]:
    """The default configuration: SQLite and the local store in the data folder."""
    settings = Settings(data_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    url = settings.resolved_database_url()
    settings.data_dir.mkdir()
    upgrade(url)
    engine = engine_for(url)
    event.listen(engine, "connect", library_default_off, insert=True)  # runs before the service's
    engine.dispose()
    yield settings
    engine.dispose()


def capture_and_correct(settings: Settings) -> None:
    """A consenting user's turn, captured, flagged (a name) and corrected by a reviewer."""
    grant = request_change(settings, USER, granted=True, source="session")
    apply_change(settings, grant.event_id)
    spool_turn(settings, "told", transcript=TOLD, response=ANSWER, timestamp=WHEN.isoformat())
    run_chain(settings, "told")
    with session_scope(settings) as session:
        item = session.scalars(select(ReviewItem.id).where(ReviewItem.reason == "pii_review")).one()
    fix = Decision(decision="correct", transcript=CORRECTED, tags=["stt_error"])
    decide(settings, item, fix, "rita")


def erase(settings: Settings, how: str) -> None:
    if how == "opt_out":
        change = request_change(settings, USER, granted=False, source="api")
        apply_change(settings, change.event_id)
    else:
        expire(settings, WHEN + timedelta(days=settings.retention_days + 1))


def test_the_embedded_database_is_private_and_deletes_securely(embedded: Settings) -> None:
    database = embedded.data_dir / "voice.db"
    with session_scope(embedded) as session:
        assert session.execute(text("PRAGMA secure_delete")).scalar() == 1
        session.add(
            ConsentEvent(
                event_id="e1", user_id=USER, granted=True, policy_version="1", source="api", at=WHEN
            )
        )
    for path in (database, database.with_name("voice.db-wal"), database.with_name("voice.db-shm")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    made_before = embedded.data_dir / "old.db"  # a database made before this was fixed
    made_before.write_bytes(b"")
    os.chmod(made_before, 0o644)
    engine_for(f"sqlite:///{made_before}").dispose()
    assert stat.S_IMODE(made_before.stat().st_mode) == 0o600


@pytest.mark.parametrize("how", ["opt_out", "retention"])
def test_no_file_under_the_data_folder_keeps_an_erased_turn(embedded: Settings, how: str) -> None:
    capture_and_correct(embedded)
    with session_scope(embedded) as session:
        assert session.scalars(select(ReviewDecision.transcript)).one() == (
            "my name is Jon Smythe and I live at 14 Elmwood Street, card [CREDIT_CARD]"
        )
    before = {word for words in files_holding(embedded.data_dir, WORDS).values() for word in words}
    assert before >= set(STORED)  # the scan sees the turn while it is kept

    erase(embedded, how)

    assert files_holding(embedded.data_dir, WORDS) == {}
    assert (embedded.data_dir / "voice.db-wal").stat().st_size == 0
    with session_scope(embedded) as session:
        assert session.scalars(select(ReviewDecision)).all() == []
        ledger = session.scalars(select(ConsentEvent)).all()
        assert [e.granted for e in ledger] == ([False] if how == "opt_out" else [True])


def relation_bytes(url: str, tables: tuple[str, ...]) -> bytes:
    """The heap files of ``tables`` as on disk, after a checkpoint (superuser only)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        return b"".join(
            connection.execute(
                "SELECT pg_read_binary_file(pg_relation_filepath(%s))", (table,)
            ).fetchone()[0]  # type: ignore[index]
            for table in tables
        )


def test_postgresql_vacuum_full_after_an_erasure_rewrites_the_table_files(
    tmp_path: Path,
) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        settings = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path, database_url=url, erasure_vacuum="full", _env_file=None
        )
        for turn_id, said in (("before", "what is a photon"), ("after", "what is a muon")):
            if turn_id == "after":  # the user's turn lies between another user's two
                capture_and_correct(settings)
            spool_turn(
                settings, turn_id, user_id=OTHER, transcript=said, timestamp=WHEN.isoformat()
            )
            run_chain(settings, turn_id)
        kept = relation_bytes(url, TOUCHED)
        assert b"Zanzibar" in kept and b"Jon Smythe" in kept
        erase(settings, "opt_out")
        left = relation_bytes(url, TOUCHED)
        assert [word for word in WORDS if word.encode() in left] == []
        assert b"photon" in left and b"muon" in left  # the other user's rows stay


@pytest.fixture
def versioned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The local database, and S3 (moto) buckets with versioning on."""
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with s3_server() as endpoint, fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        settings = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path,
            database_url=url,
            storage="s3",
            s3_endpoint_url=endpoint,
            _env_file=None,
        )
        for region in ("eu", "us"):
            store = S3Store(settings, f"voice-captures-{region}")
            store.ensure_bucket()
            store.client.put_bucket_versioning(
                Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        yield settings


def versions(settings: Settings, region: str = "eu") -> list[tuple[str, bool]]:
    """(key, is a delete marker) of every version in the region's bucket."""
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    listed = client.list_object_versions(Bucket=f"voice-captures-{region}")
    return sorted(
        [(v["Key"], False) for v in listed.get("Versions", [])]
        + [(m["Key"], True) for m in listed.get("DeleteMarkers", [])]
    )


def test_on_a_versioned_bucket_erasure_and_retention_leave_no_version(versioned: Settings) -> None:
    settings = versioned
    spool_turn(settings, "mine", timestamp=WHEN.isoformat())
    spool_turn(settings, "theirs", user_id=OTHER, timestamp=WHEN.isoformat())
    for turn in ("mine", "theirs"):
        run_chain(settings, turn)
    apply_feedback(settings, "mine", "thumbs_up", "f1", WHEN)  # metadata.json: two versions
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    hidden = object_key(WHEN.date(), "mine", "transcript.txt")
    client.delete_object(Bucket="voice-captures-eu", Key=hidden)  # a marker over a version
    mine = [v for v in versions(settings) if "/mine/" in v[0]]
    assert len(mine) == 5 and (hidden, True) in mine

    change = request_change(settings, USER, granted=False, source="api")
    apply_change(settings, change.event_id)
    assert [v for v in versions(settings) if "/mine/" in v[0]] == []
    assert len(versions(settings)) == 3  # theirs: one version of each object

    old = object_key(WHEN.date() - timedelta(days=120), "orphan", "audio.flac")
    client.put_object(Bucket="voice-captures-us", Key=old, Body=b"x")
    client.delete_object(Bucket="voice-captures-us", Key=old)  # hidden, but still stored
    assert len(versions(settings, "us")) == 2
    expire(settings, WHEN + timedelta(days=1))
    assert versions(settings, "us") == []
