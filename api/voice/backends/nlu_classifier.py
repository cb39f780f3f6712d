"""The embedded default NLU: linear classifiers over word and character n-grams.

They are trained at load time (about a second) on the labelled set shipped with the package;
entities come from spaCy noun phrases and a quantity grammar.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import spacy
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from api.voice.entities import find_quantities, find_terms, merge_entities
from api.voice.nlu import LanguageUnderstanding, consistent, normalize_utterance
from api.voice.threads import run_in_thread
from core.messages import NLUResult
from core.settings import Settings

SCIENCE_DOMAINS = ["physics", "chemistry", "math", "biology", "engineering"]


def load_examples(path: Path | None) -> list[dict[str, str]]:
    """The labelled utterances (``text``, ``intent``, ``domain``) the classifiers learn from."""
    if path is None:
        raw = resources.files("api.voice").joinpath("data/nlu_train.jsonl").read_text("utf-8")
    else:
        raw = path.read_text("utf-8")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def _pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
        ]
    )
    classifier = LogisticRegression(C=20.0, max_iter=2000)
    return Pipeline([("features", features), ("classifier", classifier)])


class ClassifierNLU(LanguageUnderstanding):
    """Intent over all examples; domain over the science examples only."""

    def __init__(self, settings: Settings) -> None:
        examples = load_examples(settings.nlu_train_path)
        texts = [normalize_utterance(e["text"]) for e in examples]
        self.intents = _pipeline().fit(texts, [e["intent"] for e in examples])
        science = [
            (t, e["domain"])
            for t, e in zip(texts, examples, strict=True)
            if e["domain"] in SCIENCE_DOMAINS and e["intent"] == "scientific_query"
        ]
        self.domains = _pipeline().fit([t for t, _ in science], [d for _, d in science])
        self.nlp = spacy.load(settings.spacy_model, exclude=["ner", "lemmatizer"])

    def classify(self, text: str) -> tuple[str, str, float]:
        """Intent, domain and the intent's probability for one utterance."""
        clean = normalize_utterance(text) or text.lower()
        probabilities: Any = self.intents.predict_proba([clean])[0]
        best = int(probabilities.argmax())
        intent = str(self.intents.classes_[best])
        domain = str(self.domains.predict([clean])[0]) if intent == "scientific_query" else "none"
        intent, domain = consistent(intent, domain)
        return intent, domain, float(probabilities[best])

    def analyse(self, text: str) -> NLUResult:
        """The blocking analysis: classifiers, then entities."""
        intent, domain, confidence = self.classify(text)
        entities = merge_entities(find_quantities(text), find_terms(self.nlp(text)))
        return NLUResult.model_validate(
            {"intent": intent, "domain": domain, "entities": entities, "confidence": confidence}
        )

    async def _understand(self, text: str) -> NLUResult:
        return await run_in_thread(lambda: self.analyse(text))
