import json
import re
from pathlib import Path

import pytest

from api.voice.models import Models
from api.voice.nlu import normalize_utterance, parse_nlu_json
from core.messages import DOMAINS, INTENTS, NLUResult

EVAL = Path(__file__).resolve().parents[2] / "data" / "nlu_eval.jsonl"
TRAIN = Path(__file__).resolve().parents[3] / "api" / "voice" / "data" / "nlu_train.jsonl"

VARIED = [
    "",
    "   ",
    "\x00\x01\x02",
    "asdkjh qwpoeiu zxmcnb",
    "!!!???...",
    "🙂🚀🔥",
    "a" * 5000,
    "what is the speed of light " * 300,
    "¿Cuál es la velocidad de la luz?",
    "光速は何ですか",
    "SELECT * FROM users; DROP TABLE users;--",
    "<script>alert(1)</script>",
    '{"intent": "help"}',
    "hello",
    "hi there",
    "good morning",
    "what can you do",
    "help",
    "how are you",
    "thanks a lot",
    "what's the weather tomorrow",
    "play some jazz",
    "what is the boiling point of water",
    "why is the sky blue",
    "explain photosynthesis",
    "what is the derivative of x squared",
    "how does a transistor work",
    "what is dna made of",
    "convert 5 miles to kilometers",
    "how many grams in three pounds",
    "um so like what's the uh the atomic number of carbon",
    "what what is is a prime number",
    "tell me about black holes",
    "how strong is steel",
    "what is the ph of lemon juice",
    "is a tomato a fruit",
    "how much is 2 plus 2",
    "who won the game last night",
    "book me a flight to paris",
    "goodbye",
    "ok",
    "never mind",
    "what's Avogadro's number",
    "how far is the moon",
    "what causes earthquakes",
    "how do vaccines work",
    "what is the integral of one over x",
    "what does a capacitor do",
    "123 456 789",
    "3.14159",
]


@pytest.mark.parametrize("text", VARIED)
async def test_any_input_gives_schema_valid_output(models: Models, text: str) -> None:
    result = await models.nlu.understand(text)
    assert isinstance(result, NLUResult)
    NLUResult.model_validate(result.model_dump())
    assert result.intent in INTENTS and result.domain in DOMAINS
    if result.intent not in ("scientific_query", "unit_conversion"):
        assert result.domain == "none"
    for entity in result.entities:
        assert text[entity.start : entity.end] == entity.text


def test_varied_inputs_are_fifty() -> None:
    assert len(VARIED) == 50


async def test_clear_cases(models: Models) -> None:
    cases = {
        "hello there": ("greeting", "none"),
        "what is the speed of light": ("scientific_query", "physics"),
        "explain photosynthesis to me": ("scientific_query", "biology"),
        "convert 5 miles to kilometers": ("unit_conversion", "physics"),
        "what's the weather like tomorrow": ("other", "none"),
    }
    for text, expected in cases.items():
        result = await models.nlu.understand(text)
        assert (result.intent, result.domain) == expected, text


async def test_entities_are_terms_and_quantities(models: Models) -> None:
    text = "how long does light take to travel 150 million kilometres from the Sun"
    result = await models.nlu.understand(text)
    labels = {(e.label, e.text) for e in result.entities}
    assert ("quantity", "150 million kilometres") in labels
    assert any(label == "term" and "light" in value for label, value in labels)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", normalize_utterance(text)).strip()


def test_eval_set_is_held_out_and_large_enough() -> None:
    evaluation = [json.loads(line) for line in EVAL.read_text().splitlines() if line.strip()]
    training = {
        normalize_utterance(json.loads(line)["text"]) for line in TRAIN.read_text().splitlines()
    }
    assert len(evaluation) >= 300
    assert {e["intent"] for e in evaluation} >= {
        "scientific_query",
        "greeting",
        "help",
        "smalltalk",
        "other",
    }
    leaked = [e["text"] for e in evaluation if _plain(e["text"]) in training]
    assert leaked == []


async def test_accuracy_goals_on_the_eval_set(models: Models) -> None:
    evaluation = [json.loads(line) for line in EVAL.read_text().splitlines() if line.strip()]
    results = [await models.nlu.understand(e["text"]) for e in evaluation]
    pairs = list(zip(results, evaluation, strict=True))
    intent_accuracy = sum(r.intent == e["intent"] for r, e in pairs) / len(pairs)
    domain_accuracy = sum(r.domain == e["domain"] for r, e in pairs) / len(pairs)
    assert intent_accuracy >= 0.9
    assert domain_accuracy >= 0.85


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "[]",
        '{"intent": "launch_missiles"}',
        '{"domain": "astrology"}',
        "null",
        "42",
    ],
)
def test_invalid_backend_output_falls_back_to_other(raw: str) -> None:
    assert parse_nlu_json(raw) == NLUResult()


def test_valid_backend_output_is_made_consistent() -> None:
    result = parse_nlu_json('{"intent": "greeting", "domain": "physics", "entities": ["x"]}')
    assert (result.intent, result.domain) == ("greeting", "none")
    result = parse_nlu_json('{"intent": "scientific_query", "domain": "chemistry", "entities": []}')
    assert (result.intent, result.domain) == ("scientific_query", "chemistry")
