"""``voice-service bench-capture`` end to end on a small N: real Redis, PostgreSQL, moto's S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from migrations import upgrade
from tests.utils.capture import BROKER
from tests.utils.databases import fresh_database


def test_bench_capture_prints_every_figure_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        env = {**os.environ, "VOICE_BROKER_URL": BROKER, "VOICE_DATABASE_URL": url}
        # two tasks at once in one worker process (threads pool): every turn stored once
        command = ["bench-capture", "--n", "12", "--cpu-sample", "3", "--moto", "--json"]
        command += ["--threads", "2"]
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout.strip().splitlines()[-1])
        enqueue, cpu, e2e = results["enqueue"], results["cpu_ms_per_stage"], results["end_to_end"]
        assert 0 < enqueue["voice_path_p50_ms"] <= enqueue["voice_path_max_ms"]
        assert set(cpu) == {"prepare", "store", "record", "finish", "total"}  # the fused chain
        assert cpu["prepare"] > 0 and cpu["store"] > 0 and cpu["total"] >= cpu["prepare"]
        assert e2e["captures"] == 12 and e2e["captures_per_s"] > 0
        assert (e2e["workers"], e2e["threads"], e2e["chain"]) == (1, 2, "fused")
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:  # the bench erased its own captures
            assert connection.execute(text("select count(*) from captures")).scalar() == 0
            audit = connection.execute(text("select actor, action from audit_log")).all()
            assert [tuple(row) for row in audit] == [("bench", "erase_user")]
        engine.dispose()


def test_bench_capture_refuses_bad_arguments_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "bench-capture", "--n", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "bad_arguments" in done.stderr
