"""Deciding when the speaker has finished.

The trailing silence that ends a turn is lengthened when the words so far read like a
sentence in progress. Silence alone cuts people off at their mid-sentence pauses ("And so,
my fellow Americans ... ask not ..."). An utterance that ends on a function word ("and",
"the", "not", "for you"), or is a short one opening with "and"/"but", waits for the longer
silence. (A "no verb" rule was tried and dropped: spaCy's small model tags spoken
imperatives such as "Convert five miles to kilometres" as verbless.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTINUATIONS = set(
    """
    a an the this that these those my your his her its our their some any no every each
    and or but so because since although though if unless until while when whereas nor yet
    of to in on at by for with from into onto about over under between through during
    without within than as like
    is are was were be been being am do does did have has had can could will would shall
    should may might must not
    what which who whom whose where why how whether
    um uh er erm hmm
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_OBJECT_PRONOUNS = {"you", "me", "us", "them", "him", "her", "it"}
_PREPOSITIONS = {"for", "to", "with", "about", "from", "at", "of", "on", "in"}
_OPENING_CONJUNCTIONS = {"and", "but", "or", "nor"}
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class TurnPolicy:
    """Silence (ms) that ends a turn, when the words look complete and when they do not."""

    complete_ms: int = 500
    incomplete_ms: int = 1500
    short_words: int = 8  # "And so, my fellow Americans" opens a longer sentence


def looks_incomplete(text: str, policy: TurnPolicy = TurnPolicy()) -> bool:
    """Whether ``text`` reads like a sentence the speaker has not finished."""
    words = _WORD.findall(text.lower())
    if not words:
        return False
    if words[-1] in _CONTINUATIONS:
        return True
    if len(words) >= 2 and words[-1] in _OBJECT_PRONOUNS and words[-2] in _PREPOSITIONS:
        return True
    return words[0] in _OPENING_CONJUNCTIONS and len(words) < policy.short_words


def silence_needed_ms(text: str, policy: TurnPolicy) -> int:
    """The trailing silence after which this utterance counts as finished."""
    return policy.incomplete_ms if looks_incomplete(text, policy) else policy.complete_ms
