"""``bench-talk --set``: the turn set streamed to a real ``serve``, and how clips are scored."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from api.cli.bench_set import Clip, ClipSession, load_set
from tests.api.test_cli import cli
from tests.utils.processes import free_port, running

TURNS = Path(__file__).resolve().parents[1] / "data" / "speech" / "turns"
CLIP_FIELDS = {
    "file",
    "kind",
    "subset",
    "end_s",
    "reference",
    "hypothesis",
    "transcripts",
    "first_audio_ms",
    "split",
    "late",
    "reply_before_end",
    "transcripts_before_end",
    "answers",
    "errors",
}
FIGURES = {"clips", "split", "late", "answered", "p50_ms", "p95_ms", "p99_ms", "wer"}


def test_bench_talk_set_streams_clips_to_a_real_serve(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "var").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_")}
    env.update(VOICE_DATA_DIR=str(tmp_path / "var"), VOICE_PORT=str(port))
    env.update(VOICE_EMBEDDED_WORKER="false")  # no one consents here: nothing to capture
    command = [sys.executable, "-m", "api.cli", "serve"]
    out = tmp_path / "results"
    with running(command, f"http://127.0.0.1:{port}/readyz", timeout_s=180, env=env):
        done = cli(
            "bench-talk",
            "--set",
            str(TURNS),
            "--limit",
            "3",
            "--url",
            f"ws://127.0.0.1:{port}/v1/voice",
            "--out",
            str(out),
            "--trailing-silence",
            "8",  # room for a slow machine; lateness is judged at 1.5 s all the same
            "--json",
        )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["clips"] == 3 and printed["out"] == str(out)
    results = json.loads((out / "results.json").read_text())
    details = results["clips_detail"]
    # --limit takes clips in turn from each kind: three kinds, the first clip of each.
    assert [d["file"] for d in details] == [
        "complete_no_pause-00.flac",
        "pause_after_content_word-00.flac",
        "pause_after_function_word-00.flac",
    ]
    assert set(results["summary"]) == {d["kind"] for d in details} | {"all"}
    for figures in results["summary"].values():
        assert set(figures) == FIGURES
        assert (
            0 <= figures["split"] <= figures["clips"] and 0 <= figures["late"] <= figures["clips"]
        )
        assert 0 <= figures["wer"] <= 2
    overall = results["summary"]["all"]
    assert overall["clips"] == 3 and overall["answered"] >= 1
    for detail in details:
        assert set(detail) == CLIP_FIELDS
        assert detail["errors"] == []
        latency = detail["first_audio_ms"]
        assert latency is None or latency >= 0
        assert detail["late"] == (latency is None or latency > 1500)
    first = details[0]  # "What is the speed of light?", no pause, the bundled Piper voice
    assert first["answers"] == 1 and "light" in first["hypothesis"].lower()
    assert first["first_audio_ms"] is not None
    assert overall["p50_ms"] is not None and overall["p50_ms"] <= overall["p99_ms"]
    table = (out / "results.md").read_text()
    assert "| kind | clips | split | late |" in table and "complete_no_pause-00.flac" in table
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--set", "/nonexistent/turns"], "bad_set"),
        ([], "bad_argument"),
        (["some.flac", "--set", str(TURNS)], "bad_argument"),
        (["--set", str(TURNS), "--concurrency", "0"], "bad_argument"),
        (
            ["--set", str(TURNS), "--limit", "1", "--url", "ws://127.0.0.1:9/v1/voice"],
            "unreachable",
        ),
    ],
)
def test_bench_talk_set_bad_input_is_one_line(tmp_path: Path, args: list[str], code: str) -> None:
    done = cli("bench-talk", *args, "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and f"({code})" in done.stderr, done.stderr


def test_a_clip_missing_from_the_set_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "turns"
    folder.mkdir()
    shutil.copy(TURNS / "manifest.jsonl", folder)
    shutil.copy(TURNS / "short_complete-00.flac", folder)
    done = cli("bench-talk", "--set", str(folder), "--split", "heldout")
    assert done.returncode == 1 and "(bad_set)" in done.stderr and "clips missing" in done.stderr


def test_split_and_limit_choose_clips_deterministically() -> None:
    held = load_set(TURNS, "heldout", None)
    tune = load_set(TURNS, "tune", None)
    assert held and tune and not {c.path for c in held} & {c.path for c in tune}
    mixed = load_set(TURNS, "all", 6)
    assert len({c.kind for c in mixed}) == 6


def _session(events: list[tuple[float, dict]], audio: dict[str, float]) -> ClipSession:
    session = ClipSession(argparse.Namespace(consent=False, voice=None, token=None), "ws://x")
    session.t0 = 100.0
    session.timed = events
    session.first_audio = audio
    return session


CLIP = Clip(
    TURNS / "x.flac", "How many moons does Jupiter have?", "pause_after_content_word", "tune", 3.0
)


def test_scoring_one_answer_after_the_end() -> None:
    events = [
        (
            103.6,
            {"type": "transcript", "turn_id": "a", "text": "How many moons does Jupiter have?"},
        ),
        (104.5, {"type": "turn_end", "turn_id": "a"}),
    ]
    result = _session(events, {"a": 104.2}).result(CLIP)
    assert result.first_audio_ms == pytest.approx(1200.0)
    assert not result.split and not result.late and result.answers == 1
    assert result.hypothesis == "How many moons does Jupiter have?"


def test_scoring_a_question_answered_in_two_parts() -> None:
    events = [
        (101.9, {"type": "transcript", "turn_id": "a", "text": "How many?"}),
        (102.9, {"type": "turn_end", "turn_id": "a"}),
        (103.8, {"type": "transcript", "turn_id": "b", "text": "Moons does Jupiter have?"}),
        (105.9, {"type": "turn_end", "turn_id": "b"}),
    ]
    result = _session(events, {"a": 102.5, "b": 105.0}).result(CLIP)
    assert result.split and result.reply_before_end and result.answers == 2
    assert result.first_audio_ms == pytest.approx(2000.0) and result.late
    assert result.hypothesis == "How many? Moons does Jupiter have?"


def test_scoring_no_reply_is_late_and_a_cancelled_turn_is_not_heard() -> None:
    events = [
        (102.0, {"type": "transcript", "turn_id": "a", "text": "How many"}),
        (102.5, {"type": "interrupted", "turn_id": "a"}),
        (
            103.7,
            {"type": "transcript", "turn_id": "b", "text": "How many moons does Jupiter have?"},
        ),
    ]
    result = _session(events, {}).result(CLIP)
    assert result.late and result.first_audio_ms is None and not result.split
    assert result.transcripts_before_end == 1 and result.answers == 0
    assert result.hypothesis == "How many moons does Jupiter have?"  # not the cancelled part
