"""End of turn from the words: a small classifier of how finished a transcript reads.

It learns, at load time (well under a second), from the utterances the NLU is trained on
(``data/nlu_train.jsonl``) and a short list of conversational replies
(``data/turn_replies.txt``): each whole utterance is a finished turn and each of its
proper prefixes an unfinished one ("how many", "what is the boiling point of"), with speech
fillers put in at random places, as people say them. A prefix that is itself a question
("what is the speed of light" in "... in water") is labelled both ways, so the model
learns how often such words go on. Features are the last words, the first words and the
length; Whisper's punctuation is dropped first (it puts a "?" after a cut-off "how many").

``Combined`` joins this with the audio model (``turn_detector.SmartTurn``): a weighted
mean of their log-odds.
"""

from __future__ import annotations

import json
import math
import random
import re
from importlib import resources
from typing import Any

import numpy as np

from api.voice.turn_detector import SmartTurn, TurnDetector
from core.errors import BackendUnavailable
from core.settings import Settings

_WORD = re.compile(r"[A-Za-z0-9']+(?:\.[0-9]+)?")
_FILLERS = ["um", "uh", "so", "like", "um so", "so um", "well"]
_SEED = 12


def _clean(text: str) -> str:
    """Punctuation dropped (Whisper writes "How many?" when cut off), case and numbers kept."""
    return " ".join(_WORD.findall(text))


def features(words: list[str], tags: list[str] | None = None) -> dict[str, float]:
    """What the classifier reads: the last and first words, their parts of speech, the length.

    ``tags`` are the words' coarse parts of speech (spaCy's ``pos_``), one per word.
    """
    if not words:
        return {"empty": 1.0}
    padded = ["<s>", "<s>", *words]
    found_tags: dict[str, float] = {}
    if tags is not None:
        tagged = ["<s>", "<s>", *tags]
        found_tags = {
            f"pos={tagged[-1]}": 1.0,
            f"pos2={tagged[-2]} {tagged[-1]}": 1.0,
            f"pos3={tagged[-3]} {tagged[-2]} {tagged[-1]}": 1.0,
            f"verb={any(t in ('VERB', 'AUX') for t in tags)}": 1.0,
            f"firstpos={tags[0]}": 1.0,
        }
    found = {
        f"last={padded[-1]}": 1.0,
        f"last2={padded[-2]} {padded[-1]}": 1.0,
        f"last3={padded[-3]} {padded[-2]} {padded[-1]}": 1.0,
        f"prev={padded[-2]}": 1.0,
        f"first={words[0]}": 1.0,
        f"first2={' '.join(words[:2])}": 1.0,
        f"len={min(len(words), 8)}": 1.0,
        f"suffix={padded[-1][-3:]}": 1.0,  # generalises to unseen words: "-ers", "-ion"
        f"size={min(len(padded[-1]), 7)}": 1.0,  # content words are longer than function words
        **found_tags,
    }
    return found


def _texts() -> list[str]:
    package = resources.files("api.voice")
    texts = [
        json.loads(line)["text"]
        for line in package.joinpath("data/nlu_train.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    replies = package.joinpath("data/turn_replies.txt").read_text("utf-8").splitlines()
    return texts + [line for line in replies if line.strip() and not line.startswith("#")]


Tagged = tuple[list[str], list[str]]  # lower-case words and their parts of speech


def _examples(
    tagged: list[Tagged], seed: int = _SEED
) -> tuple[list[Tagged], list[int], list[float]]:
    """Every utterance (finished) and each of its prefixes (unfinished), also with a filler.

    The prefixes of one utterance weigh as much together as the utterance itself, so what
    stays the same along an utterance (its first words, its length class) does not pass for
    a sign of an unfinished one.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible augmentation, not security
    samples: list[Tagged] = []
    labels: list[int] = []
    weights: list[float] = []
    for words, tags in tagged:
        for variant in range(2):
            if variant and words:  # the same said with a filler somewhere
                at = rng.randrange(len(words))
                filler = rng.choice(_FILLERS).split()
                words = [*words[:at], *filler, *words[at:]]
                tags = [*tags[:at], *["INTJ"] * len(filler), *tags[at:]]
            for end in range(1, len(words) + 1):
                samples.append((words[:end], tags[:end]))
                labels.append(int(end == len(words)))
                weights.append(1.0 if end == len(words) else 1.0 / max(1, len(words) - 1))
    return samples, labels, weights


class TextTurnClassifier(TurnDetector):
    """P(finished) of a transcript; trained at load time, thread-safe to call."""

    name = "turn-text-lr"

    def __init__(self, settings: Settings) -> None:
        import spacy
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        try:
            self.nlp = spacy.load(settings.spacy_model, exclude=["ner", "lemmatizer", "parser"])
        except OSError as exc:
            raise BackendUnavailable(
                f"VOICE_TURN_DETECTOR=text needs the spaCy model VOICE_SPACY_MODEL="
                f"{settings.spacy_model!r}, which is not installed"
            ) from exc
        tagged = [self._tag(doc) for doc in self.nlp.pipe(_clean(t) for t in _texts())]
        samples, labels, weights = _examples(tagged)
        self.vectorizer = DictVectorizer()
        matrix = self.vectorizer.fit_transform([features(*s) for s in samples]).tocsr()
        matrix.indices = matrix.indices.astype(np.int32)  # liblinear takes 32-bit indices only
        matrix.indptr = matrix.indptr.astype(np.int32)
        self.model = LogisticRegression(C=1.0, solver="liblinear")
        self.model.fit(matrix, np.asarray(labels), sample_weight=np.asarray(weights))

    @staticmethod
    def _tag(doc: Any) -> Tagged:
        tokens = [t for t in doc if not t.is_space]
        return [t.text.lower() for t in tokens], [t.pos_ for t in tokens]

    def probability(self, audio: np.ndarray, text: str = "") -> float:
        """P(the words so far are a finished turn); the audio is not read."""
        vector = self.vectorizer.transform([features(*self._tag(self.nlp(_clean(text))))])
        return float(self.model.predict_proba(vector)[0, 1])


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


class Combined(TurnDetector):
    """The words' classifier and the audio model, their log-odds mixed by ``turn_audio_weight``."""

    name = "turn-text-lr+smart-turn-v3.2"

    def __init__(self, settings: Settings) -> None:
        self.weight = settings.turn_audio_weight
        self.text = TextTurnClassifier(settings)
        self.audio = SmartTurn(settings) if self.weight > 0 else None

    def probability(self, audio: np.ndarray, text: str = "") -> float:
        """1 / (1 + exp(-(w * logit(audio) + (1 - w) * logit(text))))."""
        mixed = (1 - self.weight) * _logit(self.text.probability(audio, text))
        if self.audio is not None:
            mixed += self.weight * _logit(self.audio.probability(audio, text))
        return 1 / (1 + math.exp(-mixed))
