"""``voice-service storage``: look into the capture store and set its lifecycle rules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from capture.keys import REGIONS
from capture.lifecycle import estimate, lifecycle_rules
from capture.store import open_store
from core.errors import VoiceServiceError
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register ``storage ls``, ``storage cat`` and ``storage apply-lifecycle``."""
    parser = subparsers.add_parser("storage", help="the capture object store")
    actions = parser.add_subparsers(dest="storage_command", required=True, metavar="ACTION")
    listing = actions.add_parser("ls", help="list keys under PREFIX")
    listing.add_argument("prefix", nargs="?", default="")
    listing.set_defaults(run=run_ls)
    cat = actions.add_parser("cat", help="write one object, decrypted, to stdout")
    cat.add_argument("key")
    cat.set_defaults(run=run_cat)
    lifecycle = actions.add_parser(
        "apply-lifecycle", help="put the bucket lifecycle rules (S3) and estimate their cost"
    )
    lifecycle.add_argument("--ia-after", type=int, default=30, help="days until STANDARD_IA")
    lifecycle.add_argument("--glacier-after", type=int, default=None, help="days until GLACIER")
    lifecycle.add_argument("--turns-per-month", type=int, default=100_000)
    lifecycle.add_argument("--audio-kb", type=float, default=180.0, help="mean FLAC size")
    lifecycle.add_argument("--dry-run", action="store_true", help="print, change nothing")
    lifecycle.add_argument(
        "--create-buckets", action="store_true", help="create missing buckets first (S3)"
    )
    lifecycle.set_defaults(run=run_lifecycle)
    for action in (listing, cat, lifecycle):
        action.add_argument("--region", choices=REGIONS, default=None)


def run_ls(args: argparse.Namespace, settings: Settings) -> int:
    """One key per line."""
    for key in open_store(settings, args.region or settings.default_region).list(args.prefix):
        print(key)
    return 0


def run_cat(args: argparse.Namespace, settings: Settings) -> int:
    """The object's bytes on stdout."""
    from capture.store import ObjectNotFound

    store = open_store(settings, args.region or settings.default_region)
    try:
        data = store.get(args.key)
    except ObjectNotFound as exc:
        raise VoiceServiceError(
            f"no object {args.key!r} in {store.bucket}", code="not_found"
        ) from exc
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


def run_lifecycle(args: argparse.Namespace, settings: Settings) -> int:
    """Print the rules and the cost comparison; put the rules unless ``--dry-run``."""
    if args.turns_per_month < 0 or args.audio_kb <= 0:
        raise VoiceServiceError("volumes must be positive", code="bad_argument")
    rules = lifecycle_rules(settings.retention_days, args.ia_after, args.glacier_after)
    cost = estimate(rules, args.turns_per_month, args.audio_kb)
    print(json.dumps({"Rules": rules}, indent=2))
    print(
        f"monthly cost at {args.turns_per_month:,} turns of {args.audio_kb:g} KB: "
        f"${cost.with_rules:,.2f} with these rules, ${cost.standard_only:,.2f} keeping all "
        f"in STANDARD for {settings.retention_days} days (us-east-1 list prices)"
    )
    for warning in cost.warnings:
        print(f"warning: {warning}")
    if settings.storage != "s3":
        print("the local store keeps no lifecycle rules: they apply to S3 buckets only")
        return 0
    if args.dry_run:
        return 0
    from capture.store_s3 import S3Store

    regions = [args.region] if args.region else list(REGIONS)
    for region in regions:
        store = open_store(settings, region)
        assert isinstance(store, S3Store)
        if args.create_buckets:
            store.ensure_bucket()
        store.client.put_bucket_lifecycle_configuration(
            Bucket=store.bucket, LifecycleConfiguration={"Rules": rules}
        )
        print(f"applied to {store.bucket}")
    return 0
