"""PII redaction from the command line.

``redact``: one transcript per stdin line (or JSON lines with ``text``), one JSON line out per
input; ``redact-eval``: precision, recall, F2 and throughput of the engine and of stock Presidio
on a labelled set.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from core.errors import VoiceServiceError
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register both commands."""
    redact = subparsers.add_parser("redact", help="redact PII in transcripts read from stdin")
    redact.add_argument("--jsonl", action="store_true", help='read JSON lines with a "text" field')
    redact.set_defaults(run=run)
    evaluate = subparsers.add_parser(
        "redact-eval", help="PII precision, recall and speed: this engine and stock Presidio"
    )
    evaluate.add_argument("dataset", type=Path, help='JSON lines with "text" and "entities"')
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run_eval)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Redact stdin line by line; a bad line gets an error line, the rest go on."""
    from redaction.engine import default_redactor
    from redaction.text import RedactionError

    redactor = default_redactor()
    stdin: TextIO = sys.stdin
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")  # undecodable bytes: redacted like any text
    for line in stdin:
        line = line.rstrip("\r\n")
        if args.jsonl and not line.strip():
            continue
        try:
            text = _text(line) if args.jsonl else line
            result = redactor.redact_batch([text])[0]
        except _BadInput as exc:
            _emit({"error": {"code": "bad_input", "message": str(exc)}})
            continue
        except RedactionError as exc:  # nothing of that line is printed
            _emit({"error": {"code": exc.code, "message": str(exc)}})
            continue
        entities = [asdict(e) for e in result.entities]  # type, start, end, score, action
        _emit({"text": text, "redacted": result.text, "entities": entities})
    return 0


class _BadInput(ValueError):
    """A line that holds no transcript."""


def _text(line: str) -> str:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise _BadInput(f"not JSON: {exc}") from exc
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise _BadInput('expected an object with a "text" string')
    return row["text"]


def _emit(payload: dict[str, Any]) -> None:
    try:
        line = json.dumps(payload, ensure_ascii=False)
        line.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes, a narrow terminal
        line = json.dumps(payload)
    print(line, flush=True)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate both engines on the set and print the table (or JSON)."""
    from redaction.evaluate import evaluate, format_report

    try:
        report = evaluate(args.dataset)
    except (OSError, ValueError) as exc:
        raise VoiceServiceError(f"cannot read {args.dataset}: {exc}", code="bad_dataset") from exc
    print(json.dumps(report) if args.json else format_report(report))
    return 0
