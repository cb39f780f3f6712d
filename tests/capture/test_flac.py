import numpy as np
import pytest

from api.voice.audio import decode_audio, float_to_pcm16
from capture.flac import FlacError, decode_flac, encode_flac
from tests.conftest import speech_clip


def test_flac_is_lossless_on_real_speech() -> None:
    pcm = float_to_pcm16(decode_audio(speech_clip("jfk.flac"), max_seconds=60))
    flac = encode_flac(pcm)
    assert flac[:4] == b"fLaC"
    assert len(flac) < len(pcm) * 0.8  # it compresses
    decoded, rate = decode_flac(flac)
    assert rate == 16_000
    assert decoded == pcm  # the exact samples


def test_extreme_samples_survive() -> None:
    samples = np.array([-32768, 32767, 0, 1, -1] * 1000, dtype="<i2")
    assert decode_flac(encode_flac(samples.tobytes()))[0] == samples.tobytes()


def test_bad_input() -> None:
    with pytest.raises(FlacError):
        encode_flac(b"\x00\x01\x02")
    with pytest.raises(FlacError):
        decode_flac(b"not flac at all")
