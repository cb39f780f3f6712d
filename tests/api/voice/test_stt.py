from api.voice.audio import decode_audio
from api.voice.models import Models
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
