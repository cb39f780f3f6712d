from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.voice.facts.answer import GuardedAnswer, guarded_sentences
from api.voice.facts.guard import NO_VALUE, NumberGuard
from api.voice.facts.model import Statement
from api.voice.facts.numbers import stated_numbers
from api.voice.facts.retrieve import FactIndex
from api.voice.facts.runtime import fact_index
from api.voice.facts.speech import format_number, verbalize


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> FactIndex:
    return fact_index(Path(tmp_path_factory.mktemp("facts-guard")))


def statement(index: FactIndex, question: str) -> Statement:
    return index.lookup(question)[0].statement


async def stream(*pieces: str) -> AsyncIterator[str]:
    for piece in pieces:
        yield piece


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("Planck's constant is 6.12 × 10^-32 joule seconds.", False),  # seen from SmolLM2
        ("It is 6.62607015 × 10^-34 J s.", True),
        ("It is about 6.63 x 10^-34 joule seconds.", True),  # rounded correctly
        ("It is six point six two six times ten to the minus thirty-four joule seconds.", True),
        ("That is 4.1357 × 10^-15 eV s.", True),  # an exact conversion
        ("That is 4.2 × 10^-15 eV s.", False),
        ("Max Planck found it in 1900.", False),  # a year nothing retrieved supports
        ("It links two quantities.", True),  # a small count in prose
    ],
)
def test_numbers_are_checked_against_the_fact(index: FactIndex, sentence: str, ok: bool) -> None:
    guard = NumberGuard(statements=[statement(index, "What is Planck's constant?")])
    assert guard.check(sentence).ok is ok


def test_conversions_notes_and_the_question_support_numbers(index: FactIndex) -> None:
    water = statement(index, "What is the boiling point of water in Fahrenheit?")
    guard = NumberGuard(
        statements=[water],
        notes=["The Moon is about 384,400 kilometres from Earth."],
        question="Is it hotter than 150 degrees?",
    )
    for sentence in ("It is 212 °F.", "That is 100 degrees Celsius.", "Or 373.15 kelvin."):
        assert guard.check(sentence).ok, sentence
    assert guard.check("The Moon is 384,400 km away, about 238,855 miles.").ok
    assert guard.check("Yes, more than 150 degrees.").ok
    assert not guard.check("Water freezes at -18 degrees.").ok  # seen from SmolLM2
    assert not guard.check("It boils at 200 °C.").ok
    assert not guard.check("The Moon is 484,400 km away.").ok


async def test_an_invented_number_is_replaced_by_the_fact(index: FactIndex) -> None:
    planck = statement(index, "What is Planck's constant?")
    answer = GuardedAnswer(NumberGuard(statements=[planck]), max_sentences=3)
    pieces = stream("Planck's constant ", "is 6.12 × 10^-32 joule", " seconds. It is ", "used.")
    said = [s async for s in guarded_sentences(pieces, answer)]
    assert [s.text for s in said] == ["The Planck constant is 6.62607015 × 10^-34 J s."]
    assert said[0].replaced and answer.replaced == 1 and answer.done
    assert said[0].speech == (
        "The Planck constant is six point six two six zero seven zero one five times ten to "
        "the minus thirty-four joule seconds."
    )


async def test_without_a_fact_an_invented_number_becomes_i_dont_know() -> None:
    answer = GuardedAnswer(NumberGuard(question="How far is the Zorblax nebula?"), max_sentences=3)
    pieces = stream("The Zorblax nebula is a cloud of gas. ", "It is 4,200 light years away.")
    said = [s.text async for s in guarded_sentences(pieces, answer)]
    assert said == ["The Zorblax nebula is a cloud of gas.", NO_VALUE]


def test_numbers_are_written_with_digits_and_spoken_in_words() -> None:
    assert format_number(6.62607015e-34) == "6.62607015 × 10^-34"
    assert format_number(299792458.0) == "299,792,458"
    assert format_number(-273.15) == "-273.15"
    assert format_number(5280.0) == "5280"
    assert verbalize("It is 299,792,458 m/s.") == (
        "It is two hundred ninety-nine million seven hundred ninety-two thousand four hundred "
        "fifty-eight metres per second."
    )
    assert verbalize("G is 6.6743 × 10^-11 m^3 kg^-1 s^-2.") == (
        "G is six point six seven four three times ten to the minus eleven cubic metres per "
        "kilogram per second squared."
    )
    assert verbalize("Water boils at 100 °C, or 212 °F.") == (
        "Water boils at one hundred degrees Celsius, or two hundred twelve degrees Fahrenheit."
    )
    assert verbalize("N A is 6.02214076 × 10^23 mol^-1.").endswith("twenty-three per mole.")


def test_misheard_science_words_are_corrected_only_in_context(index: FactIndex) -> None:
    from api.voice.facts.hearing import TranscriptFixer

    fixer = TranscriptFixer(index.facts)
    cases = {
        "What is the boiling point of water in salsa this?": (
            "What is the boiling point of water in Celsius?"
        ),
        "What is Avigatro's number?": "What is Avogadro's number?",
        "How many pro-bonds are in carbon?": "How many protons are in carbon?",
        "What is the Boltsman constant?": "What is the Boltzmann constant?",
        # left alone: no science context, or words that are right already
        "I like salsa this evening.": "I like salsa this evening.",
        "How much protein is in an egg?": "How much protein is in an egg?",
        "Tell me about photosynthesis in plants.": "Tell me about photosynthesis in plants.",
        "How far is Mars from the Sun?": "How far is Mars from the Sun?",
    }
    for heard, expected in cases.items():
        assert fixer.correct(heard)[0] == expected, heard
    assert fixer.correct("And in salsa this?", context="How hot is boiling water?")[0] == (
        "And in Celsius?"
    )


def test_an_exponent_past_what_a_float_holds_is_not_a_quantity() -> None:
    """A spoken or generated "10 to the 400" must not fail the turn (it overflowed a float)."""
    found = stated_numbers("2 times 10 to the 400, 3 x 10^400 and 6.6 x 10^-34 joule seconds")
    assert [round(n.value * 1e34, 3) for n in found] == [6.6]
