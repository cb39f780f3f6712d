import numpy as np

from api.voice.models import Models
from api.voice.voices import PRESETS
from tests.utils.audio import resample_to_16k, word_set

SENTENCE = "Water boils at one hundred degrees Celsius at sea level."


async def speak(models: Models, text: str, voice: str) -> bytes:
    return b"".join([c async for c in models.tts.synthesize(text, voice)])  # type: ignore[arg-type]


async def test_chunks_are_at_most_200_ms(models: Models) -> None:
    limit = models.tts.sample_rate * 2 * 200 // 1000
    chunks = [c async for c in models.tts.synthesize(SENTENCE, "friendly")]
    assert len(chunks) > 5
    assert all(0 < len(c) <= limit and len(c) % 2 == 0 for c in chunks)


async def test_the_three_voices_sound_different(models: Models) -> None:
    audio = {voice: await speak(models, SENTENCE, voice) for voice in PRESETS}
    lengths = {voice: len(pcm) for voice, pcm in audio.items()}
    # friendly is quickest, technical slowest (rate and pauses differ)
    assert lengths["friendly"] < lengths["professional"] < lengths["technical"]
    levels = {v: float(np.abs(np.frombuffer(p, "<i2")).max()) for v, p in audio.items()}
    assert levels["technical"] < levels["friendly"]  # volume differs too
    assert len({pcm for pcm in audio.values()}) == 3


async def test_speech_is_intelligible(models: Models) -> None:
    pcm = await speak(models, SENTENCE, "professional")
    heard = await models.stt.transcribe_all(
        resample_to_16k(pcm, models.tts.sample_rate), hotwords=[]
    )
    expected = word_set(SENTENCE)
    assert len(expected & word_set(heard.text)) >= len(expected) - 2
