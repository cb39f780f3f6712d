from capture.offsets import to_redacted, word_times
from core.messages import Word
from redaction.text import Entity

TEXT = "call 555 123 4567 now, John"
PHONE = Entity("PHONE_NUMBER", 5, 17, 0.9, "redact")
NAME = Entity("PERSON", 23, 27, 0.8, "review")
REDACTED = "call [PHONE_NUMBER] now, John"


def test_offsets_after_a_placeholder_shift_by_its_length() -> None:
    entities = [PHONE, NAME]
    assert to_redacted(0, entities) == 0
    assert to_redacted(5, entities) == 5  # the placeholder starts where the number did
    assert to_redacted(9, entities) == 5  # inside: the placeholder's start
    assert to_redacted(9, entities, end=True) == 19  # an end inside: the placeholder's end
    assert to_redacted(17, entities, end=True) == 19
    start, end = to_redacted(23, entities), to_redacted(27, entities, end=True)
    assert REDACTED[start:end] == "John"  # a review span keeps its text, shifted


def test_word_times_point_into_the_redacted_text() -> None:
    words = [
        Word(text=w, start=float(i), end=i + 0.5, probability=0.9)
        for i, w in enumerate(["call", "555", "123", "4567", "now,", "John"])
    ]
    timed = word_times(words, TEXT, [PHONE, NAME])
    assert [REDACTED[int(s) : int(e)] for s, e, _, _ in timed] == [
        "call",
        "[PHONE_NUMBER]",
        "[PHONE_NUMBER]",
        "[PHONE_NUMBER]",
        "now,",
        "John",
    ]
    assert timed[1][2:] == [1.0, 1.5]
