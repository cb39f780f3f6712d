"""The export's report: what went in, what was left out and why, and what the splits hold.

Written as ``report.json`` (the figures) and ``report.md`` (the same for people) in the
dataset folder.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from learning.dataset.quality import RULES
from learning.dataset.terms import Coverage, Term
from learning.dataset.writer import Row


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 4)


def _by(rows: list[Row], field: str) -> dict[str, dict[str, float]]:
    counts: Counter[str] = Counter()
    seconds: dict[str, float] = {}
    for row in rows:
        key = getattr(row, field)
        counts[key] += 1
        seconds[key] = seconds.get(key, 0.0) + row.duration
    return {
        key: {"utterances": counts[key], "hours": _hours(seconds[key])} for key in sorted(counts)
    }


def split_summary(rows: list[Row], terms: list[Term]) -> dict[str, Any]:
    """Hours and utterances of one split, per domain and intent, and its term coverage."""
    originals = [row for row in rows if not row.augmentation]
    copies = [row for row in rows if row.augmentation]
    coverage = Coverage(terms)
    mentions = [coverage.mentioned(row.text) for row in originals]
    covered = set().union(*mentions) if mentions else set()
    return {
        "utterances": len(originals),
        "hours": _hours(sum(row.duration for row in originals)),
        "speakers": len({row.speaker for row in originals}),
        "augmented_copies": len(copies),
        "augmented_hours": _hours(sum(row.duration for row in copies)),
        "domains": _by(originals, "domain"),
        "intents": _by(originals, "intent"),
        "science_terms": {
            "covered": len(covered),
            "of": len(terms),
            "share": round(len(covered) / len(terms), 4) if terms else 0.0,
            "utterances_with_a_term": sum(1 for found in mentions if found),
        },
    }


def build_report(
    base: dict[str, Any],
    rows: list[Row],
    splits: list[str],
    terms: list[Term],
    counts: dict[str, Counter[str]],
) -> dict[str, Any]:
    """The whole report; ``base`` carries the options, times and model versions."""
    summaries = {
        split: split_summary([r for r in rows if r.split == split], terms) for split in splits
    }
    exported = sum(s["utterances"] for name, s in summaries.items() if name != "synthetic")
    coverage = Coverage(terms)
    covered = set().union(set(), *(coverage.mentioned(r.text) for r in rows if not r.augmentation))
    report = {
        **base,
        "empty": exported == 0,
        "considered": base.get("considered", 0),
        "exported": exported,
        "excluded": dict(sorted(counts["excluded"].items())),
        "filtered": {rule: counts["filtered"].get(rule, 0) for rule in RULES},
        "skipped": dict(sorted(counts["skipped"].items())),
        "dropped_during_export": dict(sorted(counts["dropped"].items())),
        "splits": summaries,
        "science_terms": {
            "of": len(terms),
            "covered": sorted(covered),
            "missing": sorted({t.text for t in terms} - covered),
        },
    }
    report["message"] = _message(report)
    return report


def _message(report: dict[str, Any]) -> str:
    if report["considered"] == 0:
        return "the capture database holds no turns in this window: the dataset is empty"
    if report["empty"]:
        return (
            f"none of the {report['considered']} turns in this window could be exported "
            "(see excluded, filtered, skipped): the dataset is empty"
        )
    return f"{report['exported']} of {report['considered']} turns exported"


def markdown(report: dict[str, Any]) -> str:
    """The report for people."""
    lines = [f"# Dataset export, {report['created_at']}", "", report["message"], ""]
    lines += ["| split | utterances | hours | speakers | augmented copies | term coverage |"]
    lines += ["| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, split in report["splits"].items():
        terms = split["science_terms"]
        lines.append(
            f"| {name} | {split['utterances']} | {split['hours']} | {split['speakers']} | "
            f"{split['augmented_copies']} | {terms['covered']}/{terms['of']} |"
        )
    for title, key in (("Left out", "excluded"), ("Quality rules", "filtered")):
        lines += ["", f"## {title}", ""]
        lines += [f"- {name}: {count}" for name, count in report[key].items()] or ["- none"]
    for title, key in (
        ("Skipped", "skipped"),
        ("Dropped while exporting", "dropped_during_export"),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"- {name}: {count}" for name, count in report[key].items()] or ["- none"]
    for field in ("domains", "intents"):
        lines += [
            "",
            f"## Per {field[:-1]}",
            "",
            "| split | " + field[:-1] + " | utterances | hours |",
        ]
        lines += ["| --- | --- | ---: | ---: |"]
        for name, split in report["splits"].items():
            for key, value in split[field].items():
                lines.append(f"| {name} | {key} | {value['utterances']} | {value['hours']} |")
    missing = report["science_terms"]["missing"]
    lines += ["", "## Science terms never said", "", ", ".join(missing) if missing else "none"]
    return "\n".join(lines) + "\n"
