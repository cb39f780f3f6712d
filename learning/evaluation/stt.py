"""Speech-to-text accuracy: WER overall and per domain, errors by kind, science terms.

Both sides go through Whisper's English text normalizer (``whisper-normalizer``) first, so
case, punctuation, spelling variants, numbers written as words and fillers do not count.
WER is jiwer's corpus WER: (substitutions + deletions + insertions) / reference words, summed
over the utterances of a group (not an average of per-utterance rates). The term error rate
is the share of science-term occurrences in the references that the hypothesis does not have
(each occurrence in the reference is matched at most once by one in the hypothesis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import SCIENCE_HOTWORDS
from learning.evaluation.sets import EvalSet, load_set

Transcriber = Callable[[np.ndarray], str]
WORST = 20


@dataclass(frozen=True)
class Scored:
    """One utterance's reference and hypothesis, normalized."""

    id: str
    domain: str
    reference: str
    hypothesis: str


@lru_cache(maxsize=1)
def _normalizer() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """Whisper's English normalization, whitespace collapsed."""
    return " ".join(_normalizer()(text).split())


def error_counts(pairs: Sequence[Scored]) -> dict[str, Any]:
    """WER and hits, substitutions, deletions, insertions over ``pairs`` (references non-empty)."""
    import jiwer

    if not pairs:
        return {
            "utterances": 0,
            "words": 0,
            "wer": None,
            "hits": 0,
            "substitutions": 0,
            "deletions": 0,
            "insertions": 0,
        }
    out = jiwer.process_words([p.reference for p in pairs], [p.hypothesis for p in pairs])
    words = out.hits + out.substitutions + out.deletions
    return {
        "utterances": len(pairs),
        "words": words,
        "wer": round((out.substitutions + out.deletions + out.insertions) / words, 4),
        "hits": out.hits,
        "substitutions": out.substitutions,
        "deletions": out.deletions,
        "insertions": out.insertions,
    }


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER of raw texts, both normalized (references left with no words are skipped)."""
    pairs = [
        Scored("", "", normalize(r), normalize(h))
        for r, h in zip(references, hypotheses, strict=True)
    ]
    return error_counts([p for p in pairs if p.reference])["wer"] or 0.0


def term_errors(pairs: Sequence[Scored], terms: Iterable[str]) -> dict[str, Any]:
    """Per term: occurrences in the references, how many the hypotheses missed; and overall."""
    patterns = {term: tuple(normalize(term).split()) for term in terms}
    per_term: dict[str, dict[str, int]] = {}
    for term, pattern in patterns.items():
        if not pattern:
            continue
        expected = missed = 0
        for pair in pairs:
            in_ref = _count(pair.reference.split(), pattern)
            in_hyp = _count(pair.hypothesis.split(), pattern)
            expected += in_ref
            missed += max(0, in_ref - in_hyp)
        if expected:
            per_term[term] = {"occurrences": expected, "missed": missed}
    total = sum(t["occurrences"] for t in per_term.values())
    missed = sum(t["missed"] for t in per_term.values())
    return {
        "occurrences": total,
        "missed": missed,
        "term_error_rate": round(missed / total, 4) if total else None,
        "terms": per_term,
    }


def _count(words: list[str], pattern: tuple[str, ...]) -> int:
    n = len(pattern)
    return sum(tuple(words[i : i + n]) == pattern for i in range(len(words) - n + 1))


def score(
    pairs: Sequence[tuple[str, str, str, str]], *, terms: Iterable[str] = SCIENCE_HOTWORDS
) -> dict[str, Any]:
    """Figures for ``(id, domain, reference, hypothesis)`` rows, raw text.

    Utterances whose reference normalizes to nothing (a lone "um") cannot have a WER: they
    are counted under ``empty_references`` and left out.
    """
    scored = [Scored(i, d, normalize(r), normalize(h)) for i, d, r, h in pairs]
    kept = [s for s in scored if s.reference]
    domains = sorted({s.domain for s in kept})
    worst = sorted(kept, key=lambda s: (-_wer_one(s), s.id))[:WORST]
    return {
        "overall": error_counts(kept),
        "per_domain": {d: error_counts([s for s in kept if s.domain == d]) for d in domains},
        "terms": term_errors(kept, terms),
        "empty_references": [s.id for s in scored if not s.reference],
        "worst": [
            {
                "id": s.id,
                "domain": s.domain,
                "wer": round(_wer_one(s), 4),
                "reference": s.reference,
                "hypothesis": s.hypothesis,
            }
            for s in worst
        ],
    }


def _wer_one(pair: Scored) -> float:
    return float(error_counts([pair])["wer"])


def transcribe_set(eval_set: EvalSet, transcriber: Transcriber) -> list[tuple[str, str, str, str]]:
    """``(id, domain, reference, hypothesis)`` for every utterance of the set."""
    return [(u.id, u.domain, u.reference, transcriber(u.load())) for u in eval_set]


def evaluate_stt(
    model: str | Path | Transcriber,
    dataset: str | Path | EvalSet,
    *,
    split: str = "test",
    terms: Iterable[str] = SCIENCE_HOTWORDS,
    version: str | None = None,
) -> dict[str, Any]:
    """Transcribe ``dataset`` with ``model`` and score it: the fine-tune gate's entry point.

    ``model`` is a CTranslate2 Whisper folder (loaded on CPU, int8) or any callable from 16 kHz
    float32 audio to text; ``dataset`` a manifest folder, a saved dataset folder (its
    ``split``), or a loaded ``EvalSet``. The result has ``overall`` and ``per_domain`` (each
    with ``wer`` and the error counts), ``terms``, ``worst``, ``model`` and ``set``.
    """
    from learning.evaluation.transcriber import WhisperTranscriber

    eval_set = dataset if isinstance(dataset, EvalSet) else load_set(Path(dataset), split=split)
    if callable(model):
        transcriber: Transcriber = model
        name = version or getattr(model, "version", None) or getattr(model, "__name__", "custom")
    else:
        whisper = WhisperTranscriber(Path(model))
        transcriber, name = whisper, version or whisper.version
    figures = score(transcribe_set(eval_set, transcriber), terms=terms)
    return {"model": str(name), "set": eval_set.source, **figures}
