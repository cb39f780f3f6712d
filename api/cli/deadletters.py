"""``voice-service deadletters list|show ID|replay ID|replay --all``: tasks that gave up.

Replay sends again what a letter stands for, from where the data is now (the spool, and the
results the chain had staged), and marks the letter replayed, so replaying twice sends once.
Every capture step is idempotent: a replay that races the sweep stores nothing twice.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from capture.deadletters import Letter, Plan, letter, letters, mark_replayed, plan
from core.errors import VoiceServiceError
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("deadletters", help="capture tasks that gave up, and replay")
    actions = parser.add_subparsers(dest="deadletters_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="open dead letters (--all: every one)")
    listing.add_argument("--all", action="store_true", help="replayed and resolved ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one letter, and what replaying it would do")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)
    replay = actions.add_parser("replay", help="send a letter's work again (ID or --all)")
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("id", type=int, nargs="?")
    target.add_argument("--all", action="store_true", help="every open letter")
    replay.add_argument("--force", action="store_true", help="replay a replayed letter again")
    replay.add_argument("--dry-run", action="store_true", help="say what would be sent")
    replay.set_defaults(run=run_replay)
    for action in (listing, show, replay):
        action.set_defaults(needs_database=True)


def _line(item: Letter) -> str:
    arguments = ",".join(f"{k}={v}" for k, v in item.arguments.items() if v is not None)
    error = item.error.splitlines()[0][:100] if item.error else ""
    at = item.at.isoformat(timespec="seconds")
    return f"{item.id}\t{item.state}\t{item.task}\t{arguments}\t{item.failures}\t{at}\t{error}"


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """One line per letter."""
    found = letters(settings, everything=args.all)
    if args.json:
        print(json.dumps([item.as_json() for item in found]))
        return 0
    print("id\tstate\ttask\targuments\tfailures\tlast\terror")
    for item in found:
        print(_line(item))
    return 0


def _get(settings: Settings, letter_id: int) -> Letter:
    found = letter(settings, letter_id)
    if found is None:
        raise VoiceServiceError(f"no dead letter {letter_id}", code="not_found")
    return found


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """The letter and its replay plan."""
    item = _get(settings, args.id)
    what = plan(settings, item)
    if args.json:
        print(json.dumps({**item.as_json(), "replay": {"kind": what.kind, "why": what.reason}}))
        return 0
    for key, value in item.as_json().items():
        print(f"{key}: {value}")
    print(f"replay: {what.kind} ({what.reason})")
    return 0


def send(settings: Settings, what: Plan) -> None:
    """Put the plan's work on the broker."""
    from workers.config import enqueue_capture, make_app

    celery = make_app(settings)
    if what.kind == "chain" and what.turn_id and what.start:
        enqueue_capture(celery, what.turn_id, start=what.start)
    elif what.kind == "task" and what.task:
        celery.send_task(what.task, args=what.args)


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Send again, once per turn; mark each letter replayed."""
    if args.all:
        chosen = letters(settings)
    else:
        item = _get(settings, args.id)
        if item.state == "replayed" and not args.force:
            when = item.replayed_at.isoformat(timespec="seconds") if item.replayed_at else "?"
            print(f"letter {item.id} was replayed at {when}; nothing sent (--force to resend)")
            return 0
        chosen = [item]
    sent_turns: set[str] = set()
    replayed: list[int] = []
    for item in chosen:
        what = plan(settings, item)
        duplicate = what.kind == "chain" and what.turn_id in sent_turns
        if what.kind != "nothing" and not duplicate and not args.dry_run:
            send(settings, what)
        if what.turn_id and what.kind == "chain":
            sent_turns.add(what.turn_id)
        verb = "would send" if args.dry_run else "sent"
        outcome = f"{verb}: {what.reason}" if what.kind != "nothing" else f"nothing: {what.reason}"
        if duplicate:
            outcome = f"with the chain of turn {what.turn_id} already sent"
        print(f"letter {item.id} ({item.task}): {outcome}")
        replayed.append(item.id)
    if not args.dry_run:
        mark_replayed(settings, replayed)
    if not chosen:
        print("no open dead letters")
    return 0
