"""Names a speaker introduces, found by their cues when spaCy's small model misses them.

These sentences are not in tests/data/pii_eval.jsonl.
"""

import pytest

from redaction.engine import Redactor
from redaction.names import find_introduced_names


@pytest.mark.parametrize(
    ("text", "name", "strong"),
    [
        ("My name is Angus McKay.", "Angus McKay", True),
        ("Hi, my name's Ifeoma.", "Ifeoma", True),
        ("Our teacher Mr. Abernathy set this.", "Abernathy", True),
        ("Ask my sister, Rosalind, about it.", "Rosalind", True),
        ("Professor Nakashima wants the answer.", "Nakashima", True),
        ("This is Cordelia Vance again, about magnets.", "Cordelia Vance", False),
        ("I'm Siobhan O'Connell, a chemistry teacher.", "Siobhan O'Connell", False),
        ("Hey, it's Tariq, quick question.", "Tariq", False),
        ("I am Leopold Brandt-Meyer calling from Denver.", "Leopold Brandt-Meyer", False),
    ],
)
def test_introduced_names(text: str, name: str, strong: bool) -> None:
    [(start, end, found_strong)] = find_introduced_names(text)
    assert (text[start:end], found_strong) == (name, strong)


@pytest.mark.parametrize(
    "text",
    [
        "This is Newton's third law.",  # a possessive
        "This is Chapter Nine of the book.",  # a number word
        "I'm Curious about how magnets work.",  # one word that does not end the clause
        "My name is on the list.",
        "This is NASA data.",  # capitals only
        "My teacher says Saturn has rings.",  # a relative, then a verb
        "It's Monday, what's the weather on Mars?",
    ],
)
def test_what_only_looks_like_an_introduction(text: str) -> None:
    assert find_introduced_names(text) == []


def test_the_engine_flags_names_spacy_misses_and_not_what_it_reads_otherwise(
    redactor: Redactor,
) -> None:
    text = "This is Marguerite Fontaine again, about the tides."
    [result] = redactor.redact_batch([text])
    spans = [(e.type, text[e.start : e.end], e.action) for e in result.entities]
    assert spans == [("PERSON", "Marguerite Fontaine", "review")]  # spaCy: a location
    [result] = redactor.redact_batch(["I'm Canadian, so how cold is minus forty?"])
    assert result.entities == []  # spaCy: a nationality
