"""``voice-service redact`` and ``redact-eval``."""

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from api.cli import redact
from core.errors import VoiceServiceError
from core.settings import Settings
from redaction.evaluate import format_report

DATASET = Path(__file__).resolve().parents[1] / "data" / "pii_eval.jsonl"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    redact.add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str
) -> list[dict[str, Any]]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = parse(*argv)
    assert args.run(args, Settings(_env_file=None)) == 0  # type: ignore[call-arg]
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_one_json_line_per_stdin_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(monkeypatch, capsys, "my card is 4663 9233 2146 8814\n\nI'm Ana Silva\n", "redact")
    assert lines[0] == {
        "text": "my card is 4663 9233 2146 8814",
        "redacted": "my card is [CREDIT_CARD]",
        "entities": [
            {"type": "CREDIT_CARD", "start": 11, "end": 30, "score": 1.0, "action": "redact"}
        ],
    }
    assert lines[1] == {"text": "", "redacted": "", "entities": []}
    assert [(e["type"], e["action"]) for e in lines[2]["entities"]] == [("PERSON", "review")]
    assert lines[2]["redacted"] == "I'm Ana Silva"


def test_jsonl_bad_lines_get_an_error_and_the_rest_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = "\n".join(
        [
            json.dumps({"text": "call 646-555-0177", "id": 7}),
            "{not json",
            json.dumps({"text": 42}),
            "[1, 2]",
            "",
            json.dumps({"text": "SSN \ud800 219-45-8803"}),
        ]
    )
    lines = run(monkeypatch, capsys, stdin, "redact", "--jsonl")
    assert len(lines) == 5
    assert lines[0]["redacted"] == "call [PHONE_NUMBER]"
    assert [line["error"]["code"] for line in lines[1:4]] == ["bad_input"] * 3
    assert lines[4]["redacted"] == "SSN \ud800 [US_SSN]"


def test_eval_of_a_missing_or_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n')
    for path in (tmp_path / "missing.jsonl", bad):
        args = parse("redact-eval", str(path))
        with pytest.raises(VoiceServiceError) as raised:
            args.run(args, Settings(_env_file=None))  # type: ignore[call-arg]
        assert raised.value.code == "bad_dataset"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    out = io.StringIO()
    args = parse("redact-eval", str(DATASET), "--json")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        assert args.run(args, Settings(_env_file=None)) == 0  # type: ignore[call-arg]
    return json.loads(out.getvalue())


def test_eval_reports_both_engines_per_type(report: dict[str, Any]) -> None:
    types = {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "PERSON", "STREET_ADDRESS"}
    for engine in ("ours", "stock"):
        assert set(report[engine]["types"]) == types
        assert report[engine]["transcripts_per_s"] > 0
        for figures in report[engine]["types"].values():
            assert {"precision", "recall", "f2", "tp", "fp", "fn"} <= set(figures)
    assert report["stock"]["types"]["STREET_ADDRESS"]["recall"] == 0.0


@pytest.mark.parametrize("part", ["tuned", "heldout", "tuning"])
def test_eval_goals_are_met_on_each_part(report: dict[str, Any], part: str) -> None:
    """The held-out part was written before the rules for spoken forms and never tuned on."""
    figures = report["parts"][part]
    assert figures["transcripts"] >= 50
    ours, stock = figures["ours"]["types"], figures["stock"]["types"]
    for kind in ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER"):
        assert ours[kind]["recall"] >= 0.98, kind
        assert ours[kind]["precision"] >= 0.97, kind
        assert ours[kind]["f2"] > stock[kind]["f2"], kind
    for kind in ("PERSON", "STREET_ADDRESS"):
        assert ours[kind]["recall"] >= 0.9, kind


def test_the_parts_add_up_to_the_whole(report: dict[str, Any]) -> None:
    parts = report["parts"].values()
    assert sum(p["transcripts"] for p in parts) == report["transcripts"]
    for kind in ("CREDIT_CARD", "PERSON"):
        for key in ("tp", "fp", "fn"):
            whole = report["ours"]["types"][kind][key]
            assert sum(p["ours"]["types"][kind][key] for p in parts) == whole


def test_eval_prints_a_table_for_the_whole_and_each_part(report: dict[str, Any]) -> None:
    table = format_report(report).splitlines()
    whole = 3 + 5 + 2 + len(report["ours"]["redacted_recall_by_form"])
    assert table[3].split()[0] == "CREDIT_CARD" and len(table[3].split()) == 7
    assert table[whole] == ""
    headers = [line for line in table if line.startswith("part ")]
    assert [line.split()[1].rstrip(":") for line in headers] == ["heldout", "tuned", "tuning"]
    assert headers[0] == "part heldout: {transcripts} transcripts, {negatives} without PII".format(
        **report["parts"]["heldout"]
    )
    part_rows = [line for line in table if line.startswith("CREDIT_CARD")]
    assert len(part_rows) == 4  # the whole set, then each part


def test_the_installed_command_reads_stdin_and_writes_json_lines() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "redact", "--jsonl"],
        input='{"text": "call me at 555 867 5309"}\nnot json\n',
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["redacted"] == "call me at [PHONE_NUMBER]"
    assert second["error"]["code"] == "bad_input"
