"""``voice-service capture status TURN_ID``: where a turn is in the capture pipeline."""

from __future__ import annotations

import argparse
import json
from typing import Any

from capture.keys import LayoutError
from capture.status import turn_status
from core.errors import VoiceServiceError
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("capture", help="the capture pipeline, turn by turn")
    actions = parser.add_subparsers(dest="capture_command", required=True, metavar="ACTION")
    status = actions.add_parser(
        "status",
        help="where a turn is: spool, queue, stored, persisted, in review, dead-lettered, erased",
    )
    status.add_argument("turn_id")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=run_status, needs_database=True)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print each place the turn was found in, then the one word for where it is."""
    from workers.inspect import queued

    try:
        status = turn_status(settings, args.turn_id)
    except LayoutError as exc:
        raise VoiceServiceError(str(exc), code="bad_argument") from exc
    try:
        status.queued = queued(settings, args.turn_id)
    except Exception as exc:  # the broker is down: say so, the rest still holds
        status.queued = {}
        broker_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    else:
        broker_error = ""
    if args.json:
        print(json.dumps({**status.as_json(), "broker_error": broker_error or None}))
        return 0
    print(f"turn {status.turn_id}")
    if status.spool is not None:
        staged = ", ".join(status.spool.get("staged", [])) or "nothing staged yet"
        print(f"  spool: waiting {status.spool.get('age_s', '?')} s ({staged})")
    if status.queued:
        print("  queue: " + ", ".join(f"{q} ({n})" for q, n in sorted(status.queued.items())))
    elif broker_error:
        print(f"  queue: the broker cannot be read: {broker_error}")
    if status.stored is not None:
        objects = ", ".join(status.stored.get("objects", [])) or status.stored.get("error", "")
        print(f"  stored: {status.stored['region']} {status.stored['prefix']} ({objects})")
    if status.persisted is not None:
        print(f"  persisted: {status.persisted['stored_at']}")
    for item in status.review:
        print(f"  review: {item['reason']} ({item['status']}, batch {item['batch']})")
    for letter in status.dead_letters:
        print(
            f"  dead letter {letter['id']}: {letter['task']} {letter['state']}: {letter['error']}"
        )
    if status.rejected:
        print("  rejected in review: its data was deleted")
    print(f"where: {status.where}")
    return 0
