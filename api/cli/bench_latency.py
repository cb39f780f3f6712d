"""``bench-cache``: first audio of a question answered from the caches against answered anew.

Both are timed from the moment the transcript is ready to the first audio chunk (the cache
key is the transcript, so the end-of-turn STT pass comes before either and is left out).
Uncached runs are made with the caches off; the same question is asked each time, so the
LLM re-reads no prompt (llama.cpp keeps the common prefix): uncached figures are the best
case, and the ratio an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from api.voice.answer_cache import Caches
from api.voice.audio import decode_audio
from api.voice.chain import VoiceChain
from api.voice.events import AudioOut
from api.voice.models import Models
from core.errors import VoiceServiceError
from core.messages import Transcript
from core.settings import VOICES, Settings, VoiceName


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    cache = subparsers.add_parser(
        "bench-cache", help="first audio of a cached question against an uncached one"
    )
    cache.add_argument("input", type=Path, help="a spoken question (any audio format)")
    cache.add_argument("--runs", type=int, default=5)
    cache.add_argument("--voice", choices=VOICES, default="friendly")
    cache.add_argument("--json", action="store_true", help="print one JSON object")
    cache.set_defaults(run=run_cache)


async def _first_audio_ms(models: Models, transcript: Transcript, voice: VoiceName) -> float:
    chain = VoiceChain(models)
    started = time.perf_counter()
    first = None
    async for event in chain.run_turn(
        conversation=chain.new_conversation(), voice=voice, transcript=transcript
    ):
        if isinstance(event, AudioOut) and first is None:
            first = (time.perf_counter() - started) * 1000
    if first is None:
        raise VoiceServiceError("the answer had no audio", code="no_answer")
    return first


def run_cache(args: argparse.Namespace, settings: Settings) -> int:
    """Load once (caches in-process unless VOICE_REDIS_URL is set), then time both ways."""
    if args.runs < 1:
        raise VoiceServiceError("--runs must be at least 1", code="bad_argument")
    audio = decode_audio(args.input, max_seconds=settings.max_utterance_s)
    models = Models.load(settings.model_copy(update={"response_cache": True, "speech_cache": True}))
    transcript = asyncio.run(models.stt.transcribe_all(audio))
    if not transcript.text.strip():
        raise VoiceServiceError("no speech was recognised in the input", code="no_speech")
    caches, models.caches = models.caches, Caches()  # off for the uncached runs
    uncached = [
        asyncio.run(_first_audio_ms(models, transcript, args.voice)) for _ in range(args.runs)
    ]
    models.caches = caches
    asyncio.run(_first_audio_ms(models, transcript, args.voice))  # fills the caches
    cached = [
        asyncio.run(_first_audio_ms(models, transcript, args.voice)) for _ in range(args.runs)
    ]
    result = {
        "input": str(args.input),
        "transcript": transcript.text,
        "store": "redis" if settings.redis_url else "in-process",
        "runs": args.runs,
        "uncached_first_audio_ms": round(statistics.median(uncached), 1),
        "cached_first_audio_ms": round(statistics.median(cached), 1),
    }
    result["ratio"] = round(result["cached_first_audio_ms"] / result["uncached_first_audio_ms"], 4)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.input}: {transcript.text!r}, {args.runs} runs each, {result['store']} caches")
    print("first audio after the transcript, median ms:")
    print(f"  uncached {result['uncached_first_audio_ms']:>8}")
    print(f"  cached   {result['cached_first_audio_ms']:>8}")
    print(f"  ratio    {result['ratio']:>8}  (goal: at most 0.10)")
    return 0
