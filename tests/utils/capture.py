"""Turns in the spool, the capture chain run in-process, and waiting for workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from capture import pipeline
from capture.metadata import user_id_for
from capture.spool import Spool, SpoolRecord
from core.settings import Settings
from workers.config import CHAINS

USER = user_id_for("user-1", "secret")
BROKER = os.environ.get("VOICE_TEST_BROKER", "redis://127.0.0.1:6379/14")
TONE = b"".join(
    int(8000 * ((n % 40) / 20 - 1)).to_bytes(2, "little", signed=True) for n in range(8000)
)


def spool_record(turn_id: str, **changes: object) -> SpoolRecord:
    """A consented turn's record (``changes`` override its fields)."""
    fields: dict[str, object] = dict(
        turn_id=turn_id,
        user_id=USER,
        timestamp="2026-11-25T10:30:00+00:00",
        region="eu",
        conversation_id="conv-1",
        turn_index=0,
        transcript="my card number is 4111 1111 1111 1111",
        response="Noted.",
        intent="other",
        domain="none",
        latency={"stt_ms": 400.0, "total_ms": 900.0},
        models={"stt": "tiny.en"},
        avg_logprob=-0.2,
    )
    return SpoolRecord.model_validate({**fields, **changes})


def spool_turn(settings: Settings, turn_id: str, pcm: bytes = TONE, **changes: object) -> None:
    """A consented turn waiting in the spool (``changes`` override the record's fields)."""
    Spool(settings).put(spool_record(turn_id, **changes), pcm)


SPLIT = [step for step, _ in CHAINS["split"]]  # the split chain's steps, in order


def run_chain(
    settings: Settings, turn_id: str, first: int | str = 0, last: int | str = len(SPLIT)
) -> None:
    """Run the split chain's steps here, as workers would.

    ``first`` and ``last`` (exclusive) are indexes into ``SPLIT`` or step names.
    """
    start = SPLIT.index(first) if isinstance(first, str) else first
    stop = SPLIT.index(last) if isinstance(last, str) else last
    for step in SPLIT[start:stop]:
        pipeline.STEPS[step](settings, turn_id)


def enqueue(env: dict[str, str], *turn_ids: str) -> None:
    """Start the chain for spooled turns from another process, as the API does."""
    code = (
        "import sys\nfrom workers.config import enqueue_capture\nfrom workers.tasks import app\n"
        "for t in sys.argv[1:]: enqueue_capture(app, t)"
    )
    subprocess.run(
        [sys.executable, "-c", code, *turn_ids], check=True, timeout=60, env={**os.environ, **env}
    )


def send_task(env: dict[str, str], name: str, *args: str) -> None:
    """Send one task by name from another process."""
    code = (
        "import sys\nfrom workers.tasks import app\napp.send_task(sys.argv[1], args=sys.argv[2:])"
    )
    subprocess.run(
        [sys.executable, "-c", code, name, *args],
        check=True,
        timeout=60,
        env={**os.environ, **env},
    )


def wait_until(
    predicate: Callable[[], bool], timeout: float = 90, what: str = "the workers"
) -> None:
    """Poll until ``predicate()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not finish in time"
        time.sleep(0.3)
