"""``voice-service ask IN OUT.wav``: run the whole chain in-process on an audio file."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from api.voice.audio import decode_audio, write_wav
from api.voice.chain import VoiceChain
from api.voice.events import AudioOut, SourcesFound, TranscriptReady, TurnFinished, Understood
from api.voice.models import Models
from core.errors import VoiceServiceError
from core.settings import VOICES, Settings, VoiceName


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("ask", help="answer a recorded question with a spoken WAV")
    parser.add_argument("input", type=Path, help="audio file in any common format")
    parser.add_argument("output", type=Path, help="where to write the spoken answer (WAV)")
    parser.add_argument("--voice", choices=VOICES, default=None, help="voice preset")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the paths and the audio before loading any model, then answer."""
    if not args.output.parent.is_dir():
        raise VoiceServiceError(
            f"output folder does not exist: {args.output.parent}", code="bad_output"
        )
    audio = decode_audio(args.input, max_seconds=settings.max_utterance_s)
    models = Models.load(settings)
    result = asyncio.run(answer(models, audio, args.voice or settings.default_voice, args.output))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"you said: {result['transcript']}")
        print(f"intent: {result['intent']} ({result['domain']})")
        print(f"answer: {result['response']}")
        print(f"wrote {args.output} (first audio after {result['latency']['first_audio_ms']} ms)")
    return 0


async def answer(models: Models, audio: Any, voice: VoiceName, output: Path) -> dict[str, Any]:
    """Run one turn and write its audio; returns the ``--json`` object."""
    chain = VoiceChain(models)
    pcm = bytearray()
    sample_rate = models.tts.sample_rate
    result: dict[str, Any] = {"voice": voice}
    async for event in chain.run_turn(
        conversation=chain.new_conversation(), voice=voice, audio=audio
    ):
        if isinstance(event, TranscriptReady):
            result["transcript"] = event.transcript.text
        elif isinstance(event, Understood):
            result["intent"], result["domain"] = event.nlu.intent, event.nlu.domain
            result["entities"] = [e.model_dump() for e in event.nlu.entities]
        elif isinstance(event, SourcesFound):
            result["sources"] = [{"id": p.id, "source": p.source} for p in event.passages]
        elif isinstance(event, AudioOut):
            pcm.extend(event.pcm)
            sample_rate = event.sample_rate
        elif isinstance(event, TurnFinished):
            result["response"] = event.response
            result["latency"] = event.latency.model_dump()
    try:
        write_wav(output, bytes(pcm), sample_rate)
    except OSError as exc:
        raise VoiceServiceError(
            f"cannot write {output}: {exc.strerror or exc}", code="bad_output"
        ) from exc
    print_order = [
        "transcript",
        "intent",
        "domain",
        "entities",
        "sources",
        "response",
        "voice",
        "latency",
    ]
    return {key: result.get(key) for key in print_order}
