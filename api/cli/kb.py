"""``voice-service kb add FILE...``: add documents to the knowledge base."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.voice.kb import KnowledgeBase, add_documents
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register the command and its own subcommands."""
    parser = subparsers.add_parser("kb", help="manage the knowledge base")
    actions = parser.add_subparsers(dest="kb_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="add .jsonl passages (id, title, text, source) or .txt/.md documents"
    )
    add.add_argument("files", nargs="+", type=Path)
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="list passage ids and sources")
    listing.set_defaults(run=run_list)


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    """Validate every file, then store them; the service picks them up at its next start."""
    count = add_documents(args.files, settings.kb_dir)
    total = len(KnowledgeBase.load(settings.kb_dir).passages)
    print(f"added {count} passages to {settings.kb_dir} ({total} in the knowledge base)")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """Every passage id with its source."""
    for passage in KnowledgeBase.load(settings.kb_dir).passages:
        print(f"{passage.id}\t{passage.source}")
    return 0
