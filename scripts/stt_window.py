"""Accuracy and time of a whole-utterance STT pass: the 30 s encoder window against windows
fitted to the audio plus a margin of silence (``VOICE_STT_WINDOW_MARGIN_S``).

Each clip of tests/data/speech/turns is transcribed whole (as the end-of-turn pass reads a
short utterance) every way in turn, clip by clip, so that all see the same load; prints per
split (choose the margin on ``tune``, report ``heldout``) the WER (jiwer, after Whisper's
English normalizer, as ``bench-talk --set``), the median and p95 time of a pass, and how many
transcripts differ from the 30 s window's. Times that matter need an idle machine.

    .venv/bin/python scripts/stt_window.py [MARGIN_S ...]     # default: 1 5 7 10 15
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


def main(margins: list[int]) -> None:
    """Every way, clip by clip, then figures per split (choose on tune, report heldout)."""
    manifest = (SET / "manifest.jsonl").read_text().splitlines()
    clips = [json.loads(line) for line in manifest if line]
    audios = [decode_audio(SET / c["file"], max_seconds=60) for c in clips]
    normalize = EnglishTextNormalizer()
    base = Settings(_env_file=None)
    ways = {"30 s window": load_stt(base.model_copy(update={"stt_fitted_window": False}))}
    for margin in margins:
        update = {"stt_fitted_window": True, "stt_window_margin_s": margin}
        ways[f"audio + {margin} s"] = load_stt(base.model_copy(update=update))
    texts: dict[str, list[str]] = {name: [] for name in ways}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for audio in audios:
        for name, stt in ways.items():
            started = time.perf_counter()
            texts[name].append(asyncio.run(stt.transcribe_all(audio)).text)
            times[name].append((time.perf_counter() - started) * 1000)
    print(f"{len(clips)} clips, {sum(a.size for a in audios) / 16_000:.0f} s of speech")
    print(
        f"{'split':<9}{'encoder window':<16}{'wer':>7}{'median_ms':>11}{'p95_ms':>8}{'differ':>8}"
    )
    for split in ("tune", "heldout", "all"):
        rows = [i for i, c in enumerate(clips) if split in ("all", c["split"])]
        reference = [normalize(clips[i]["text"]) for i in rows]
        for name in ways:
            heard = [normalize(texts[name][i]) for i in rows]
            base_heard = [normalize(texts["30 s window"][i]) for i in rows]
            differ = sum(a != b for a, b in zip(heard, base_heard, strict=True))
            error = wer(reference, heard)
            median, p95 = np.percentile([times[name][i] for i in rows], [50, 95])
            print(f"{split:<9}{name:<16}{error:>7.3f}{median:>11.0f}{p95:>8.0f}{differ:>8}")


if __name__ == "__main__":
    main([int(m) for m in sys.argv[1:]] or [1, 5, 7, 10, 15])
