"""Log lines of the service: plain or JSON, each carrying the session and turn it belongs to.

``VOICE_LOG_FORMAT`` picks ``plain`` (readable lines, the default) or ``json`` (one object a
line); ``VOICE_LOG_LEVEL`` the level. The ids live in context variables: the WebSocket route
binds the session id, the session binds a turn id around the work of that turn (asyncio tasks
and ``asyncio.to_thread`` inherit them), and a capture worker binds the turn id of the task it
runs, so ``grep TURN_ID`` follows one turn from the socket to the store.

What is said never goes into a log: transcripts, answers, audio and user ids stay out of every
message here (``tests/test_observability.py`` greps a whole captured session's logs for them).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.settings import Settings

session_id: ContextVar[str | None] = ContextVar("session_id", default=None)
turn_id: ContextVar[str | None] = ContextVar("turn_id", default=None)
task_name: ContextVar[str | None] = ContextVar("task_name", default=None)
IDS = {"session_id": session_id, "turn_id": turn_id, "task": task_name}
# DEBUG is for the service's own modules. Libraries log what they are given at DEBUG (Piper
# the text it speaks, uvicorn each WebSocket frame, HTTP clients their bodies): they stay at
# INFO or above, so no level ever puts a transcript or an answer in the logs.
OURS = ("api", "core", "workers", "capture", "redaction", "review", "migrations")
ROUTINE = ("/healthz", "/readyz", "/metrics")  # probes and scrapes: no access line when they pass
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "ids", *IDS}


@contextlib.contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Bind ``session_id``, ``turn_id`` or ``task`` for the block (and tasks started in it)."""
    tokens = [(IDS[name], IDS[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextIds(logging.Filter):
    """Puts the bound ids on every record (None where unbound)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always True: this filter only adds fields."""
        for name, var in IDS.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


class QuietProbes(logging.Filter):
    """Drops uvicorn's access lines of successful probes and scrapes (one every few seconds)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a 2xx access line of a ``ROUTINE`` path."""
        args = record.args
        if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) < 5:
            return True
        path, status = str(args[2]).split("?")[0], args[4]
        return not (path in ROUTINE and isinstance(status, int) and 200 <= status < 300)


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, ids, and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in IDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        for key, value in vars(record).items():  # fields passed with ``extra=``
            if key not in _RESERVED and key not in line and not key.startswith("_"):
                line[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainLines(logging.Formatter):
    """``TIME LEVEL logger [session=… turn=…]: message``: the ids only where bound."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a readable line."""
        ids = " ".join(
            f"{name}={value}" for name in IDS if (value := getattr(record, name, None)) is not None
        )
        record.ids = f" [{ids}]" if ids else ""
        return super().format(record)


def configure(settings: Settings, *, debug: bool = False, default: str = "INFO") -> None:
    """Send every log line to stderr in the configured format and level.

    ``default`` is the level when ``VOICE_LOG_LEVEL`` is unset; ``debug`` overrides both.
    Calling it again replaces the handler it added, never anyone else's.
    """
    level = logging.DEBUG if debug else logging.getLevelName(settings.log_level or default)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)  # also for loggers that set a lower level of their own
    handler.setFormatter(JsonLines() if settings.log_format == "json" else PlainLines())
    handler.addFilter(ContextIds())
    handler.addFilter(QuietProbes())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_voice_service", False)]:
        root.removeHandler(old)
    handler._voice_service = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(max(level, logging.INFO))
    for name in OURS:
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)  # warnings become log lines too (JSON where asked)
