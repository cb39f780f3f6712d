"""The Presidio recognizers of the engine: voice-shaped numbers, street addresses, names."""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from redaction.address import find_addresses
from redaction.names import find_introduced_names
from redaction.numbers import find_numbers


class VoiceNumberRecognizer(EntityRecognizer):
    """Card, social security and phone numbers, written or spoken (``redaction.numbers``)."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["CREDIT_CARD", "US_SSN", "PHONE_NUMBER"], supported_language="en"
        )

    def load(self) -> None:
        """Nothing to load: rules only."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """The numbers of the requested types."""
        return [
            RecognizerResult(found.type, found.start, found.end, found.score)
            for found in find_numbers(text)
            if found.type in entities
        ]


class StreetAddressRecognizer(EntityRecognizer):
    """House number, street name and type, or PO box (``redaction.address``)."""

    SCORE = 0.7

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], supported_language="en")

    def load(self) -> None:
        """Nothing to load: a pattern only."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Every address span, if addresses were asked for."""
        if "STREET_ADDRESS" not in entities:
            return []
        return [
            RecognizerResult("STREET_ADDRESS", start, end, self.SCORE)
            for start, end in find_addresses(text)
        ]


class NameRecognizer(SpacyRecognizer):
    """spaCy's PERSON entities that can be names, and names the speaker introduces.

    Speech-to-text capitalises names; the small model also tags units ("kelvin") and
    phrases with numbers ("Convert 5280 feet to meters"), and misses names it has not seen,
    which cues such as "this is ... again" or "my daughter ..." find (``redaction.names``)
    unless spaCy reads the words as what no name is ("I'm Canadian": a nationality).
    """

    INTRODUCED_SCORE: ClassVar[dict[bool, float]] = {True: 0.6, False: 0.5}  # strong, weak cue
    # spaCy labels that rule a name out; not ORG, LOC or GPE: the small model gives unseen
    # names those ("Marguerite Fontaine": LOC)
    NOT_NAMES = frozenset(
        ("NORP", "LAW", "DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT")
    )

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"])

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """PERSON spans, the implausible ones left out."""
        results = [
            result
            for result in super().analyze(text, entities, nlp_artifacts)
            if not any(c.isdigit() for c in text[result.start : result.end])
            and any(word[:1].isupper() for word in text[result.start : result.end].split())
        ]
        if "PERSON" not in entities or nlp_artifacts is None:
            return results
        ents = getattr(nlp_artifacts.tokens, "ents", ())
        other = [(e.start_char, e.end_char) for e in ents if e.label_ in self.NOT_NAMES]
        for start, end, strong in find_introduced_names(text):
            taken = [(r.start, r.end) for r in results] + other
            if not any(start < b and a < end for a, b in taken):
                results.append(
                    RecognizerResult("PERSON", start, end, self.INTRODUCED_SCORE[strong])
                )
        return results
