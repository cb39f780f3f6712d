"""Audio redaction: word alignment, padding, clamping, tone; then real speech end to end."""

import re

import numpy as np
import pytest

from api.voice.models import Models
from core.messages import Word
from redaction.audio import TONE_AMPLITUDE, redact_audio, sample_spans, word_offsets
from redaction.text import Entity, redact_text
from tests.utils.audio import resample_to_16k, word_set

RATE = 16_000
TRANSCRIPT = "My card is 4663 9233, 2146 8814. Thanks."
WORDS = [  # as faster-whisper gives them: leading spaces, punctuation attached
    Word(text=" My", start=0.0, end=0.3, probability=0.9),
    Word(text=" card", start=0.3, end=0.6, probability=0.9),
    Word(text=" is", start=0.6, end=0.8, probability=0.9),
    Word(text=" 4663", start=1.0, end=1.4, probability=0.9),
    Word(text=" 9233,", start=1.4, end=1.8, probability=0.9),
    Word(text=" 2146", start=1.8, end=2.2, probability=0.9),
    Word(text=" 8814.", start=2.2, end=2.6, probability=0.9),
    Word(text=" Thanks.", start=3.0, end=3.4, probability=0.9),
]
CARD = Entity("CREDIT_CARD", 11, 31, 1.0, "redact")


def speech(seconds: float = 4.0) -> bytes:
    """Loud everywhere (no pauses to widen to): only the padding moves the edges."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (8000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


def test_words_are_found_in_order_despite_spaces_punctuation_and_case() -> None:
    offsets = word_offsets(WORDS, TRANSCRIPT)
    assert [TRANSCRIPT[a:b] for a, b, _ in offsets] == [
        "My",
        "card",
        "is",
        "4663",
        "9233,",
        "2146",
        "8814.",
        "Thanks.",
    ]
    lowered = [Word(text=" MY", start=0, end=0.1, probability=1.0), WORDS[1]]
    assert [found for _, _, found in word_offsets(lowered, TRANSCRIPT)] == [True, True]


def test_the_words_of_the_entity_are_silenced_with_padding() -> None:
    pcm = speech()
    assert sample_spans(pcm, RATE, WORDS, TRANSCRIPT, [CARD]) == [(int(0.85 * RATE), 2.75 * RATE)]
    out = np.frombuffer(redact_audio(pcm, RATE, WORDS, TRANSCRIPT, [CARD]), "<i2")
    assert out.size * 2 == len(pcm)
    assert not out[int(0.85 * RATE) : int(2.75 * RATE)].any()
    original = np.frombuffer(pcm, "<i2")
    assert np.array_equal(out[: int(0.85 * RATE)], original[: int(0.85 * RATE)])
    assert np.array_equal(out[int(2.75 * RATE) :], original[int(2.75 * RATE) :])


def test_review_entities_and_no_entities_leave_the_audio_alone() -> None:
    pcm = speech()
    review = Entity("PERSON", 0, 2, 0.85, "review")
    assert redact_audio(pcm, RATE, WORDS, TRANSCRIPT, [review]) == pcm
    assert redact_audio(pcm, RATE, [], "", []) == pcm


def test_spans_are_clamped_to_the_audio() -> None:
    pcm = speech(2.5)  # ends inside the padding of the last card word
    first_word = Entity("X", 0, 2, 1.0, "redact")
    spans = sample_spans(pcm, RATE, WORDS, TRANSCRIPT, [first_word, CARD], pad_ms=500)
    assert spans[0][0] == 0 and spans[-1][1] == int(2.5 * RATE)


def test_a_late_word_start_is_widened_to_the_pause_before_it() -> None:
    silence, voiced = np.zeros(int(0.5 * RATE)), speech(1.0)
    pcm = np.concatenate([silence, np.frombuffer(voiced, "<i2"), silence]).astype("<i2")
    late = [Word(text="4663", start=0.8, end=1.5, probability=1.0)]  # voice starts at 0.5
    spans = sample_spans(pcm.tobytes(), RATE, late, "4663", [Entity("X", 0, 4, 1.0, "redact")])
    assert spans == [(int(0.5 * RATE), int(1.65 * RATE))]


def test_an_unaligned_word_next_to_the_entity_is_silenced() -> None:
    words = [*WORDS[:4], Word(text=" nine two", start=1.4, end=1.8, probability=0.5), *WORDS[5:]]
    spans = sample_spans(speech(), RATE, words, TRANSCRIPT, [CARD])
    assert spans == [(int(0.85 * RATE), int(2.75 * RATE))]


def test_tone_mode_beeps_at_one_kilohertz() -> None:
    pcm = bytes(4 * RATE * 2)  # silence: the tone is all there is
    out = np.frombuffer(redact_audio(pcm, RATE, WORDS, TRANSCRIPT, [CARD], mode="tone"), "<i2")
    beep = out[int(0.85 * RATE) : int(2.75 * RATE)].astype(float)
    assert abs(np.abs(beep).max() - TONE_AMPLITUDE * 32767) < 2
    spectrum = np.abs(np.fft.rfft(beep))
    assert np.fft.rfftfreq(beep.size, 1 / RATE)[spectrum.argmax()] == pytest.approx(1000, abs=2)
    assert not out[: int(0.85 * RATE)].any() and not out[int(2.75 * RATE) :].any()


def test_odd_length_pcm_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        redact_audio(b"\x00\x01\x02", RATE, [], "", [])


SPOKEN = "My card number is four six six three, nine two three three, two one four six, eight "
DIGIT_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}


async def test_a_spoken_card_number_is_cut_from_real_speech(models: Models) -> None:
    pcm = b"".join(
        [c async for c in models.tts.synthesize(SPOKEN + "eight one four. Thanks.", "professional")]
    )
    rate = models.tts.sample_rate
    heard = await models.stt.transcribe_all(resample_to_16k(pcm, rate), hotwords=[])
    result = redact_text(heard.text)
    assert [e.type for e in result.entities] == ["CREDIT_CARD"], heard.text
    assert not re.search(r"\d", result.text)

    redacted = redact_audio(pcm, rate, heard.words, heard.text, result.entities)
    again = await models.stt.transcribe_all(resample_to_16k(redacted, rate), hotwords=[])
    words = word_set(again.text)
    assert not re.search(r"\d", again.text) and not words & DIGIT_WORDS, again.text
    assert {"my", "card", "thanks"} <= words, again.text
    assert any(w.startswith("number") for w in words), again.text
