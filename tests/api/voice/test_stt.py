import numpy as np
import pytest
from faster_whisper import WhisperModel

from api.voice.audio import decode_audio
from api.voice.backends.stt_faster_whisper import FasterWhisperSTT, FittedWindowWhisper
from api.voice.models import Models
from core.settings import Settings
from tests.conftest import speech_clip


async def test_jfk_is_transcribed_with_word_timestamps(models: Models) -> None:
    audio = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    transcript = await models.stt.transcribe_all(audio)
    text = transcript.text.lower()
    assert "ask not what your country can do for you" in text.replace(",", "")
    assert len(transcript.words) >= 20
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in transcript.words)
    assert 9.0 < transcript.words[-1].end <= 11.1
    assert transcript.avg_logprob < 0


async def test_hotwords_bring_domain_vocabulary(models: Models) -> None:
    audio = decode_audio(speech_clip("hotwords.mp3"), max_seconds=60)
    plain = await models.stt.transcribe_all(audio, hotwords=[])
    hinted = await models.stt.transcribe_all(audio, hotwords=["ComfyUI"])
    assert "ComfyUI" not in plain.text
    assert "ComfyUI" in hinted.text


async def test_a_fitted_window_reads_the_audio_plus_the_margin_and_hotwords_the_whole_window(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not settings.stt_fitted_window  # off by default (docs/PERFORMANCE.md says why)
    stt = FasterWhisperSTT(settings.model_copy(update={"stt_fitted_window": True}))
    assert isinstance(stt.model, FittedWindowWhisper) and settings.stt_window_margin_s == 10
    frames: list[int] = []
    encode = WhisperModel.encode

    def spy(model: WhisperModel, features: np.ndarray) -> object:
        frames.append(features.shape[-1])
        return encode(model, features)

    monkeypatch.setattr(WhisperModel, "encode", spy)
    audio = decode_audio(speech_clip("hotwords.mp3"), max_seconds=60)  # 4.0 s
    plain = await stt.transcribe_all(audio, hotwords=[])
    assert frames == [1400]  # 4 s of speech and 10 s of silence, not 30 s
    await stt.transcribe_all(audio, hotwords=["ComfyUI"])
    hinted = frames[1:]
    assert hinted and set(hinted) == {3000}
    await stt.transcribe_all(audio, hotwords=[])  # the whole window was for that pass only
    assert frames[1 + len(hinted) :] == [1400]
    assert plain.text.lower().startswith("then you go into your comfy")
