"""Text redaction: every shape of each number, what must survive, review flags, bad input.

The sentences here are not in tests/data/pii_eval.jsonl: they check the rules on new numbers.
"""

import re
import subprocess
import sys
import time

import pytest

from redaction.engine import CHUNK_CHARS, Redactor
from redaction.text import RedactionError, luhn_valid, redact_batch, redact_text

CARDS = [
    ("Charge 4663 9233 2146 8814 please.", "4663 9233 2146 8814"),
    ("It's 4973-6993-5632-7290.", "4973-6993-5632-7290"),
    ("My card is 5151.8175.6048.0637", "5151.8175.6048.0637"),
    ("2223581783970524 is the new one.", "2223581783970524"),
    ("Amex 3432 792820 10277.", "3432 792820 10277"),
    ("6 0 1 1 6 1 6 1 2 4 9 0 6 5 2 7 is my Discover.", "6 0 1 1 6 1 6 1 2 4 9 0 6 5 2 7"),
    ("Card number 65 86 30 37 48 62 57 01.", "65 86 30 37 48 62 57 01"),
    ("Okay so 4663, 9233, 2146, 8814.", "4663, 9233, 2146, 8814"),
    (
        "My card is six four six two, nine two nine six, one one one two, four two two one.",
        "six four six two, nine two nine six, one one one two, four two two one",
    ),
    (
        "It's four five three six six five triple six five eight one six.",
        "four five three six six five triple six five eight one six",
    ),
    (
        "Visa forty six twenty three, eighty five seventy three, forty one fifty two, eighteen "
        "forty, nine oh seven.",
        "forty six twenty three, eighty five seventy three, forty one fifty two, eighteen forty, "
        "nine oh seven",
    ),
    (
        "The card is 4663 9233 two one four six eight eight one four.",
        "4663 9233 two one four six eight eight one four",
    ),
]
SSNS = [
    ("My SSN is 219-45-8803.", "219-45-8803"),
    ("My social is 219 45 8803.", "219 45 8803"),
    ("Social security number 219458803.", "219458803"),
    (
        "My social is two one nine, four five, eight eight oh three.",
        "two one nine, four five, eight eight oh three",
    ),
    (
        "Social is double two nine, three one, seven seven oh four.",
        "double two nine, three one, seven seven oh four",
    ),
]
PHONES = [
    ("Call me on (646) 555-0177.", "(646) 555-0177"),
    ("My cell is +1 312 555 0162.", "+1 312 555 0162"),
    ("Text 646.555.0177 after lunch.", "646.555.0177"),
    ("The Manchester office is +44 161 496 0734.", "+44 161 496 0734"),
    ("It's 1-877-555-0143.", "1-877-555-0143"),
    (
        "Call me at six four six, five five five, oh one seven seven.",
        "six four six, five five five, oh one seven seven",
    ),
    (
        "My number is plus four four, two oh, seven nine four six, oh one two three.",
        "plus four four, two oh, seven nine four six, oh one two three",
    ),
    (
        "Phone me on six four six five five five oh one seven seven.",
        "six four six five five five oh one seven seven",
    ),
]
NEGATIVES = [
    "The cosmic microwave background is 2.725 kelvin.",
    "In 1687 the Principia described gravity.",
    "A 12 volt battery holds 2000 milliamp hours.",
    "Nine one one is the emergency number in the US.",
    "See equation 4.12 on page 301.",
    "Meet in room 1402 at 2:30.",
    "The reduced Planck constant is 1.054571817 times 10 to the minus 34.",
    "Two to the thirty second is 4294967296.",
    "The Moon is 384 400 kilometres away.",
    "One, two, three, four, five, six, seven, eight, nine, ten.",
    "Light moves at three times ten to the eight meters per second.",
    "Pi is three point one four one five nine two six five three five.",
    "Atomic numbers 1 2 3 4 5 6 7 8 9 10 11 12 run from hydrogen to magnesium.",
    "There were 1,000,000,000,000,000 ants in the estimate.",
    "The value 0.000000000000000000000000000000910938 kilograms is tiny.",
]


@pytest.mark.parametrize(
    ("text", "span", "kind"),
    [(t, s, "CREDIT_CARD") for t, s in CARDS]
    + [(t, s, "US_SSN") for t, s in SSNS]
    + [(t, s, "PHONE_NUMBER") for t, s in PHONES],
)
def test_each_number_in_each_shape_is_replaced_by_its_placeholder(
    text: str, span: str, kind: str
) -> None:
    result = redact_text(text)
    redacted = [(e.type, text[e.start : e.end]) for e in result.entities if e.action == "redact"]
    assert redacted == [(kind, span)]
    assert result.text == text.replace(span, f"[{kind}]")


def test_card_numbers_here_are_luhn_valid() -> None:
    for text, span in CARDS:
        digits = re.sub(r"\D", "", span)
        assert digits == "" or luhn_valid(digits), text


@pytest.mark.parametrize("text", NEGATIVES)
def test_science_numbers_survive(text: str) -> None:
    result = redact_text(text)
    assert result.text == text
    assert [e for e in result.entities if e.action == "redact"] == []


def test_a_misheard_card_number_is_still_redacted_in_context() -> None:
    text = "My card number is 4663 9233 2146 8815."  # checksum off by one digit
    assert redact_text(text).text == "My card number is [CREDIT_CARD]."
    assert redact_text("The value is 4663 9233 2146 8815.").text.count("[") == 0


def test_names_and_addresses_are_flagged_with_spans_not_redacted() -> None:
    text = "Hi, this is Jennifer Walsh, I live at 1500 Oak Street, apartment 3, or P.O. Box 77."
    result = redact_text(text)
    assert result.text == text
    assert result.needs_review
    flagged = [(e.type, text[e.start : e.end], e.action) for e in result.entities]
    assert flagged == [
        ("PERSON", "Jennifer Walsh", "review"),
        ("STREET_ADDRESS", "1500 Oak Street, apartment 3", "review"),
        ("STREET_ADDRESS", "P.O. Box 77", "review"),
    ]
    assert result.summary() == {"entities": {"PERSON": 1, "STREET_ADDRESS": 2}, "review": True}


def test_placeholders_and_offsets_into_the_original() -> None:
    text = "Card 4663 9233 2146 8814, SSN 219-45-8803, call (646) 555-0177, I'm Tom Ruiz."
    result = redact_text(text)
    assert result.text == "Card [CREDIT_CARD], SSN [US_SSN], call [PHONE_NUMBER], I'm Tom Ruiz."
    assert [text[e.start : e.end] for e in result.entities] == [
        "4663 9233 2146 8814",
        "219-45-8803",
        "(646) 555-0177",
        "Tom Ruiz",
    ]
    assert result.summary() == {
        "entities": {"CREDIT_CARD": 1, "US_SSN": 1, "PHONE_NUMBER": 1, "PERSON": 1},
        "review": True,
    }


def test_batch_equals_one_by_one() -> None:
    texts = [t for t, _ in CARDS + SSNS + PHONES] + NEGATIVES + ["", "Ask Maria Lopez."]
    assert redact_batch(texts) == [redact_text(t) for t in texts]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        (" \n\t ", " \n\t "),
        ("\x00\x07 card \x1b[31m 4663 9233 2146 8814", "\x00\x07 card \x1b[31m [CREDIT_CARD]"),
        ("😀" * 500 + " call 646-555-0177 🎉", "😀" * 500 + " call [PHONE_NUMBER] 🎉"),
        ("Mi número es 646 555 0177, gracias.", "Mi número es [PHONE_NUMBER], gracias."),
        ("我的电话是 646-555-0177。", "我的电话是 [PHONE_NUMBER]。"),
        ("Номер карты 4663 9233 2146 8814.", "Номер карты [CREDIT_CARD]."),
        ("\ud800 a lone surrogate, 219-45-8803", "\ud800 a lone surrogate, [US_SSN]"),
    ],
)
def test_odd_input_gets_a_result(text: str, expected: str) -> None:
    assert redact_text(text).text == expected


def test_100_kb_is_redacted_whole_in_bounded_time() -> None:
    filler = "The speed of light is 299,792,458 meters per second, or about 3 times 10 to the 8. "
    body = (filler * 1300)[:100_000]
    card = " my card is four six six three nine two three three two one four six eight eight "
    text = body[: CHUNK_CHARS - 30] + card + body[CHUNK_CHARS:] + " call 646-555-0177"
    started = time.perf_counter()
    result = redact_text(text)
    assert time.perf_counter() - started < 30
    assert [e.type for e in result.entities] == ["CREDIT_CARD", "PHONE_NUMBER"]
    assert "[CREDIT_CARD]" in result.text and result.text.endswith("call [PHONE_NUMBER]")


def test_engine_failure_fails_closed(redactor: Redactor, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("out of memory")

    monkeypatch.setattr(redactor.analyzer, "analyze", broken)
    with pytest.raises(RedactionError, match="redaction failed"):
        redact_text("my card is 4663 9233 2146 8814")


def test_text_only() -> None:
    with pytest.raises(RedactionError):
        redact_batch([b"4663 9233 2146 8814"])  # type: ignore[list-item]


def test_only_the_needed_recognizers_and_pipes_are_loaded(redactor: Redactor) -> None:
    names = {type(r).__name__ for r in redactor.analyzer.registry.recognizers}
    assert names == {"VoiceNumberRecognizer", "StreetAddressRecognizer", "NameRecognizer"}
    assert redactor.analyzer.nlp_engine.nlp["en"].pipe_names == ["ner"]  # type: ignore[index]


def test_importing_the_interface_loads_no_engine() -> None:
    code = (
        "import sys, redaction, redaction.text; "
        "print(sorted({'spacy', 'presidio_analyzer'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
