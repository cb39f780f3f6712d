"""Accuracy and time of the end-of-turn STT pass with shorter encoder windows, on the turn set.

Each clip of tests/data/speech/turns is transcribed whole (as the end-of-turn pass reads a
short utterance) with ``VOICE_STT_WINDOW_S`` = each value given; prints WER (jiwer, after
Whisper's English normalizer, as bench-talk --set) and the median and p95 time of a pass.
Run on an idle machine for times that matter; the WER column does not depend on load.

    nice -n 10 .venv/bin/python scripts/stt_window.py 30 10 2
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


def main(windows: list[int]) -> None:
    """One line of figures per window."""
    clips = [json.loads(line) for line in (SET / "manifest.jsonl").read_text().splitlines() if line]
    audios = [decode_audio(SET / c["file"], max_seconds=60) for c in clips]
    normalize = EnglishTextNormalizer()
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    stt = load_stt(base)
    print(f"{len(clips)} clips; window_s  wer     median_ms  p95_ms")
    for window in windows:
        stt.settings = base.model_copy(update={"stt_window_s": window})  # type: ignore[attr-defined]
        texts, times = [], []
        for audio in audios:
            started = time.perf_counter()
            texts.append(asyncio.run(stt.transcribe_all(audio)).text)
            times.append((time.perf_counter() - started) * 1000)
        error = wer([normalize(c["text"]) for c in clips], [normalize(t) for t in texts])
        median, p95 = np.percentile(times, [50, 95])
        print(f"{window:>17}  {error:.3f}  {median:>9.0f}  {p95:>6.0f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [30, 10, 2])
