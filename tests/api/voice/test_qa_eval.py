"""``voice-service qa-eval``: the chain's answers scored against reference values."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from api.cli.qa_score import QAItem, score_answer

QUESTIONS = [
    {"id": "a", "domain": "physics", "question": "What is Planck's constant?",
     "value": 6.62607015e-34, "unit": "J s", "tol": 0.001},
    {"id": "b", "domain": "chemistry", "question": "What is the boiling point of water in kelvin?",
     "value": 373.15, "unit": "K", "tol": 0.001},
    {"id": "c", "domain": "biology", "question": "How many bones are in the human body?",
     "value": 306, "unit": "", "tol": 0.0},  # a wrong reference: the answer is scored wrong
    {"id": "d", "domain": "physics", "question": "What is the mass of a unicorn?",
     "value": 123.456, "unit": "kg", "tol": 0.001, "part": "heldout"},
]  # fmt: skip


def qa_eval(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "qa-eval", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "VOICE_DATA_DIR": str(data_dir)},
    )


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_answers_are_scored_per_part_and_domain(tmp_path: Path) -> None:
    dataset = write(tmp_path / "qa.jsonl", QUESTIONS)
    done = qa_eval(str(dataset), "--json", data_dir=tmp_path / "var")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    dev, heldout = summary["parts"]["dev"], summary["parts"]["heldout"]
    assert dev["domains"]["physics"] == {
        "n": 1, "covered": 1, "right": 1, "wrong": 0, "abstained": 0
    }  # fmt: skip
    assert dev["domains"]["chemistry"]["right"] == 1
    assert dev["wrong_ids"] == ["c"] and dev["total"]["wrong_of_all_pct"] == 33.3
    assert heldout["abstained_ids"] == ["d"] and heldout["total"]["covered"] == 0
    assert summary["latency_ms"]["added_p95"] > 0
    table = qa_eval(str(dataset), data_dir=tmp_path / "var")
    assert "part heldout: 1 questions" in table.stdout and "added latency p95" in table.stdout


def test_spoken_questions_report_the_term_error_rate(tmp_path: Path) -> None:
    dataset = write(tmp_path / "qa.jsonl", QUESTIONS[:2])
    done = qa_eval(str(dataset), "--spoken", "--json", data_dir=tmp_path / "var")
    assert done.returncode == 0, done.stderr
    spoken = json.loads(done.stdout)["spoken"]
    assert spoken["terms"] >= 4  # planck, constant, boiling, water, kelvin ...
    assert 0 <= spoken["ter_pct"] <= spoken["ter_raw_pct"] <= 100


def test_a_bad_question_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "What?"}\n')  # no reference value
    done = qa_eval(str(bad), data_dir=tmp_path / "var")
    assert done.returncode == 1 and "bad.jsonl:1: not a question" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    missing = qa_eval(str(tmp_path / "missing.jsonl"), data_dir=tmp_path / "var")
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_scoring_reads_units_and_abstentions() -> None:
    item = QAItem(id="x", question="How hot?", value=212, unit="degF", tol=0.005)
    assert score_answer(item, "It is 100 °C, or 212 °F.") == "right"
    assert score_answer(item, "It boils at 100 degrees Celsius.") == "right"  # converted
    assert score_answer(item, "It is 90 °C.") == "wrong"
    assert score_answer(item, "I don't know that value.") == "abstained"
    assert score_answer(item, "Water boils when it is hot.") == "abstained"
