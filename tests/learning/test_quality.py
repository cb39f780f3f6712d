"""DNSMOS (speechmos' bundled ONNX, on CPU) and intelligibility of the real Piper voice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from api.voice.tts import load_tts
from core.settings import Settings
from learning.evaluation.quality import dnsmos, fixed_answers, speech_quality, to_16k
from learning.evaluation.transcriber import WhisperTranscriber

speechmos = pytest.importorskip("speechmos", reason="pip install 'voice-service[eval]'")


def test_the_dnsmos_models_ship_inside_the_wheel() -> None:
    onnx = sorted(p.name for p in Path(speechmos.__file__).parent.rglob("*.onnx"))
    assert "sig_bak_ovr.onnx" in onnx and "model_v8.onnx" in onnx


def test_fixed_answers_are_one_hundred_distinct_lines() -> None:
    answers = fixed_answers()
    assert len(answers) == 100 == len(set(answers))
    assert fixed_answers(3) == answers[:3]


def test_piper_scored_by_dnsmos_and_heard_back(settings: Settings) -> None:
    tts = load_tts(settings)

    async def collect(text: str, voice: str) -> bytes:
        return b"".join([c async for c in tts.synthesize(text, voice)])  # type: ignore[arg-type]

    def synthesize(text: str, voice: str) -> tuple[np.ndarray, int]:
        pcm = asyncio.run(collect(text, voice))
        return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768, tts.sample_rate

    transcriber = WhisperTranscriber(settings.resolved_stt_model_path(), settings=settings)
    figures = speech_quality(
        synthesize,
        ["friendly", "technical"],
        fixed_answers(2),
        transcriber,
        versions={"tts": "piper", "stt": transcriber.version},
    )
    print(
        {
            v: (f["dnsmos"]["ovrl_mos"], f["intelligibility_wer"])
            for v, f in figures["per_voice"].items()
        }
    )
    for voice in ("friendly", "technical"):
        f = figures["per_voice"][voice]
        assert f["dnsmos"]["ovrl_mos"]["ratings"] == 2
        assert 1.0 <= f["dnsmos"]["ovrl_mos"]["mos"] <= 5.0
        assert f["intelligibility_wer"] < 0.4  # the STT understands the voice
    assert "does not judge" in figures["measures"]
    # The predictor tells speech from noise: white noise scores far lower overall.
    noise = np.random.default_rng(7).normal(0, 0.3, 16000 * 4).astype(np.float32)
    speech = figures["per_voice"]["friendly"]["dnsmos"]["ovrl_mos"]["mos"]
    assert dnsmos(to_16k(noise, 16000))["ovrl_mos"] < speech - 0.5
