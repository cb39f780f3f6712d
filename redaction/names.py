"""Names a speaker introduces: "my name is ...", "this is ... again", "Dr. ...", "my son ...".

spaCy's small model misses names it has not seen ("This is Marguerite Fontaine again"); on a
voice line people name themselves and others in a few set ways, and those cues find them. A
strong cue (my name is, call me, a title, a relative or colleague) takes one to three
capitalised words after it; a weak one (this is, it's, I'm, I am) takes two or three, or one that
ends the clause ("Hey, it's Zainab, ..."), since "I'm Canadian" or "This is Chapter Seven" follow
the same words. A possessive ("This is Newton's law") is no name.
"""

from __future__ import annotations

import re

# Maria, O'Connell, McKay, Al-Sayed; not NASA
_WORD = r"(?:[A-Z]['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z]?[a-z]+)*"
_TITLE = r"(?:mr|mrs|ms|mx|miss|dr|doctor|prof|professor)\b"
_STRONG = (
    r"(?i:my\s+name\s+is|my\s+name['’]s|name['’]s|call\s+me|"
    rf"{_TITLE}\.?|"
    r"(?:my|our|his|her|their)\s+(?:lab\s+partner|partner|son|daughter|husband|wife|friend|"
    r"brother|sister|mother|father|mom|mum|dad|teacher|colleague|boss|grandson|granddaughter|"
    r"child|kid|neighbou?r|student|coach|doctor|tutor|classmate)\s*,?)"
)
_WEAK = r"(?i:this\s+is|it['’]s|it\s+is|i['’]m|i\s+am)"
INTRODUCED = re.compile(
    rf"\b(?:(?P<strong>{_STRONG})|(?P<weak>{_WEAK}))\s+"
    rf"(?!(?i:{_TITLE}))(?P<name>{_WORD}(?:\s+{_WORD}){{0,2}})(?!['’]s\b|[\w'’-])"
)
_ENDS_CLAUSE = re.compile(r"\s*(?:[,.!?;]|$)|\s+(?:here|again|speaking|calling)\b")
_NOT_NAMES = frozenset(
    (
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "chapter",
        "section",
        "part",
        "page",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    )
)


def find_introduced_names(text: str) -> list[tuple[int, int, bool]]:
    """Spans of introduced names, with whether the cue was strong."""
    found = []
    for match in INTRODUCED.finditer(text):
        start, end = match.span("name")
        words = match.group("name").split()
        if any(word.lower() in _NOT_NAMES for word in words):
            continue
        strong = match.group("strong") is not None
        if strong or len(words) >= 2 or _ENDS_CLAUSE.match(text, end):
            found.append((start, end, strong))
    return found
