"""``voice-service loadtest --sessions N --duration S``: N simulated talkers against replicas.

Each talker opens a session, speaks one clip of the turn set in real time (bench-talk's
client, ``api/cli/bench_set.py``), waits for the answer, and starts again with the next clip
until the duration is spent. First audio is timed from the clip's true end, on the client's
clock. Sessions the server refuses (``busy``, ``too_many_connections``, ``not_ready``,
``draining``) are counted apart from errors, and the talker waits a second before trying
again. Several ``--url`` spread the talkers over replicas.

It is bounded (at most 64 talkers for at most 600 s) and aimed at loopback addresses only:
pointing it elsewhere needs ``--allow-remote``, so it cannot be turned on someone's service
by mistake.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from api.cli.bench_set import Clip, ClipSession, load_set
from api.voice.audio import decode_audio
from core.errors import VoiceServiceError
from core.settings import Settings

MAX_SESSIONS = 64
MAX_DURATION_S = 600.0
REFUSALS = frozenset({"busy", "too_many_connections", "not_ready", "draining"})
TURN_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "speech" / "turns"
RETRY_AFTER_REFUSAL_S = 1.0
TRAILING_SILENCE_S = 1.5


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "loadtest", help="N concurrent simulated talkers; first-audio percentiles, refusals"
    )
    parser.add_argument("--sessions", type=int, required=True, help=f"talkers, 1 to {MAX_SESSIONS}")
    parser.add_argument(
        "--duration", type=float, required=True, help=f"seconds, 1 to {MAX_DURATION_S:g}"
    )
    parser.add_argument(
        "--url",
        action="append",
        default=None,
        help="a replica's ws://HOST:PORT/v1/voice (repeat for several; default from settings)",
    )
    parser.add_argument("--set", type=Path, default=TURN_SET, help="a turn set (manifest.jsonl)")
    parser.add_argument("--token", default=None, help="a user token, if the service needs one")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow addresses other than loopback"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run)


def check_url(url: str, allow_remote: bool) -> str:
    """A ws:// or wss:// URL, on loopback unless ``allow_remote``."""
    parsed = urlparse(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
        raise VoiceServiceError(f"not a ws:// URL: {url}", code="bad_argument")
    host = parsed.hostname
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not allow_remote:
        raise VoiceServiceError(
            f"{host} is not a loopback address; pass --allow-remote to load a remote service",
            code="bad_argument",
        )
    return url


@dataclass
class Tally:
    """What every talker saw."""

    first_audio_ms: list[float] = field(default_factory=list)
    turns: int = 0  # sessions that sent a whole clip
    unanswered: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        """Counts and first-audio percentiles (ms)."""
        p50 = p95 = p99 = worst = None
        if self.first_audio_ms:
            p50, p95, p99 = (
                round(float(v), 1) for v in np.percentile(self.first_audio_ms, [50, 95, 99])
            )
            worst = round(max(self.first_audio_ms), 1)
        return {
            "turns": self.turns,
            "answered": len(self.first_audio_ms),
            "unanswered": self.unanswered,
            "first_audio_p50_ms": p50,
            "first_audio_p95_ms": p95,
            "first_audio_p99_ms": p99,
            "first_audio_max_ms": worst,
            "refusals": dict(self.refusals),
            "errors": dict(self.errors),
        }


async def talker(
    index: int,
    url: str,
    clips: list[tuple[Clip, np.ndarray]],
    deadline: float,
    token: str | None,
    tally: Tally,
) -> None:
    """Session after session until ``deadline``; each speaks the next clip."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    options = argparse.Namespace(
        consent=False, voice=None, token=token, trailing_silence=TRAILING_SILENCE_S, quiet=True
    )
    turn = index
    while time.monotonic() < deadline:
        clip, audio = clips[turn % len(clips)]
        turn += 1
        session = ClipSession(options, url)
        left = deadline - time.monotonic()
        try:
            await asyncio.wait_for(session.run(audio), timeout=max(1.0, left) + 30)
        except TimeoutError:
            session.timed.append((time.monotonic(), {"type": "error", "code": "timeout"}))
        except (OSError, InvalidHandshake):
            tally.errors["unreachable"] += 1
            await asyncio.sleep(RETRY_AFTER_REFUSAL_S)
            continue
        except ConnectionClosed:
            pass  # closed by the server: what it said before is in session.timed
        result = session.result(clip)
        refused = [code for code in result.errors if code in REFUSALS]
        for code in result.errors:
            (tally.refusals if code in REFUSALS else tally.errors)[code] += 1
        if refused:
            await asyncio.sleep(RETRY_AFTER_REFUSAL_S)
            continue
        tally.turns += 1
        if result.first_audio_ms is None:
            tally.unanswered += 1
        else:
            tally.first_audio_ms.append(result.first_audio_ms)


async def load(
    urls: list[str], sessions: int, duration_s: float, clips: list[Clip], token: str | None
) -> Tally:
    """Run the talkers (spread over ``urls``) and tally what they saw."""
    decoded = [(clip, decode_audio(clip.path, max_seconds=60)) for clip in clips]
    tally = Tally()
    deadline = time.monotonic() + duration_s
    await asyncio.gather(
        *(
            talker(index, urls[index % len(urls)], decoded, deadline, token, tally)
            for index in range(sessions)
        )
    )
    return tally


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the bounds and the addresses, run, print."""
    if not 1 <= args.sessions <= MAX_SESSIONS:
        raise VoiceServiceError(f"--sessions must be 1 to {MAX_SESSIONS}", code="bad_argument")
    if not 1 <= args.duration <= MAX_DURATION_S:
        raise VoiceServiceError(
            f"--duration must be 1 to {MAX_DURATION_S:g} s", code="bad_argument"
        )
    urls = [
        check_url(url, args.allow_remote)
        for url in (args.url or [f"ws://{settings.host}:{settings.port}/v1/voice"])
    ]
    clips = load_set(args.set, "all", None)
    complete = [clip for clip in clips if clip.kind == "complete_no_pause"]
    started = time.monotonic()
    tally = asyncio.run(load(urls, args.sessions, args.duration, complete or clips, args.token))
    figures = {
        "sessions": args.sessions,
        "duration_s": args.duration,
        "urls": urls,
        "wall_s": round(time.monotonic() - started, 1),
        **tally.figures(),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"{args.sessions} talkers for {args.duration:g} s on {len(urls)} replica(s): "
        f"{figures['turns']} turns, {figures['answered']} answered, "
        f"{figures['unanswered']} unanswered"
    )
    print(
        "first audio ms: "
        f"p50 {figures['first_audio_p50_ms']}  p95 {figures['first_audio_p95_ms']}  "
        f"p99 {figures['first_audio_p99_ms']}  max {figures['first_audio_max_ms']}"
    )
    refusals = ", ".join(f"{k} {v}" for k, v in sorted(tally.refusals.items())) or "none"
    errors = ", ".join(f"{k} {v}" for k, v in sorted(tally.errors.items())) or "none"
    print(f"refusals: {refusals}")
    print(f"errors: {errors}")
    return 0
