import io
import wave

import numpy as np
import pytest

from api.voice.audio import decode_audio, float_to_pcm16, pcm16_to_float, rechunk, write_wav
from core.errors import AudioError
from tests.conftest import speech_clip


def _wav_bytes(audio: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(float_to_pcm16(np.repeat(audio, channels)))
    return buffer.getvalue()


def test_flac_stereo_44k_is_decoded_to_16k_mono() -> None:
    audio = decode_audio(speech_clip("jfk.flac"), max_seconds=60)
    assert audio.dtype == np.float32
    assert abs(audio.size / 16_000 - 11.0) < 0.1
    assert 0.05 < float(np.abs(audio).max()) <= 1.0


def test_mp3_is_decoded() -> None:
    audio = decode_audio(speech_clip("hotwords.mp3"), max_seconds=60)
    assert abs(audio.size / 16_000 - 4.0) < 0.2


def test_8k_wav_is_resampled_keeping_its_pitch() -> None:
    rate = 8_000
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio = decode_audio(_wav_bytes(tone, rate), max_seconds=5)
    assert abs(audio.size - 16_000) < 400
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = spectrum.argmax() * 16_000 / audio.size
    assert abs(peak_hz - 440) < 5


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "empty_audio"),
        (b"this is plainly not audio at all" * 10, "not_audio"),
        (bytes(range(256)) * 40, "not_audio"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not_audio"),
    ],
)
def test_bad_input_is_a_clear_audio_error(payload: bytes, code: str) -> None:
    with pytest.raises(AudioError) as caught:
        decode_audio(payload, max_seconds=60)
    assert caught.value.code == code


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(AudioError) as caught:
        decode_audio(tmp_path / "nope.wav", max_seconds=60)
    assert caught.value.code == "not_found"
    with pytest.raises(AudioError) as caught:
        decode_audio(tmp_path, max_seconds=60)
    assert caught.value.code == "unreadable"


def test_audio_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(AudioError) as caught:
        decode_audio(speech_clip("jfk.flac"), max_seconds=5)
    assert caught.value.code == "audio_too_long"


def test_silence_shorter_than_a_tenth_of_a_second_is_empty() -> None:
    with pytest.raises(AudioError) as caught:
        decode_audio(_wav_bytes(np.zeros(500, dtype=np.float32), 16_000), max_seconds=5)
    assert caught.value.code == "empty_audio"


def test_pcm_round_trip_and_rechunk(tmp_path) -> None:
    audio = np.linspace(-1, 1, 1001, dtype=np.float32)
    pcm = float_to_pcm16(audio)
    assert np.allclose(pcm16_to_float(pcm), audio, atol=1e-4)
    chunks = list(rechunk([pcm], 301))
    assert all(len(c) <= 300 and len(c) % 2 == 0 for c in chunks)
    assert b"".join(chunks) == pcm
    write_wav(tmp_path / "x.wav", pcm, 16_000)
    with wave.open(str(tmp_path / "x.wav")) as wav:
        assert wav.getnframes() == 1001 and wav.getframerate() == 16_000
