"""The labelled set behind ``redact-eval`` is well formed, large and varied.

Its parts: the sentences the rules were developed against (no ``part``), ``heldout`` (written
before the rules were widened for spoken forms and never used to tune them) and ``tuning``
(written afterwards to develop those rules).
"""

import json
import re
from collections import Counter
from pathlib import Path

from redaction.spoken import number_runs
from redaction.text import luhn_valid

DATASET = Path(__file__).resolve().parents[1] / "data" / "pii_eval.jsonl"
TYPES = {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "PERSON", "STREET_ADDRESS"}
FORMS = {"digits", "spoken", "mixed", "text"}
PARTS = {"heldout", "tuning"}
NUMBER = re.compile(
    r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|oh)\b",
    re.IGNORECASE,
)


def rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text("utf-8").splitlines() if line.strip()]


def test_every_line_is_a_text_with_spans_that_fit() -> None:
    for row in rows():
        assert set(row) - {"part"} == {"text", "form", "entities"}, row
        assert row["form"] in FORMS and row.get("part", "heldout") in PARTS, row
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
    numeric = [row for row in negatives if row["form"] != "text"]  # the rest: names' traps
    assert len(numeric) >= 80 and all(NUMBER.search(row["text"]) for row in numeric)


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
    said = [  # spoken and mixed: read back by the spoken-number grammar
        "".join(
            g.digits for run in number_runs(row["text"][e["start"] : e["end"]]) for g in run.groups
        )
        for row in rows()
        if row["form"] != "digits" and row.get("part")
        for e in row["entities"]
        if e["type"] == "CREDIT_CARD"
    ]
    assert len(said) >= 30 and all(luhn_valid(card) for card in said), said
    prefixes = {card[:1] if card[0] == "4" else card[:2] for card in cards}
    assert {"4", "51", "55", "22", "27", "34", "37", "60", "64", "65"} <= prefixes
    assert {len(card) for card in cards} >= {13, 15, 16, 19}


def test_the_heldout_part_is_large_varied_and_new() -> None:
    heldout = [row for row in rows() if row.get("part") == "heldout"]
    assert len(heldout) >= 120
    others = {row["text"] for row in rows() if row.get("part") != "heldout"}
    assert others.isdisjoint(row["text"] for row in heldout)
    seen = Counter(e["type"] for row in heldout for e in row["entities"])
    for kind in ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "PERSON", "STREET_ADDRESS"):
        assert seen[kind] >= 20, kind
    forms = Counter(row["form"] for row in heldout if row["entities"])
    assert forms["spoken"] >= 50 and forms["mixed"] >= 8 and forms["digits"] >= 20
    assert sum(not row["entities"] for row in heldout) >= 30
