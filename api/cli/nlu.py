"""``voice-service nlu``: one utterance per line on stdin, one JSON line per utterance out."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from api.voice.nlu import load_nlu
from core.settings import Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("nlu", help="intent, domain and entities of stdin lines")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Load the configured NLU backend (and the LLM if it needs one) and stream lines."""
    nlu = load_nlu(settings)

    async def stream() -> None:
        for line in sys.stdin:
            result = await nlu.understand(line.rstrip("\n"))
            payload = {
                "intent": result.intent,
                "domain": result.domain,
                "entities": [e.model_dump() for e in result.entities],
            }
            print(json.dumps(payload, ensure_ascii=False), flush=True)

    asyncio.run(stream())
    return 0
