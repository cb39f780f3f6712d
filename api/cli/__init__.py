"""The ``voice-service`` command.

Each subcommand lives in its own module with two functions: ``add_parser(subparsers)`` and
``run(args, settings) -> exit code``.

Errors print one line on stderr and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import logging
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
    db,
    finetune,
    kb,
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
    admin,
    redact,
    qa_eval,
    finetune,
    models,
]


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
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched at run time
    try:
        settings = Settings()
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
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "settings"
    return f"{where}: {error['msg']}"
