"""The ``voice-service`` command.

Each subcommand lives in its own module with two functions: ``add_parser(subparsers)`` and
``run(args, settings) -> exit code``.

Errors print one line on stderr and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from pydantic import ValidationError

from api.cli import (
    admin,
    ask,
    bench,
    bench_capture,
    bench_latency,
    capture_status,
    dataset,
    db,
    deadletters,
    drain,
    evaluate,
    finetune,
    kb,
    loadtest,
    models,
    nlu,
    qa_eval,
    redact,
    serve,
    storage,
    talk,
    token,
    worker,
)
from api.cli.database import ensure_database
from core import logs
from core.errors import VoiceServiceError
from core.settings import Settings

COMMANDS: list[ModuleType] = [
    ask,
    serve,
    talk,
    token,
    worker,
    nlu,
    kb,
    storage,
    db,
    bench,
    bench_capture,
    bench_latency,
    admin,
    redact,
    qa_eval,
    dataset,
    deadletters,
    capture_status,
    loadtest,
    drain,
    evaluate,
    finetune,
    models,
]
LOG_DEFAULTS = {"serve": "INFO"}  # the level when VOICE_LOG_LEVEL is unset (else WARNING)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command module."""
    parser = argparse.ArgumentParser(prog="voice-service", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="log verbosely, show tracebacks")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn every failure into one line on stderr."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched at run time
    try:
        settings = Settings()
        # a server's INFO lines are its record; a one-shot command prints one line on error
        logs.configure(
            settings, debug=args.debug, default=LOG_DEFAULTS.get(args.command, "WARNING")
        )
        if getattr(args, "needs_database", False):
            ensure_database(settings)
        return int(args.run(args, settings))
    except KeyboardInterrupt:
        return 130
    except VoiceServiceError as exc:
        if args.debug:
            raise
        print(f"voice-service: error: {exc} ({exc.code})", file=sys.stderr)
        return 1
    except ValidationError as exc:
        print(f"voice-service: error: invalid settings: {_first_error(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(f"voice-service: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _first_error(exc: ValidationError) -> str:
    """The first problem, naming the variable to change.

    Settings that contradict each other name their variables in the message itself.
    """
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message
    return f"VOICE_{str(error['loc'][0]).upper()}: {message}"
