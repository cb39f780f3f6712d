"""The bundled CTranslate2 tiny.en as a trainable transformers model, and back, losslessly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from learning.errors import LearningError
from learning.finetune.base_model import check_hf_whisper, resolve_base
from learning.finetune.ct2_reader import read_model_bin
from tests.conftest import speech_clip


def test_every_weight_survives_the_round_trip_through_transformers(
    settings: Settings, hf_base: Path, tmp_path: Path
) -> None:
    """CT2 -> transformers -> ctranslate2's own converter gives back the same float16 bits."""
    from transformers import WhisperForConditionalGeneration

    from learning.finetune.export import to_ctranslate2

    bundled = settings.resolved_stt_model_path()
    _, before = read_model_bin(bundled / "model.bin")
    model = WhisperForConditionalGeneration.from_pretrained(str(hf_base))
    assert model.config.d_model == 384 and model.config.encoder_layers == 4  # tiny
    back = to_ctranslate2(hf_base, tmp_path / "ct2")
    _, after = read_model_bin(back / "model.bin")
    weights = {name for name, value in before.items() if value.ndim >= 1 and value.size > 1}
    assert weights <= set(after)
    for name in sorted(weights):
        assert after[name].dtype == before[name].dtype, name
        assert np.array_equal(after[name], before[name]), name
    for needed in ("tokenizer.json", "preprocessor_config.json", "config.json"):
        assert (back / needed).is_file()


def test_converted_model_transcribes_jfk_exactly_like_ctranslate2(
    settings: Settings, hf_base: Path
) -> None:
    from faster_whisper import WhisperModel, decode_audio
    from transformers import WhisperForConditionalGeneration

    from learning.finetune.data import Tokens
    from learning.finetune.decode import extractor_for, transcribe

    audio = decode_audio(str(speech_clip("jfk.flac")), sampling_rate=16_000)
    ct2 = WhisperModel(
        str(settings.resolved_stt_model_path()), compute_type="float32", local_files_only=True
    )
    segments, _ = ct2.transcribe(
        audio,
        beam_size=1,
        language="en",
        without_timestamps=True,
        condition_on_previous_text=False,
        vad_filter=False,
        temperature=0.0,
    )
    expected = " ".join(s.text.strip() for s in segments)
    model = WhisperForConditionalGeneration.from_pretrained(str(hf_base)).eval()
    extractor = extractor_for(model)
    tokens = Tokens(hf_base, model.config.vocab_size)
    [heard] = transcribe(model, extractor, tokens, [audio])
    assert "ask not what your country can do for you" in expected.lower()
    assert heard == expected


def test_a_base_that_is_not_whisper_is_one_line(tmp_path: Path, settings: Settings) -> None:
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(LearningError, match="is not Whisper"):
        check_hf_whisper(bert)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LearningError, match=r"no config\.json"):
        resolve_base(empty, settings.resolved_stt_model_path(), tmp_path)
