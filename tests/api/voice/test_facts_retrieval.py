from pathlib import Path

import pytest

from api.voice.facts.retrieve import FactIndex, asks_for_value
from api.voice.facts.runtime import fact_index

THRESHOLD = 0.7  # Settings.facts_min_confidence
WATER = "curated:water-boiling-point"
CHARGE = "1.602176634 × 10^-19"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> FactIndex:
    return fact_index(Path(tmp_path_factory.mktemp("facts-index")))


@pytest.mark.parametrize(
    ("question", "fact_id", "quantity"),
    [
        ("What is Planck's constant?", "codata:planck-constant", "6.62607015 × 10^-34 J s"),
        ("what is the planck constant", "codata:planck-constant", "6.62607015 × 10^-34 J s"),
        ("What's h?", "codata:planck-constant", "6.62607015 × 10^-34 J s"),
        ("What is the atomic number of carbon?", "element:carbon:atomic-number", "6"),
        ("How many protons does gold have?", "element:gold:atomic-number", "79"),
        ("What is the boiling point of water in Fahrenheit?", f"{WATER}", "212 °F"),
        ("At what temperature does water boil in kelvin?", f"{WATER}", "373.15 K"),
        ("What is the charge of an electron?", "codata:elementary-charge", f"{CHARGE} C"),
        ("How many feet are in a mile?", "unit:mi:ft", "5280 ft"),
        ("What is Avagadro's number?", "codata:avogadro-constant", "6.02214076 × 10^23 mol^-1"),
        ("How many bones are in the human body?", "curated:bones-adult", "206"),
        ("How long does sunlight take to reach Earth?", "curated:sunlight-travel-time", "499 s"),
    ],
)
def test_facts_are_found_the_way_people_ask(
    index: FactIndex, question: str, fact_id: str, quantity: str
) -> None:
    best = index.lookup(question)[0]
    assert best.fact.id == fact_id, [(m.fact.id, m.confidence) for m in index.lookup(question)]
    assert best.confidence >= THRESHOLD and best.statement.quantity == quantity


@pytest.mark.parametrize(
    "question",
    [
        "weather and climate",
        "play some jazz music please",
        "what is the mass of a unicorn",
        "how many moons does the planet Zorblax have",
        "tell me a joke",
    ],
)
def test_no_fact_below_the_threshold(index: FactIndex, question: str) -> None:
    matches = index.lookup(question)
    assert not matches or matches[0].confidence < THRESHOLD, matches[:1]


def test_a_count_beats_a_distance_for_how_many(index: FactIndex) -> None:
    assert index.lookup("How many moons does Earth have?")[0].fact.id == "curated:earth-moons"


def test_questions_that_want_a_value() -> None:
    assert asks_for_value("How many bones does a cat have?")
    assert asks_for_value("What is the mass of the Higgs boson?")
    assert asks_for_value("What is the Hubble constant?")
    assert not asks_for_value("How does photosynthesis work?")
    assert not asks_for_value("Tell me about black holes.")
