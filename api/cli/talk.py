"""``voice-service talk IN OUT.wav``: stream a recording to ``/v1/voice`` as a microphone would.

Sends 16 kHz PCM16 frames in real time (or ``--speed`` times faster), followed by silence so
the server hears the end of the turn; prints every event and saves the spoken reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from api.voice.audio import decode_audio, float_to_pcm16, write_wav
from core.audio import SAMPLE_RATE
from core.errors import VoiceServiceError
from core.settings import VOICES, Settings


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("talk", help="stream a recording to a running service")
    parser.add_argument("input", type=Path, help="audio file in any common format")
    parser.add_argument("output", type=Path, help="where to write the reply audio (WAV)")
    parser.add_argument("--url", default=None, help="default ws://HOST:PORT/v1/voice from settings")
    parser.add_argument("--voice", choices=VOICES, default=None)
    parser.add_argument("--consent", action="store_true", help="allow this session to be captured")
    parser.add_argument("--speed", type=float, default=1.0, help="1.0 is real time")
    parser.add_argument("--frame-ms", type=int, default=40, help="audio per frame, 20 to 100")
    parser.add_argument("--trailing-silence", type=float, default=2.0, help="seconds sent after")
    parser.add_argument("--token", default=None, help="a token from 'voice-service token issue'")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after this long")
    parser.add_argument(
        "--wait", type=float, default=15.0, help="after the audio, wait this long for a turn"
    )
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Stream, listen, save."""
    if not 20 <= args.frame_ms <= 100 or args.speed <= 0:
        raise VoiceServiceError(
            "--frame-ms must be 20 to 100 and --speed positive", code="bad_argument"
        )
    if not args.output.parent.is_dir():
        raise VoiceServiceError(
            f"output folder does not exist: {args.output.parent}", code="bad_output"
        )
    audio = decode_audio(args.input, max_seconds=3600)
    url = args.url or f"ws://{settings.host}:{settings.port}/v1/voice"
    session = TalkSession(args, url)
    try:
        asyncio.run(asyncio.wait_for(session.run(audio), timeout=args.timeout))
    except TimeoutError as exc:
        raise VoiceServiceError(
            f"no complete answer within {args.timeout:g} s", code="timeout"
        ) from exc
    except OSError as exc:
        raise VoiceServiceError(f"cannot reach {url}: {exc}", code="unreachable") from exc
    write_wav(args.output, bytes(session.reply), session.sample_rate)
    if not args.json:
        print(
            f"wrote {args.output} ({len(session.reply) / 2 / session.sample_rate:.1f} s of reply)"
        )
    return 1 if session.failed else 0


class TalkSession:
    """One connection: a sender task for audio, this task for events."""

    def __init__(self, args: argparse.Namespace, url: str) -> None:
        self.args, self.url = args, url
        self.reply = bytearray()
        self.sample_rate = 22_050
        self.open_turns: set[str] = set()
        self.sent_all = asyncio.Event()
        self.sent_at = 0.0
        self.answered = False
        self.failed = False
        self.last_event = time.monotonic()
        self.events: list[dict[str, Any]] = []
        self.quiet = bool(getattr(args, "quiet", False))

    async def run(self, audio: np.ndarray) -> None:
        """Connect, start, stream, and stop once every turn heard has been answered."""
        import websockets

        start: dict[str, Any] = {"type": "start", "consent": self.args.consent}
        if self.args.voice:
            start["voice"] = self.args.voice
        if self.args.token:
            start["token"] = self.args.token
        async with websockets.connect(self.url, max_size=2**22) as ws:
            await ws.send(json.dumps(start))
            sender = asyncio.create_task(self._send_audio(ws, audio))
            try:
                await self._receive(ws)
            finally:
                sender.cancel()

    async def _send_audio(self, ws: Any, audio: np.ndarray) -> None:
        silence = np.zeros(int(self.args.trailing_silence * SAMPLE_RATE), np.float32)
        pcm = float_to_pcm16(np.concatenate([audio, silence]))
        step = SAMPLE_RATE * self.args.frame_ms // 1000 * 2
        started = time.monotonic()
        for index, offset in enumerate(range(0, len(pcm), step)):
            due = started + index * self.args.frame_ms / 1000 / self.args.speed
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await ws.send(pcm[offset : offset + step])
        self.sent_at = time.monotonic()
        self.sent_all.set()

    async def _receive(self, ws: Any) -> None:
        while True:
            if self._finished():
                await ws.send(json.dumps({"type": "stop"}))
                return
            try:
                message = await asyncio.wait_for(ws.recv(), timeout=0.25)
            except TimeoutError:
                continue
            self.last_event = time.monotonic()
            if isinstance(message, bytes):
                self._on_audio(message)
                continue
            self._on_event(json.loads(message))

    def _on_audio(self, data: bytes) -> None:
        self.reply.extend(data)

    def _finished(self) -> bool:
        """All sent, every turn heard answered, and quiet; a slow server gets ``--wait`` s."""
        if not self.sent_all.is_set() or self.open_turns:
            return False
        now = time.monotonic()
        waited = self.answered or now - self.sent_at > getattr(self.args, "wait", 15.0)
        return waited and now - self.last_event > 1.0

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "transcript":
            self.open_turns.add(event["turn_id"])
        elif kind in ("turn_end", "interrupted"):
            self.open_turns.discard(event.get("turn_id") or "")
            self.answered = True
        elif kind == "audio_start":
            self.sample_rate = int(event["sample_rate"])
        elif kind == "error":
            self.failed = True
            self.open_turns.clear()
        self.events.append(event)
        if self.quiet:
            return
        if self.args.json:
            print(json.dumps(event), flush=True)
        else:
            print(_describe(event), file=sys.stdout, flush=True)


def _describe(event: dict[str, Any]) -> str:
    kind = event.get("type")
    if kind in ("partial_transcript", "transcript", "response_delta"):
        return f"{kind}: {event.get('text', '')}"
    if kind == "turn_end":
        latency = event.get("latency", {})
        return (
            f"turn_end: {event.get('response')!r} (first audio {latency.get('first_audio_ms')} ms)"
        )
    if kind == "error":
        return f"error {event.get('code')}: {event.get('message')}"
    return f"{kind}: " + json.dumps({k: v for k, v in event.items() if k != "type"})
