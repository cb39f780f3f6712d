"""Accuracy and time of a whole-utterance STT pass, 30 s encoder window against a fitted one.

Each clip of tests/data/speech/turns is transcribed whole (as the end-of-turn pass reads a
short utterance) with ``VOICE_STT_FITTED_WINDOW`` off and on, alternating clip by clip so that
both see the same load; prints WER (jiwer, after Whisper's English normalizer, as
``bench-talk --set``) and the median and p95 time of a pass, and how many transcripts differ.
The WER column does not depend on load; times that matter need an idle machine.

    nice -n 10 .venv/bin/python scripts/stt_window.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import numpy as np
from jiwer import wer
from whisper_normalizer.english import EnglishTextNormalizer

from api.voice.audio import decode_audio
from api.voice.stt import load_stt
from core.settings import Settings

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech" / "turns"


def main(limit: int | None) -> None:
    """Both ways, clip by clip, then one line of figures each."""
    manifest = (SET / "manifest.jsonl").read_text().splitlines()
    clips = [json.loads(line) for line in manifest if line][:limit]
    audios = [decode_audio(SET / c["file"], max_seconds=60) for c in clips]
    normalize = EnglishTextNormalizer()
    base = Settings(_env_file=None)
    ways = {
        "30 s window": load_stt(base.model_copy(update={"stt_fitted_window": False})),
        "fitted window": load_stt(base.model_copy(update={"stt_fitted_window": True})),
    }
    texts: dict[str, list[str]] = {name: [] for name in ways}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for audio in audios:
        for name, stt in ways.items():
            started = time.perf_counter()
            texts[name].append(asyncio.run(stt.transcribe_all(audio)).text)
            times[name].append((time.perf_counter() - started) * 1000)
    reference = [normalize(c["text"]) for c in clips]
    print(f"{len(clips)} clips, {sum(a.size for a in audios) / 16_000:.0f} s of speech")
    print(f"{'':<14}{'wer':>7}{'median_ms':>11}{'p95_ms':>8}")
    for name in ways:
        error = wer(reference, [normalize(t) for t in texts[name]])
        median, p95 = np.percentile(times[name], [50, 95])
        print(f"{name:<14}{error:>7.3f}{median:>11.0f}{p95:>8.0f}")
    pairs = zip(*texts.values(), strict=True)
    differ = [(a, b) for a, b in pairs if normalize(a) != normalize(b)]
    print(f"transcripts that differ: {len(differ)}")
    for a, b in differ:
        print(f"  30 s: {a!r}\n  fit:  {b!r}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
