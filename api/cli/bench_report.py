"""Figures for ``bench-talk --set``: per clip kind and overall, as a table, JSON and a plot.

WER is jiwer's word error rate over the clips of a group, after Whisper's English text
normalizer (``whisper-normalizer``) on both sides: numbers, spelling and fillers do not count.
Latency percentiles are numpy's (linear interpolation) over the clips that got a reply after
their true end; with a dozen clips a group's p99 is close to its maximum.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from api.cli.bench_set import LATE_MS, ClipResult

KINDS = [
    "complete_no_pause",
    "pause_after_content_word",
    "pause_after_function_word",
    "pause_after_filler",
    "pause_before_trailing_clause",
    "short_complete",
]
COLUMNS = ["clips", "split", "late", "answered", "p50_ms", "p95_ms", "p99_ms", "wer"]


def summarize(results: list[ClipResult]) -> dict[str, dict[str, Any]]:
    """One row of figures per kind present (in the set's order), then ``all``."""
    present = {r.clip.kind for r in results}
    kinds = [k for k in KINDS if k in present] + sorted(present - set(KINDS))
    groups = {kind: [r for r in results if r.clip.kind == kind] for kind in kinds}
    groups["all"] = results
    return {name: _figures(group) for name, group in groups.items()}


def _figures(group: list[ClipResult]) -> dict[str, Any]:
    from learning.evaluation.stt import wer

    latencies = [r.first_audio_ms for r in group if r.first_audio_ms is not None]
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    if latencies:
        p50, p95, p99 = (round(float(v), 1) for v in np.percentile(latencies, [50, 95, 99]))
    return {
        "clips": len(group),
        "split": sum(r.split for r in group),
        "late": sum(r.late for r in group),
        "answered": sum(r.answers > 0 for r in group),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "wer": round(
            float(wer([r.clip.text for r in group], [r.hypothesis for r in group])),
            3,
        ),
    }


def markdown_table(summary: dict[str, dict[str, Any]]) -> str:
    """The summary as a markdown table; missing latencies are shown as a dash."""
    head = ["kind", *COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, figures in summary.items():
        cells = [f"**{name}**" if name == "all" else name]
        cells += ["-" if figures[c] is None else str(figures[c]) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(
    out: Path, meta: dict[str, Any], summary: dict[str, dict[str, Any]], results: list[ClipResult]
) -> str:
    """Write results.json, results.md and latency.png into ``out``; return the table."""
    table = markdown_table(summary)
    document = {**meta, "late_ms": LATE_MS, "summary": summary}
    document["clips_detail"] = [r.as_json() for r in results]
    (out / "results.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    notes = [
        f"# bench-talk --set {meta['set']} (split {meta['split']})",
        "",
        f"{meta['clips']} clips over {meta['url']}, concurrency {meta['concurrency']}, "
        f"{meta['wall_s']} s, finished {meta['finished_utc']}. Latency: first reply audio "
        f"after the true end of the turn, ms; late: none within {LATE_MS:g} ms.",
        "",
        table,
        "",
        "| file | kind | first audio ms | split | late | transcript |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        notes.append(
            f"| {r.clip.path.name} | {r.clip.kind} | {r.first_audio_ms} | {r.split} | {r.late} "
            f"| {' / '.join(r.transcripts)} |"
        )
    (out / "results.md").write_text("\n".join(notes) + "\n", encoding="utf-8")
    plot_latency(out / "latency.png", results)
    return table


def plot_latency(path: Path, results: list[ClipResult]) -> None:
    """Box and points of first-audio latency per kind; late and unanswered clips marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in KINDS if any(r.clip.kind == k for r in results)]
    kinds += sorted({r.clip.kind for r in results} - set(kinds))
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    ceiling = LATE_MS * 2
    for index, kind in enumerate(kinds):
        group = [r for r in results if r.clip.kind == kind]
        values = [r.first_audio_ms for r in group if r.first_audio_ms is not None]
        if values:
            axes.boxplot([values], positions=[index], widths=0.5, showfliers=False)
        jitter = np.linspace(-0.15, 0.15, num=max(1, len(group)))
        for offset, r in zip(jitter, group, strict=True):
            shown = ceiling if r.first_audio_ms is None else r.first_audio_ms
            colour = "tab:red" if r.split else ("tab:orange" if r.late else "tab:blue")
            marker = "x" if r.first_audio_ms is None else "o"
            axes.scatter(index + offset, shown, c=colour, marker=marker, s=18, zorder=3)
    axes.axhline(LATE_MS, color="tab:orange", linestyle="--", linewidth=1)
    axes.set_xticks(range(len(kinds)), [k.replace("_", "\n") for k in kinds], fontsize=7)
    axes.set_ylabel("first reply audio after the true end (ms)")
    axes.set_title("bench-talk --set: blue ok, orange late, red split, x no reply")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
