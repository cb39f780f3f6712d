"""``voice-service admin``: API keys for the review API; ``voice-service review``: batches."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import VoiceServiceError
from core.settings import Settings
from review.keys import ROLES, create_key, list_keys, revoke_key


def add_parser(subparsers: Any) -> None:
    """Register ``admin create-key|list-keys|revoke-key`` and ``review build-batch``."""
    admin = subparsers.add_parser("admin", help="API keys of the review API")
    actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create-key", help="make a key and print it (once)")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--name", required=True)
    create.set_defaults(run=run_create, needs_database=True)
    listing = actions.add_parser("list-keys", help="id, name, role, created, last used")
    listing.set_defaults(run=run_list, needs_database=True)
    revoke = actions.add_parser("revoke-key", help="revoke a key by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=run_revoke, needs_database=True)
    review = subparsers.add_parser("review", help="the manual-review queue")
    review_actions = review.add_subparsers(dest="action", required=True, metavar="ACTION")
    batch = review_actions.add_parser("build-batch", help="batch the pending items now")
    batch.set_defaults(run=run_build_batch, needs_database=True)


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    """Print the new key: it is not kept anywhere and cannot be shown again."""
    try:
        key_id, key = create_key(settings, args.name, args.role)
    except ValueError as exc:
        raise VoiceServiceError(str(exc), code="bad_argument") from exc
    print(f"key {key_id} ({args.role}, {args.name}): {key}")
    print("store it now: it is shown only once")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """One line per key; never the key."""
    print("id\tname\trole\tcreated\tlast used\tstatus")
    for key in list_keys(settings):
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        status = "revoked" if key.revoked_at else "active"
        created = key.created_at.isoformat(timespec="seconds")
        print(f"{key.id}\t{key.name}\t{key.role}\t{created}\t{used}\t{status}")
    return 0


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke; an unknown id is an error."""
    if not revoke_key(settings, args.id):
        raise VoiceServiceError(f"no key {args.id}", code="not_found")
    print(f"key {args.id} revoked")
    return 0


def run_build_batch(args: argparse.Namespace, settings: Settings) -> int:
    """Gather the pending review items into a batch, as the weekly task does."""
    from review.batches import build_batch

    batch_id = build_batch(settings)
    print(f"batch {batch_id}" if batch_id is not None else "nothing to review")
    return 0
