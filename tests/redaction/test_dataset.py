"""The labelled set behind ``redact-eval`` is well formed, large and varied."""

import json
import re
from collections import Counter
from pathlib import Path

from redaction.text import luhn_valid

DATASET = Path(__file__).resolve().parents[1] / "data" / "pii_eval.jsonl"
TYPES = {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "PERSON", "STREET_ADDRESS"}
FORMS = {"digits", "spoken", "mixed", "text"}
NUMBER = re.compile(
    r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\b",
    re.IGNORECASE,
)


def rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text("utf-8").splitlines() if line.strip()]


def test_every_line_is_a_text_with_spans_that_fit() -> None:
    for row in rows():
        assert set(row) == {"text", "form", "entities"}, row
        assert row["form"] in FORMS, row
        text, previous_end = row["text"], 0
        for entity in row["entities"]:
            assert set(entity) == {"type", "start", "end"} and entity["type"] in TYPES, row
            assert previous_end <= entity["start"] < entity["end"] <= len(text), row
            span = text[entity["start"] : entity["end"]]
            assert span == span.strip() and span.strip(".,;:!?") == span, (span, text)
            previous_end = entity["end"]


def test_size_negatives_and_no_duplicates() -> None:
    texts = [row["text"] for row in rows()]
    assert len(texts) >= 200
    assert len(set(texts)) == len(texts)
    negatives = [row for row in rows() if not row["entities"]]
    assert len(negatives) >= 80
    assert all(NUMBER.search(row["text"]) for row in negatives)  # numbers that must survive


def test_every_type_in_digit_and_spoken_forms() -> None:
    seen = Counter((entity["type"], row["form"]) for row in rows() for entity in row["entities"])
    for kind in ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "STREET_ADDRESS"):
        assert seen[(kind, "digits")] >= 10, kind
        assert seen[(kind, "spoken")] >= 5, kind
    assert sum(n for (kind, _), n in seen.items() if kind == "PERSON") >= 20


def test_card_numbers_are_luhn_valid_across_brands() -> None:
    cards = [
        re.sub(r"\D", "", row["text"][e["start"] : e["end"]])
        for row in rows()
        if row["form"] == "digits"
        for e in row["entities"]
        if e["type"] == "CREDIT_CARD"
    ]
    assert cards and all(luhn_valid(card) for card in cards)
    prefixes = {card[:1] if card[0] == "4" else card[:2] for card in cards}
    assert {"4", "51", "55", "22", "27", "34", "37", "60", "64", "65"} <= prefixes
    assert {len(card) for card in cards} >= {13, 15, 16, 19}
