"""Speech quality without listeners: DNSMOS estimates and intelligibility of the TTS output.

A fixed list of answers (``data/answers.txt``, 100 lines) is spoken by each voice. Each clip
is scored by DNSMOS (Microsoft's Deep Noise Suppression MOS predictor, P.835 and P.808
heads; the ONNX models ship inside the ``speechmos`` wheel and run on CPU) and transcribed by
the STT, whose WER against the answer text is the intelligibility figure.

What DNSMOS measures: a listener's expected 1-5 rating of *signal distortion* (SIG),
*background noise* (BAK) and *overall quality* (OVRL) per ITU-T P.835, and a P.808 overall
score; it was trained on noisy and enhanced human speech. What it does not: naturalness of
prosody, whether words are pronounced right, whether the voice suits the content, or
anything about meaning. Synthetic speech is outside its training data, so its figures
compare voices and model versions with each other; they are not a human MOS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import numpy as np

from core.audio import SAMPLE_RATE
from learning.evaluation.mos import mos_interval
from learning.evaluation.stt import Transcriber, score

Synthesize = Callable[[str, str], tuple[np.ndarray, int]]  # (text, voice) -> audio, rate
HEADS = ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos")


def fixed_answers(limit: int | None = None) -> list[str]:
    """The fixed answer texts, in file order (the first ``limit`` of them)."""
    text = resources.files("learning.evaluation").joinpath("data/answers.txt").read_text("utf-8")
    answers = [line.strip() for line in text.splitlines() if line.strip()]
    return answers[:limit] if limit is not None else answers


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    """Resample to 16 kHz (polyphase), float32 in [-1, 1]."""
    from math import gcd

    from scipy.signal import resample_poly

    audio = np.asarray(audio, dtype=np.float32)
    if rate != SAMPLE_RATE:
        g = gcd(rate, SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, rate // g).astype(np.float32)
    return np.clip(audio, -1.0, 1.0)


def dnsmos(audio: np.ndarray) -> dict[str, float]:
    """DNSMOS of 16 kHz mono audio: OVRL, SIG, BAK (P.835) and P.808, each 1-5."""
    try:
        from speechmos import dnsmos as predictor
    except ImportError as exc:
        from core.errors import VoiceServiceError

        raise VoiceServiceError(
            "DNSMOS needs speechmos, librosa and onnxruntime: pip install 'voice-service[eval]'",
            code="backend_unavailable",
        ) from exc
    result = predictor.run(audio.astype(np.float32), sr=SAMPLE_RATE)
    return {head: round(float(result[head]), 3) for head in HEADS}


def speech_quality(
    synthesize: Synthesize,
    voices: Sequence[str],
    answers: Sequence[str],
    transcriber: Transcriber,
    *,
    versions: dict[str, str],
) -> dict[str, Any]:
    """DNSMOS and intelligibility per voice over ``answers``, naming the models used."""
    per_voice: dict[str, Any] = {}
    for voice in voices:
        heads: dict[str, list[float]] = {head: [] for head in HEADS}
        pairs = []
        for index, text in enumerate(answers):
            audio = to_16k(*synthesize(text, voice))
            for head, value in dnsmos(audio).items():
                heads[head].append(value)
            pairs.append((f"{voice}-{index:03d}", voice, text, transcriber(audio)))
        intelligibility = score(pairs)
        per_voice[voice] = {
            "answers": len(answers),
            "dnsmos": {head: mos_interval(values) for head, values in heads.items()},
            "intelligibility_wer": intelligibility["overall"]["wer"],
            "intelligibility": intelligibility["overall"],
            "worst": intelligibility["worst"][:5],
        }
    return {
        "models": versions,
        "answers": len(answers),
        "per_voice": per_voice,
        "measures": (
            "DNSMOS predicts listeners' 1-5 ratings of signal distortion (SIG), background "
            "noise (BAK) and overall quality (OVRL, P.835; P808) from audio alone. It was "
            "trained on human speech with noise, not on synthetic speech: it does not judge "
            "prosody, pronunciation, naturalness or meaning, so compare voices and versions "
            "with it, not with a human MOS. Intelligibility is the STT's WER on the spoken "
            "answer."
        ),
    }
