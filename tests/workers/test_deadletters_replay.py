"""Dead letters made by a real worker, looked at and replayed with the CLI, stored by the worker.

The turn's staged audio is taken away between the chain's steps, so the upload step gives up
at once (``ObjectNotFound``: no retry can bring it back) and leaves a dead letter. Replaying
it sends the chain again from the spool, and the same worker stores the turn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from capture.deadletters import letters
from capture.models import Capture
from capture.spool import Spool
from capture.store import open_store
from capture.store_local import LocalStore
from core.db import session_scope
from core.settings import Settings
from tests.utils.capture import run_chain, send_task, spool_turn, wait_until
from tests.utils.celery_worker import celery_worker

CLI = [sys.executable, "-m", "api.cli"]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr
    return done


def captured(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return list(session.scalars(select(Capture.turn_id)))


def test_a_dead_letter_is_replayed_through_the_worker_once(
    pipeline_env: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = pipeline_env
    spool_turn(settings, "lost-audio", transcript="what is the speed of light")
    run_chain(settings, "lost-audio", last="upload")  # redacted (and encoded) here
    LocalStore(settings, "staging").delete("lost-audio/audio.flac")
    with celery_worker(env, tmp_path / "worker.log"):
        send_task(env, "capture.upload", "lost-audio")
        wait_until(lambda: len(letters(settings)) == 1, what="the dead letter")
        send_task(env, "capture.upload", "lost-audio")  # the same failure again
        wait_until(lambda: letters(settings)[0].failures == 2, what="the second failure")
        (letter,) = letters(settings)
        assert letter.task == "capture.upload" and letter.arguments == {"turn_id": "lost-audio"}
        assert letter.error.startswith("ObjectNotFound")

        listed = cli(env, "deadletters", "list").stdout.splitlines()
        assert listed[1].startswith(f"{letter.id}\topen\tcapture.upload\tturn_id=lost-audio\t2\t")
        shown = json.loads(cli(env, "deadletters", "show", str(letter.id), "--json").stdout)
        assert shown["replay"] == {"kind": "chain", "why": "from the start (from the spool)"}
        status = json.loads(cli(env, "capture", "status", "lost-audio", "--json").stdout)
        assert status["where"] == "dead-lettered" and status["spool"]["staged"] == [
            "metadata.json",
            "review.json",
        ]
        assert status["persisted"] is None and status["stored"] is None

        replay = cli(env, "deadletters", "replay", str(letter.id)).stdout
        assert "sent: from the start" in replay
        wait_until(lambda: captured(settings) == ["lost-audio"], what="the replayed chain")
        wait_until(lambda: not Spool(settings).exists("lost-audio"), what="the chain's end")

        again = cli(env, "deadletters", "replay", str(letter.id)).stdout
        assert "was replayed at" in again and "nothing sent" in again
        assert cli(env, "deadletters", "replay", "--all").stdout.strip() == "no open dead letters"
    keys = open_store(settings, "eu").list("raw/")
    assert sorted(key.rsplit("/", 1)[-1] for key in keys) == [
        "audio.flac",
        "metadata.json",
        "transcript.txt",
    ]
    assert cli(env, "deadletters", "list").stdout.splitlines()[1:] == []
    (row,) = json.loads(cli(env, "deadletters", "list", "--all", "--json").stdout)
    assert row["state"] == "replayed" and row["replayed_at"]
    status = json.loads(cli(env, "capture", "status", "lost-audio", "--json").stdout)
    assert status["where"] in ("persisted", "in review")
    assert status["stored"]["complete"] and status["spool"] is None
    assert status["persisted"]["day"] == "2026-11-25"


def test_capture_status_sees_a_turn_in_the_queue(
    pipeline_env: tuple[Settings, dict[str, str]],
) -> None:
    """No worker runs: the chain's first message waits in the broker."""
    settings, env = pipeline_env
    spool_turn(settings, "waiting")
    from tests.utils.capture import enqueue

    enqueue(env, "waiting")
    status = json.loads(cli(env, "capture", "status", "waiting", "--json").stdout)
    assert status["where"] == "queued" and status["queued"] == {"capture": 1}
    text = cli(env, "capture", "status", "waiting").stdout
    assert "  queue: capture (1)" in text and text.strip().endswith("where: queued")
    unknown = cli(env, "capture", "status", "never-was").stdout
    assert unknown.strip().endswith("where: erased or never captured")
