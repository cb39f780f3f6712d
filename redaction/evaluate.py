"""Precision, recall and F2 of this engine and of stock Presidio on a labelled set.

The set is JSON lines: ``{"text": ..., "entities": [{"type", "start", "end"}, ...]}``, with an
optional ``part`` (``tuned`` when absent): each part is also scored on its own, so a part written
after the rules and never used to tune them shows how they do on new text. A
predicted span matches a labelled one of the same type that it overlaps; each labelled span
matches at most one prediction. Stock Presidio is the default ``AnalyzerEngine`` registry with
the same spaCy model; it has no street address type. Throughput is transcripts per second on
one thread, models loaded and warm.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from redaction.engine import REDACTED, REVIEWED, SPACY_MODEL, default_redactor

TYPES = (*REDACTED, *REVIEWED)
DEFAULT_PART = "tuned"  # the sentences the rules were developed against


@dataclass(frozen=True)
class LabelledSpan:
    """A typed span of a text: gold (from the dataset) or found (by an engine), for scoring."""

    type: str
    start: int
    end: int


@dataclass
class Counts:
    """Matches of one entity type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def figures(self) -> dict[str, float | int]:
        """Precision, recall, F2 (recall weighs four times precision) and the counts."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        total = 4 * precision + recall
        f2 = 5 * precision * recall / total if total else 0.0
        return {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f2": round(f2, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(frozen=True)
class Example:
    """A labelled transcript; ``form`` says how its numbers are said (digits, spoken...)."""

    text: str
    spans: list[LabelledSpan]
    form: str
    part: str = DEFAULT_PART


def load_dataset(path: Path) -> list[Example]:
    """The labelled transcripts at ``path``; ``ValueError`` names a bad line."""
    examples = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            spans = [
                LabelledSpan(e["type"], int(e["start"]), int(e["end"])) for e in row["entities"]
            ]
            part = str(row.get("part", DEFAULT_PART))
            examples.append(Example(str(row["text"]), spans, str(row.get("form", "")), part))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: {exc!r}") from exc
    return examples


def score(
    gold: Sequence[list[LabelledSpan]], predicted: Sequence[list[LabelledSpan]]
) -> dict[str, Counts]:
    """Per-type counts over all texts: a prediction matches an overlapping labelled span."""
    counts = {kind: Counts() for kind in TYPES}
    for labelled, found in zip(gold, predicted, strict=True):
        unmatched = [span for span in found if span.type in counts]
        for span in labelled:
            match = next((p for p in unmatched if p.type == span.type and _overlap(p, span)), None)
            if match:
                unmatched.remove(match)
                counts[span.type].tp += 1
            else:
                counts[span.type].fn += 1
        for span in unmatched:
            counts[span.type].fp += 1
    return counts


def _recall(counts: Iterable[Counts]) -> float:
    pairs = [(c.tp, c.fn) for c in counts]
    found, missed = sum(tp for tp, _ in pairs), sum(fn for _, fn in pairs)
    return round(found / (found + missed), 3) if found + missed else 1.0


def _overlap(a: LabelledSpan, b: LabelledSpan) -> bool:
    return a.start < b.end and b.start < a.end


def evaluate(path: Path) -> dict[str, Any]:
    """Both engines on the set at ``path``: figures per type, clean negatives, throughput.

    The figures are given for the whole set and, under ``parts``, for each part alone.
    """
    examples = load_dataset(path)
    texts = [e.text for e in examples]
    report: dict[str, Any] = {
        "dataset": str(path),
        "transcripts": len(examples),
        "negatives": sum(not e.spans for e in examples),
        "spacy_model": SPACY_MODEL,
        "parts": {},
    }
    parts = sorted({e.part for e in examples})
    for part in parts:
        subset = [e for e in examples if e.part == part]
        report["parts"][part] = {
            "transcripts": len(subset),
            "negatives": sum(not e.spans for e in subset),
        }
    for name, predict in (("ours", this_engine()), ("stock", stock_presidio())):
        predicted = predict(texts)  # also the warm-up of the timed pass
        with threadpool_limits(limits=1):
            started = time.perf_counter()
            predict(texts)
            seconds = time.perf_counter() - started
        report[name] = _figures(examples, predicted)
        report[name]["transcripts_per_s"] = round(len(texts) / seconds, 1)
        for part in parts:
            chosen = [(e, p) for e, p in zip(examples, predicted, strict=True) if e.part == part]
            report["parts"][part][name] = _figures([e for e, _ in chosen], [p for _, p in chosen])
    return report


def _figures(examples: list[Example], predicted: list[list[LabelledSpan]]) -> dict[str, Any]:
    """Per type figures, share of negatives left alone, recall of redacted types by form."""
    counts = score([e.spans for e in examples], predicted)
    pairs = list(zip(examples, predicted, strict=True))
    negatives = [found for example, found in pairs if not example.spans]
    clean = sum(not any(s.type in REDACTED for s in found) for found in negatives)
    by_form = {}
    for form in sorted({e.form for e in examples if any(s.type in REDACTED for s in e.spans)}):
        subset = [(e.spans, found) for e, found in pairs if e.form == form]
        form_counts = score([g for g, _ in subset], [f for _, f in subset])
        by_form[form] = _recall(form_counts[kind] for kind in REDACTED)
    return {
        "types": {kind: c.figures() for kind, c in counts.items()},
        "negatives_untouched": round(clean / len(negatives), 3) if negatives else 1.0,
        "redacted_recall_by_form": by_form,
    }


def this_engine() -> Callable[[Sequence[str]], list[list[LabelledSpan]]]:
    """The engine of this package, loaded, as a function of texts to found spans."""
    redactor = default_redactor()

    def predict(texts: Sequence[str]) -> list[list[LabelledSpan]]:
        results = redactor.redact_batch(texts)
        return [[LabelledSpan(e.type, e.start, e.end) for e in r.entities] for r in results]

    return predict


def stock_presidio() -> Callable[[Sequence[str]], list[list[LabelledSpan]]]:
    """Presidio's defaults (all predefined recognizers, score threshold 0), offline, loaded."""
    import tldextract.tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # The e-mail recognizer's domain check would fetch the public suffix list: use the copy
    # bundled with tldextract instead.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None
    )
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine())

    def predict(texts: Sequence[str]) -> list[list[LabelledSpan]]:
        return [
            [LabelledSpan(r.entity_type, r.start, r.end) for r in analyzer.analyze(text, "en")]
            for text in texts
        ]

    return predict


def format_report(report: dict[str, Any]) -> str:
    """The report as tables, ours and stock side by side: the whole set, then each part."""
    lines = [
        f"{report['dataset']}: {report['transcripts']} transcripts, {report['negatives']} "
        f"without PII; spaCy {report['spacy_model']}",
        *_table(report, throughput=True),
    ]
    for part, figures in report.get("parts", {}).items():
        lines += [
            "",
            f"part {part}: {figures['transcripts']} transcripts, {figures['negatives']} "
            "without PII",
            *_table(figures, throughput=False),
        ]
    return "\n".join(lines)


def _table(report: dict[str, Any], *, throughput: bool) -> list[str]:
    lines = [
        f"{'':<16}{'ours':>8}{'':>8}{'':>8}   {'stock':>8}{'':>8}{'':>8}",
        f"{'type':<16}{'P':>8}{'R':>8}{'F2':>8}   {'P':>8}{'R':>8}{'F2':>8}",
    ]
    for kind in TYPES:
        row = f"{kind:<16}"
        for name in ("ours", "stock"):
            figures = report[name]["types"][kind]
            row += "".join(f"{figures[key]:>8.3f}" for key in ("precision", "recall", "f2"))
            row += "   " if name == "ours" else ""
        lines.append(row)
    keys = [("negatives_untouched", "clean negatives")]
    if throughput:
        keys.append(("transcripts_per_s", "transcripts/s"))
    for key, label in keys:
        ours, stock = report["ours"][key], report["stock"][key]
        lines.append(f"{label:<16}{ours:>24}   {stock:>24}")
    for form in report["ours"]["redacted_recall_by_form"]:
        ours, stock = (report[name]["redacted_recall_by_form"][form] for name in ("ours", "stock"))
        lines.append(f"{'recall, ' + form:<16}{ours:>24}   {stock:>24}")
    return lines
