"""Word error rate with Whisper's English normalizer (jiwer).

A small stand-in for the evaluation harness' WER (learning/evaluation): same definition, so the
merger can point callers at that one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _normalizer() -> Any:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """Lower case, no punctuation, spelled-out forms unified (Whisper's English normalizer)."""
    return str(_normalizer()(text)).strip()


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER: word errors over reference words, after normalizing both sides."""
    import jiwer

    pairs = [(normalize(r), normalize(h)) for r, h in zip(references, hypotheses, strict=True)]
    pairs = [(r, h) for r, h in pairs if r]  # a reference with no words has nothing to miss
    if not pairs:
        return 0.0
    output = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    words = sum(len(r.split()) for r, _ in pairs)
    errors = output.substitutions + output.deletions + output.insertions
    return errors / words
