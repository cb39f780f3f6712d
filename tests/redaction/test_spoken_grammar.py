"""The spoken-number grammar and the spoken address shapes, one shape at a time.

Tens and hundreds inside digit groups, "double"/"triple", "oh", "dash", and house numbers
with a letter suffix. These sentences are not in tests/data/pii_eval.jsonl.
"""

import pytest

from redaction.address import find_addresses
from redaction.numbers import find_numbers
from redaction.spoken import number_runs


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("one two three forty five six seven eight nine", "123456789"),  # tens among digits
        ("two twelve thirty three forty four fifty five", "212334455"),  # teens among digits
        ("six fifty, eleven, eighty nine oh two", "650118902"),
        ("five hundred twelve, thirty four", "51234"),
        ("seven hundred four, eleven, sixty six oh one", "704116601"),  # hundred and a unit
        ("eight hundred one, fifty two, oh oh one nine", "801520019"),
        ("eight hundred five five five", "800555"),  # a unit then more units: 800 555
        ("one eight hundred, five four two", "1800542"),
        ("twenty five hundred, seven seven six four", "25007764"),
        ("nine hundred, eighty eight twelve", "9008812"),
        ("four double oh five", "4005"),
        ("two double seven, eighteen", "27718"),
        ("double three five, forty, triple eight two", "335408882"),
        ("triple six seven", "6667"),
        ("one oh eight dash four four dash nine nine one two", "108449912"),
        ("twenty twenty", "2020"),
    ],
)
def test_spoken_groups_read_as_their_digits(said: str, digits: str) -> None:
    [run] = number_runs(f"it is {said} okay")
    assert "".join(group.digits for group in run.groups) == digits


def test_a_unit_after_hundred_at_the_end_of_a_sentence_joins_it() -> None:
    [run] = number_runs("Room seven hundred four.")
    assert "".join(group.digits for group in run.groups) == "704"


@pytest.mark.parametrize(
    ("text", "kind", "said"),
    [
        (
            "My social security number is one two three forty five six seven eight nine.",
            "US_SSN",
            "one two three forty five six seven eight nine",
        ),
        (
            "SSN four sixty two, oh nine, twelve twelve.",
            "US_SSN",
            "four sixty two, oh nine, twelve twelve",
        ),
        (
            "Social security seven hundred six, thirteen, forty oh two.",
            "US_SSN",
            "seven hundred six, thirteen, forty oh two",
        ),
        ("My social is 318 sixty two 4471.", "US_SSN", "318 sixty two 4471"),
        (
            "Social one one two dash three three dash four four five six.",
            "US_SSN",
            "one one two dash three three dash four four five six",
        ),
        (
            "Call me at six oh two, seven hundred five, twelve thirty.",
            "PHONE_NUMBER",
            "six oh two, seven hundred five, twelve thirty",
        ),
        (
            "My number is four four oh, triple nine, oh six oh two.",
            "PHONE_NUMBER",
            "four four oh, triple nine, oh six oh two",
        ),
    ],
)
def test_spoken_shapes_are_found_whole(text: str, kind: str, said: str) -> None:
    [found] = find_numbers(text)
    assert (found.type, text[found.start : found.end]) == (kind, said)


@pytest.mark.parametrize(
    "text",
    [
        "Count one two three four five six seven eight nine with me.",  # counting, no context
        "Seven hundred four people came in nineteen forty five.",
        "Is eight hundred five more than seven hundred nine?",
        "Double six and triple three on the dice.",
    ],
)
def test_ordinary_spoken_numbers_are_no_pii(text: str) -> None:
    assert find_numbers(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I live at twelve B Elm Street.", "twelve B Elm Street"),
        ("It's one twenty three A Main Street.", "one twenty three A Main Street"),
        ("We're at forty two-B Elm Lane.", "forty two-B Elm Lane"),
        ("It's 12-B Birch Street.", "12-B Birch Street"),
        ("Send it to nineteen c Oak Street.", "nineteen c Oak Street"),
        ("Deliver to seven hundred four Cedar Road.", "seven hundred four Cedar Road"),
        ("It's 318 b Pine Avenue, apartment two.", "318 b Pine Avenue, apartment two"),
    ],
)
def test_house_numbers_with_a_letter_are_addresses(text: str, address: str) -> None:
    [(start, end)] = find_addresses(text)
    assert text[start:end] == address


@pytest.mark.parametrize(
    "text",
    [
        "Room twelve B is on the third floor.",
        "Take vitamin B twelve a day.",
        "Plan B for the experiment, step two.",
    ],
)
def test_a_number_and_a_letter_alone_are_no_address(text: str) -> None:
    assert find_addresses(text) == []
