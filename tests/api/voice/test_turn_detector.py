"""The end-of-turn classifiers: their decisions on fixed transcripts and clips, and load errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from api.voice.audio import decode_audio
from api.voice.endpointing import EndOfTurn
from api.voice.models import Models
from api.voice.turn_detector import TurnTiming, load_turn_detector, log_mel
from api.voice.turn_text import TextTurnClassifier
from core.errors import BackendUnavailable
from core.settings import Settings
from tests.conftest import speech_clip
from tests.utils.audio import spoken

RATE = 16_000
TIMING = TurnTiming()  # the defaults of core.settings


@pytest.fixture(scope="module")
def words_model(settings: Settings) -> TextTurnClassifier:
    return TextTurnClassifier(settings)


def test_the_silence_follows_the_probability() -> None:
    timing = TurnTiming(complete_ms=300, incomplete_ms=1300, sure=0.95, unsure=0.55)
    assert timing.silence_needed_ms(0.99) == timing.silence_needed_ms(0.95) == 300
    assert timing.silence_needed_ms(0.2) == timing.silence_needed_ms(0.55) == 1300
    assert timing.silence_needed_ms(0.75) == 800  # half way
    assert timing.silence_needed_ms(0.1) == timing.silence_needed_ms(0.01) == 2000  # cut off
    assert timing.longest_ms == 2000
    assert timing == TurnTiming.from_settings(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            end_of_turn_silence_ms=300,
            incomplete_turn_silence_ms=1300,
            turn_complete_probability=0.95,
            turn_incomplete_probability=0.55,
            hesitant_turn_silence_ms=2000,
            turn_hesitant_probability=0.1,
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "Um, so, how many?",  # Whisper punctuates a cut-off question
        "What is the boiling point of",
        "How many ounces are in a",
        "So, um,",
        "Could you tell me the",
        "And so my fellow Americans",  # jfk.flac at its first pause
    ],
)
def test_unfinished_words_ask_for_the_long_silence(
    words_model: TextTurnClassifier, text: str
) -> None:
    probability = words_model.probability(np.zeros(0, np.float32), text)
    assert TIMING.silence_needed_ms(probability) >= TIMING.incomplete_ms, probability


@pytest.mark.parametrize(
    "text",
    [
        "What is the speed of light?",
        "Okay, thanks.",
        "What is the atomic number of carbon?",
        "How many bones are in the human body?",
    ],
)
def test_finished_questions_are_answered_sooner(words_model: TextTurnClassifier, text: str) -> None:
    probability = words_model.probability(np.zeros(0, np.float32), text)
    assert TIMING.silence_needed_ms(probability) < TIMING.incomplete_ms - 300, probability


async def judge(models: Models, audio: np.ndarray, settings: Settings) -> int:
    """What the session decides at a pause: final transcript, then the classifier."""
    detector = load_turn_detector(settings)
    text = (await models.stt.transcribe_all(audio)).text
    verdict = await EndOfTurn(detector, TurnTiming.from_settings(settings)).judge(audio, text)
    return verdict.silence_ms


async def test_decisions_on_real_speech(models: Models, settings: Settings) -> None:
    jfk = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    frames = jfk[: jfk.size // 512 * 512].reshape(-1, 512)
    quiet = np.sqrt((frames**2).mean(axis=1)) < 0.02
    first_pause = next(i for i in range(10, len(quiet)) if quiet[i : i + 15].all())  # 0.5 s
    at_pause = jfk[: (first_pause + 2) * 512]  # "And so my fellow Americans", 64 ms into it
    finished = await spoken(models, "What is the speed of light?", silence_s=0.064)
    cut = await spoken(models, "Um, so, how many", silence_s=0.064)
    assert await judge(models, at_pause, settings) >= settings.incomplete_turn_silence_ms
    assert await judge(models, cut, settings) == settings.hesitant_turn_silence_ms
    assert await judge(models, finished, settings) < settings.incomplete_turn_silence_ms - 300


def test_a_missing_audio_model_is_one_line_naming_the_setting(
    settings: Settings, tmp_path: Path
) -> None:
    broken = tmp_path / "turn.onnx"
    broken.write_bytes(b"not a model")
    for path in (tmp_path / "missing.onnx", broken):
        wrong = settings.model_copy(update={"turn_detector": "smart_turn", "turn_model_path": path})
        with pytest.raises(BackendUnavailable) as caught:
            Models.load(wrong)
        message = str(caught.value)
        assert "VOICE_TURN_MODEL_PATH" in message and str(path) in message
        assert "\n" not in message


def test_an_unknown_detector_is_refused(settings: Settings) -> None:
    with pytest.raises(BackendUnavailable, match="unknown turn detector backend 'magic'"):
        load_turn_detector(settings.model_copy(update={"turn_detector": "magic"}))


def test_features_match_whisper_feature_extractor() -> None:
    """The numpy features equal transformers' (the reference smart-turn was trained with)."""
    if importlib.util.find_spec("transformers") is None:
        pytest.skip("transformers is not installed: nothing to compare against")
    from transformers import WhisperFeatureExtractor

    audio = decode_audio(speech_clip("jfk.flac"), max_seconds=60)[: 8 * RATE]
    reference = WhisperFeatureExtractor(chunk_length=8)(
        audio, sampling_rate=RATE, return_tensors="np", do_normalize=True
    ).input_features[0]
    assert np.allclose(log_mel(audio), reference, atol=1e-4)


def test_smart_turn_on_fixed_clips(settings: Settings) -> None:
    """Pipecat's model (optional extra ``turn-audio``) on jfk.flac: finished at the end."""
    if importlib.util.find_spec("pipecat") is None and settings.turn_model_path is None:
        pytest.skip("pipecat-ai (extra 'turn-audio') is not installed")
    detector = load_turn_detector(settings.model_copy(update={"turn_detector": "smart_turn"}))
    jfk = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    ended = np.concatenate([jfk, np.zeros(RATE // 5, np.float32)])
    assert detector.probability(ended) > 0.5
    assert detector.probability(jfk[: int(4.4 * RATE)]) < 0.5  # "... ask not", mid-sentence
