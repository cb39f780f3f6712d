"""``voice-service bench-talk --set DIR``: a set of spoken questions over ``/v1/voice``, timed.

The set is a folder with ``manifest.jsonl`` (tests/data/speech/turns, made by
scripts/make_turn_set.py): one clip per line with its reference ``text``, ``kind`` and
``end_s``, where the turn really ends. Each clip is streamed in a new session as a microphone
would send it: 40 ms frames, each sent once it has been spoken (frame k at t0 + (k+1) x 40 ms),
then silence until the session ends (``--trailing-silence`` seconds of it at least, then until
every turn heard has been answered and nothing has come for a second; a clip with no answer
waits up to 10 s more for one, so a slow machine's answers are still seen). What is measured,
per clip, on the client's clock:

- ``first_audio_ms``: from the last voiced sample (t0 + end_s) to the first reply audio byte
  received after it;
- ``split``: a reply's audio started before the clip ended, two ``transcript`` finals came
  before it ended, or two answers were given (two ``turn_end``);
- ``late``: no reply audio within 1.5 s of the true end (or none at all);
- the final transcript: the ``transcript`` texts of the answered turns (when none was
  answered: of the turns not interrupted, else of all), scored by ``bench_report``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.exceptions import ConnectionClosed

from api.cli.talk import TalkSession
from api.voice.audio import decode_audio, float_to_pcm16
from core.audio import SAMPLE_RATE
from core.errors import VoiceServiceError
from core.settings import Settings

LATE_MS = 1500.0
FRAME_MS = 40
PATIENCE_S = 10.0  # after the trailing silence, how long a clip with no answer waits for one


@dataclass(frozen=True)
class Clip:
    """One line of the manifest."""

    path: Path
    text: str
    kind: str
    subset: str  # "tune" or "heldout"
    end_s: float


@dataclass
class ClipResult:
    """What one clip's session showed."""

    clip: Clip
    first_audio_ms: float | None = None
    split: bool = False
    late: bool = True
    reply_before_end: bool = False
    transcripts_before_end: int = 0
    answers: int = 0
    transcripts: list[str] = field(default_factory=list)
    hypothesis: str = ""
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """One row of the results file."""
        return {
            "file": self.clip.path.name,
            "kind": self.clip.kind,
            "subset": self.clip.subset,
            "end_s": self.clip.end_s,
            "reference": self.clip.text,
            "hypothesis": self.hypothesis,
            "transcripts": self.transcripts,
            "first_audio_ms": self.first_audio_ms,
            "split": self.split,
            "late": self.late,
            "reply_before_end": self.reply_before_end,
            "transcripts_before_end": self.transcripts_before_end,
            "answers": self.answers,
            "errors": self.errors,
        }


def load_set(folder: Path, subset: str, limit: int | None) -> list[Clip]:
    """The clips of ``subset`` ("all" for every one); ``limit`` takes them in turn by kind."""
    manifest = folder / "manifest.jsonl"
    try:
        lines = manifest.read_text("utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        clips = [
            Clip(folder / r["file"], r["text"], r["kind"], r["split"], float(r["end_s"]))
            for r in rows
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VoiceServiceError(f"cannot read {manifest}: {exc}", code="bad_set") from exc
    clips = [c for c in clips if subset == "all" or c.subset == subset]
    missing = [c.path.name for c in clips if not c.path.is_file()]
    if missing:
        raise VoiceServiceError(
            f"{folder}: clips missing: {', '.join(missing[:3])}", code="bad_set"
        )
    if not clips:
        raise VoiceServiceError(f"{manifest} has no clips in split {subset!r}", code="bad_set")
    if limit is None:
        return clips
    by_kind: dict[str, list[Clip]] = {}
    for clip in clips:
        by_kind.setdefault(clip.kind, []).append(clip)
    mixed = [c for group in _interleave(list(by_kind.values())) for c in group]
    return mixed[:limit]


def _interleave(groups: list[list[Clip]]) -> list[list[Clip]]:
    """Round-robin over the groups: the first of each, then the second of each, ..."""
    longest = max(len(g) for g in groups)
    return [[g[i] for g in groups if i < len(g)] for i in range(longest)]


class ClipSession(TalkSession):
    """A talk session that paces audio like a microphone and times what comes back."""

    def __init__(self, args: argparse.Namespace, url: str) -> None:
        super().__init__(args, url)
        self.t0 = self.sent_at = 0.0
        self.audio_turn = ""
        self.first_audio: dict[str, float] = {}
        self.timed: list[tuple[float, dict[str, Any]]] = []

    async def _send_audio(self, ws: Any, audio: np.ndarray) -> None:
        silence = np.zeros(int(self.args.trailing_silence * SAMPLE_RATE), np.float32)
        pcm = float_to_pcm16(np.concatenate([audio, silence]))
        step = SAMPLE_RATE * FRAME_MS // 1000 * 2
        self.t0 = time.monotonic()
        frames = len(pcm) // step
        for index in itertools.count():  # the microphone stays open until the session ends
            due = self.t0 + (index + 1) * FRAME_MS / 1000  # sent once it has been spoken
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if index < frames:
                await ws.send(pcm[index * step : (index + 1) * step])
            else:
                if not self.sent_all.is_set():
                    self.sent_at = time.monotonic()
                    self.sent_all.set()
                await ws.send(bytes(step))

    def _finished(self) -> bool:
        """As ``talk``, but a clip with no answer yet gets ``PATIENCE_S`` more for one to come."""
        if not super()._finished():
            return False
        answered = any(e.get("type") == "turn_end" for _, e in self.timed)
        return answered or time.monotonic() - self.sent_at > PATIENCE_S

    def _on_audio(self, data: bytes) -> None:
        super()._on_audio(data)
        self.first_audio.setdefault(self.audio_turn, time.monotonic())

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "audio_start":
            self.audio_turn = str(event.get("turn_id"))
        self.timed.append((time.monotonic(), event))
        super()._on_event(event)

    def result(self, clip: Clip) -> ClipResult:
        """Score the session against the clip's true end."""
        end = self.t0 + clip.end_s
        finals = [(at, e) for at, e in self.timed if e.get("type") == "transcript"]
        answered = {e.get("turn_id") for _, e in self.timed if e.get("type") == "turn_end"}
        after = [at for at in self.first_audio.values() if at >= end]
        result = ClipResult(clip)
        result.first_audio_ms = round((min(after) - end) * 1000, 1) if after else None
        result.late = result.first_audio_ms is None or result.first_audio_ms > LATE_MS
        result.reply_before_end = any(at < end for at in self.first_audio.values())
        result.transcripts_before_end = sum(at < end for at, _ in finals)
        result.answers = len(answered)
        result.split = (
            result.reply_before_end or result.transcripts_before_end >= 2 or result.answers >= 2
        )
        result.transcripts = [str(e.get("text", "")) for _, e in finals]
        cancelled = {e.get("turn_id") for _, e in self.timed if e.get("type") == "interrupted"}
        heard = [str(e.get("text", "")) for _, e in finals if e.get("turn_id") in answered]
        kept = [str(e.get("text", "")) for _, e in finals if e.get("turn_id") not in cancelled]
        result.hypothesis = " ".join(heard or kept or result.transcripts).strip()
        result.errors = [str(e.get("code")) for _, e in self.timed if e.get("type") == "error"]
        return result


async def stream_set(
    clips: list[Clip], url: str, *, concurrency: int, trailing_silence: float
) -> list[ClipResult]:
    """Stream every clip, ``concurrency`` sessions at a time; results in the clips' order."""
    options = argparse.Namespace(  # what TalkSession reads
        consent=False, voice=None, token=None, trailing_silence=trailing_silence, quiet=True
    )
    gate = asyncio.Semaphore(concurrency)

    async def one(clip: Clip) -> ClipResult:
        audio = decode_audio(clip.path, max_seconds=600)
        async with gate:
            session = ClipSession(options, url)
            timeout = 120 + PATIENCE_S + clip.end_s + trailing_silence
            try:
                await asyncio.wait_for(session.run(audio), timeout=timeout)
            except TimeoutError:
                session.timed.append((time.monotonic(), {"type": "error", "code": "timeout"}))
            except ConnectionClosed:  # refused (busy, draining) or dropped: its error came first
                if not any(e.get("type") == "error" for _, e in session.timed):
                    closed = {"type": "error", "code": "connection_closed"}
                    session.timed.append((time.monotonic(), closed))
            except OSError as exc:
                raise VoiceServiceError(f"cannot reach {url}: {exc}", code="unreachable") from exc
            return session.result(clip)

    return list(await asyncio.gather(*(one(clip) for clip in clips)))


def run_set(args: argparse.Namespace, settings: Settings) -> int:
    """Stream the set, print the table, write results.{json,md} and latency.png."""
    from api.cli.bench_report import summarize, write_results

    if not 1 <= args.concurrency <= 64:
        raise VoiceServiceError("--concurrency must be 1 to 64", code="bad_argument")
    if args.limit is not None and args.limit < 1:
        raise VoiceServiceError("--limit must be at least 1", code="bad_argument")
    trailing = 4.0 if args.trailing_silence is None else args.trailing_silence
    if not 0 <= trailing <= 60:
        raise VoiceServiceError("--trailing-silence must be 0 to 60 s", code="bad_argument")
    clips = load_set(args.set, args.split, args.limit)
    url = args.url or f"ws://{settings.host}:{settings.port}/v1/voice"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = args.out or Path(settings.data_dir) / "results" / f"bench-talk-{stamp}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoiceServiceError(f"cannot create {out}: {exc}", code="bad_output") from exc
    started = time.monotonic()
    results = asyncio.run(
        stream_set(clips, url, concurrency=args.concurrency, trailing_silence=trailing)
    )
    meta = {
        "set": str(args.set),
        "split": args.split,
        "url": url,
        "concurrency": args.concurrency,
        "trailing_silence_s": trailing,
        "clips": len(clips),
        "wall_s": round(time.monotonic() - started, 1),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    summary = summarize(results)
    table = write_results(out, meta, summary, results)
    if args.json:
        print(json.dumps({**meta, "out": str(out), "summary": summary}))
    else:
        print(table)
        print(f"results in {out}")
    return 0
