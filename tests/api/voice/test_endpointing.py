import pytest

from api.voice.endpointing import TurnPolicy, looks_incomplete, silence_needed_ms


@pytest.mark.parametrize(
    "text",
    [
        "And so my fellow Americans",  # jfk.flac at its first pause
        "And so am I fellow Americans.",  # the same, misheard
        "And so my fellow Americans ask not",  # second pause
        "And so my fellow Americans ask not what your country can do for you",  # third
        "what is the boiling point of",
        "um so what is the",
        "but why is the",
    ],
)
def test_unfinished_sentences(text: str) -> None:
    assert looks_incomplete(text)


@pytest.mark.parametrize(
    "text",
    [
        "And so, my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country.",
        "What is the speed of light?",
        "hello",
        "speed of light",
        "density of gold",
        "how are you",
        "thank you",
        "tell me about black holes",
        "Convert five miles to kilometers.",
        "the mass of the electron in kilograms",
        "",
    ],
)
def test_finished_sentences(text: str) -> None:
    assert not looks_incomplete(text)


def test_silence_needed_follows_the_policy() -> None:
    policy = TurnPolicy(complete_ms=400, incomplete_ms=1200)
    assert silence_needed_ms("What is a photon?", policy) == 400
    assert silence_needed_ms("What is a photon and", policy) == 1200
