"""Accuracy and time of a whole-utterance STT pass: the 30 s encoder window against windows
fitted to the audio plus a margin of silence (``VOICE_STT_WINDOW_MARGIN_S``).

Each clip of tests/data/speech/turns is transcribed whole (as the end-of-turn pass reads a
short utterance), and cut as a session cuts it (0.1, 0.2 or 0.3 s before the first voiced
sample to 64 ms after the last), every way in turn, clip by clip, so that all see the same
load; prints a table per split (choose on ``tune``, report ``heldout``) of the WER (jiwer,
after Whisper's English normalizer, as ``bench-talk --set``) and, for whole clips, the median
and p95 time of a pass. Times that matter need an idle machine.

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
from core.audio import SAMPLE_RATE
from core.settings import Settings

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech" / "turns"
LEADS_S = (0.1, 0.2, 0.3)


def session_cut(audio: np.ndarray, lead_s: float) -> np.ndarray:
    """The clip as a session hands it to the end-of-turn pass: from ``lead_s`` before the
    first voiced sample (the recorder keeps up to 0.3 s) to 64 ms into the silence after."""
    voiced = np.flatnonzero(np.abs(audio) > 0.01)
    start = max(0, int(voiced[0]) - int(lead_s * SAMPLE_RATE)) if voiced.size else 0
    return np.concatenate([audio[start:], np.zeros(int(0.064 * SAMPLE_RATE), np.float32)])


def main(margins: list[int]) -> None:
    """Every way, clip by clip, then figures per split (choose on tune, report heldout)."""
    manifest = (SET / "manifest.jsonl").read_text().splitlines()
    clips = [json.loads(line) for line in manifest if line]
    whole = [decode_audio(SET / c["file"], max_seconds=60) for c in clips]
    cuts = {"whole clip": whole}
    for lead in LEADS_S:
        cuts[f"cut, {lead} s lead"] = [session_cut(a, lead) for a in whole]
    normalize = EnglishTextNormalizer()
    base = Settings(_env_file=None)
    ways = {"30 s window": load_stt(base.model_copy(update={"stt_fitted_window": False}))}
    for margin in margins:
        update = {"stt_fitted_window": True, "stt_window_margin_s": margin}
        ways[f"audio + {margin} s"] = load_stt(base.model_copy(update=update))
    texts: dict[tuple[str, str], list[str]] = {(cut, name): [] for cut in cuts for name in ways}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for index in range(len(clips)):
        for cut, audios in cuts.items():
            for name, stt in ways.items():
                started = time.perf_counter()
                texts[cut, name].append(asyncio.run(stt.transcribe_all(audios[index])).text)
                if cut == "whole clip":
                    times[name].append((time.perf_counter() - started) * 1000)
    print(f"{len(clips)} clips, {sum(a.size for a in whole) / SAMPLE_RATE:.0f} s of speech")
    print("| split | audio | encoder window | WER | median ms | p95 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for split in ("tune", "heldout"):
        rows = [i for i, c in enumerate(clips) if c["split"] == split]
        reference = [normalize(clips[i]["text"]) for i in rows]
        for cut in cuts:
            for name in ways:
                error = wer(reference, [normalize(texts[cut, name][i]) for i in rows])
                median, p95 = np.percentile([times[name][i] for i in rows], [50, 95])
                timing = f"{median:.0f} | {p95:.0f}" if cut == "whole clip" else " | "
                print(f"| {split} | {cut} | {name} | {error:.3f} | {timing} |")


if __name__ == "__main__":
    main([int(m) for m in sys.argv[1:]] or [1, 5, 7, 10, 15])
