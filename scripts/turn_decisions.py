"""What the end-of-turn classifiers say at every pause of the turn set, and what timing follows.

    python scripts/turn_decisions.py [--set tests/data/speech/turns] [--split tune]
        [--cache FILE] [--pause-s 0.3]

For each clip of the split it transcribes the audio up to each pause and up to the end (as
the session's final pass does, 64 ms into the silence) and asks the word classifier
(``turn_text.TextTurnClassifier``) and the audio model (``turn_detector.SmartTurn``) for
P(complete). It then replays the session's rule offline for a grid of settings: a pause is a
split when the silence asked for is shorter than the pause; the end is late when the silence
asked for plus ``--answer-ms`` (the first audio after the commit) passes 1.5 s. It prints
the best settings (fewest splits, then fewest late turns, then the lowest mean wait at the
end) and the per-clip decisions under the configured ones. Offline: no server, no LLM.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.voice.audio import decode_audio  # noqa: E402
from api.voice.stt import load_stt  # noqa: E402
from api.voice.turn_detector import SmartTurn, TurnTiming  # noqa: E402
from api.voice.turn_text import TextTurnClassifier  # noqa: E402
from core.errors import BackendUnavailable  # noqa: E402
from core.settings import Settings  # noqa: E402

RATE = 16_000
LATE_S = 1.5
SEEN_SILENCE_S = 0.064  # the final pass starts after two silent 32 ms frames


def pauses_in(audio: np.ndarray, min_s: float, recorded: bool = False) -> list[tuple[float, float]]:
    """(start, length) of each stretch of silence inside the clip.

    Synthesized clips pause in exact digital silence; a recording (``recorded``) has room
    noise there, so its pauses are the 32 ms frames below an RMS of 0.02.
    """
    quiet = np.abs(audio) < 1e-3
    if recorded:
        frames = audio[: audio.size // 512 * 512].reshape(-1, 512)
        quiet = np.repeat(np.sqrt((frames**2).mean(axis=1)) < 0.02, 512)
    found, start = [], None
    for index, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = index
        elif not q and start is not None:
            if start > 0 and index < audio.size and (index - start) / RATE >= min_s:
                found.append((start / RATE, (index - start) / RATE))
            start = None
    return found


def measure(set_dir: Path, split: str, min_pause_s: float) -> list[dict]:
    """Transcripts and both classifiers' P(complete) at every pause and at the end."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    stt = load_stt(settings)
    text_model = TextTurnClassifier(settings)
    try:
        audio_model: SmartTurn | None = SmartTurn(settings)
    except BackendUnavailable as exc:  # the turn-audio extra is optional
        print(f"without the audio model: {exc}", file=sys.stderr)
        audio_model = None
    rows = [json.loads(line) for line in (set_dir / "manifest.jsonl").read_text().splitlines()]
    out = []
    for row in rows:
        if row.get("split") != split:
            continue
        audio = decode_audio(set_dir / row["file"], max_seconds=60)
        recorded = row.get("voice") == "human"
        pauses = pauses_in(audio, min_pause_s, recorded)
        points = [(start, length, False) for start, length in pauses]
        points.append((audio.size / RATE, 0.0, True))
        for start, length, is_end in points:
            cut = audio[: int((start + SEEN_SILENCE_S) * RATE)]
            if is_end:  # the clip stops at its last voiced sample: the session hears silence
                cut = np.concatenate([cut, np.zeros(int(SEEN_SILENCE_S * RATE), np.float32)])
            text = asyncio.run(stt.transcribe_all(cut)).text
            out.append(
                {
                    "file": row["file"],
                    "kind": row["kind"],
                    "at_s": round(start, 2),
                    "pause_s": round(length, 2),
                    "end": is_end,
                    "text": text,
                    "p_text": text_model.probability(cut, text) if text else 0.0,
                    "p_audio": audio_model.probability(cut, text) if audio_model else None,
                }
            )
            print(json.dumps(out[-1]), file=sys.stderr)
    return out


def mixed(point: dict, weight: float) -> float:
    """The ``combined`` detector's probability for a point."""

    def logit(p: float) -> float:
        p = min(max(p, 1e-4), 1 - 1e-4)
        return math.log(p / (1 - p))

    if not weight:
        return float(point["p_text"])
    value = weight * logit(point["p_audio"]) + (1 - weight) * logit(point["p_text"])
    return 1 / (1 + math.exp(-value))


def replay(points: list[dict], weight: float, timing: TurnTiming, answer_ms: int) -> dict:
    """Splits, late turns and the mean wait at the end under one setting."""
    splits = late = 0
    waits = []
    for point in points:
        wait_ms = timing.silence_needed_ms(mixed(point, weight))
        if point["end"]:
            waits.append(wait_ms)
            late += (wait_ms + answer_ms) / 1000 > LATE_S
        elif point["text"]:
            splits += wait_ms < point["pause_s"] * 1000
    return {"splits": splits, "late": late, "mean_end_wait_ms": round(float(np.mean(waits)))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=ROOT / "tests/data/speech/turns")
    parser.add_argument("--split", default="tune")
    parser.add_argument("--cache", type=Path, help="reuse (or write) the measured points")
    parser.add_argument("--pause-s", type=float, default=0.3, help="shortest pause looked at")
    parser.add_argument("--answer-ms", type=int, default=150, help="first audio after commit")
    args = parser.parse_args()
    if args.cache is not None and args.cache.exists():
        points = json.loads(args.cache.read_text())
        text_model = TextTurnClassifier(Settings(_env_file=None))  # type: ignore[call-arg]
        for point in points:  # the word classifier may have changed since: ask it again
            text = point["text"]
            point["p_text"] = text_model.probability(np.zeros(0), text) if text else 0.0
    else:
        points = measure(args.set, args.split, args.pause_s)
        if args.cache is not None:
            args.cache.write_text(json.dumps(points))
    ends = sum(p["end"] for p in points)
    print(f"{ends} clips, {len(points) - ends} pauses ({args.split} split)")
    results = []
    with_audio = all(p["p_audio"] is not None for p in points)
    for weight, sure, unsure, short, long in itertools.product(
        (0.0, 0.15, 0.3, 0.5, 1.0) if with_audio else (0.0,),
        (0.85, 0.9, 0.95, 0.97, 0.99),
        (0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        (300, 500, 700),
        (1300, 1350, 1400, 1500),
    ):
        if unsure >= sure:
            continue
        timing = TurnTiming(short, long, sure, unsure)
        results.append((replay(points, weight, timing, args.answer_ms), weight, timing))
    results.sort(key=lambda r: (r[0]["splits"], r[0]["late"], r[0]["mean_end_wait_ms"]))
    print("best settings (splits, late, mean wait at the end):")
    for score, weight, timing in results[:12]:
        print(f"  {score}  audio weight {weight}  {timing}")
    print("best per audio weight (0: words alone, 1: smart-turn alone):")
    for weight in sorted({r[1] for r in results}):
        score, _, timing = next(r for r in results if r[1] == weight)
        print(f"  {weight}: {score}  {timing}")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    timing = TurnTiming.from_settings(settings)
    weight = settings.turn_audio_weight if settings.turn_detector == "combined" else 0.0
    weight = 1.0 if settings.turn_detector == "smart_turn" else weight
    print(f"configured: {replay(points, weight, timing, args.answer_ms)}  weight {weight} {timing}")
    for point in points:
        wait = timing.silence_needed_ms(mixed(point, weight))
        bad = (not point["end"] and point["text"] and wait < point["pause_s"] * 1000) or (
            point["end"] and (wait + args.answer_ms) / 1000 > LATE_S
        )
        print(
            f"{'!!' if bad else '  '} {point['file']:34} {'end' if point['end'] else 'pause':5}"
            f" {point['pause_s']:4.2f}s  text {point['p_text']:.2f}"
            f" audio {point['p_audio'] or 0:.2f}"
            f" -> wait {wait:4d} ms  {point['text']!r}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
