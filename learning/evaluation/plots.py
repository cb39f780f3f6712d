"""The report's plots: matplotlib (Agg), each returned as PNG bytes; None where no data."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from learning.evaluation.latency import STAGES


def _short(title: str, limit: int = 110) -> str:
    """A plot's title cut to fit (the caption under it has it whole)."""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _figure(width: float = 7.5, height: float = 3.6) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _png(figure: Any) -> bytes:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def wer_per_domain(stt: Mapping[str, Any], title: str) -> bytes | None:
    """Bars of WER per domain, the overall WER as a line."""
    domains = {d: f["wer"] for d, f in stt["per_domain"].items() if f["wer"] is not None}
    if not domains:
        return None
    figure, axes = _figure()
    names = list(domains)
    axes.bar(range(len(names)), [100 * domains[n] for n in names], color="tab:blue")
    axes.set_xticks(range(len(names)), names)
    overall = stt["overall"]["wer"]
    if overall is not None:
        axes.axhline(100 * overall, color="tab:red", linestyle="--", label=f"overall {overall:.1%}")
        axes.legend(loc="upper right", fontsize=8)
    for index, name in enumerate(names):
        count = stt["per_domain"][name]["utterances"]
        axes.annotate(
            f"n={count}", (index, 100 * domains[name]), ha="center", va="bottom", fontsize=7
        )
    axes.set_ylabel("WER (%)")
    axes.set_title(_short(title), fontsize=9)
    return _png(figure)


def latency_histograms(samples: Mapping[str, list[float]], title: str) -> bytes | None:
    """One histogram per stage that has data (ms)."""
    stages = [s for s in STAGES if samples.get(s)]
    if not stages:
        return None
    columns = min(3, len(stages))
    rows = (len(stages) + columns - 1) // columns
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(rows, columns, figsize=(9, 2.6 * rows), dpi=100, squeeze=False)
    for index, stage in enumerate(stages):
        axes = grid[index // columns][index % columns]
        axes.hist(samples[stage], bins=min(30, max(5, len(samples[stage]) // 3)), color="tab:blue")
        axes.set_title(stage.removesuffix("_ms"), fontsize=9)
        axes.set_xlabel("ms", fontsize=8)
    for index in range(len(stages), rows * columns):
        grid[index // columns][index % columns].axis("off")
    figure.suptitle(_short(title), fontsize=9)
    return _png(figure)


def percentiles_over_time(
    per_week: Mapping[str, Mapping[str, Any]], objectives: Mapping[str, float], title: str
) -> bytes | None:
    """P50/P95/P99 of end-to-end latency per week, the objectives dashed."""
    weeks = [w for w, f in per_week.items() if f["count"]]
    if not weeks:
        return None
    figure, axes = _figure()
    colours = {"p50": "tab:green", "p95": "tab:orange", "p99": "tab:red"}
    x = range(len(weeks))
    for name, colour in colours.items():
        axes.plot(x, [per_week[w][name] for w in weeks], marker="o", color=colour, label=name)
        if name in objectives:
            axes.axhline(objectives[name], color=colour, linestyle="--", linewidth=1)
    axes.set_ylabel("first answer audio after speech ends (ms)")
    axes.legend(fontsize=8)
    axes.set_xticks(x, weeks, fontsize=7)
    axes.set_title(_short(title), fontsize=9)
    return _png(figure)


def mos_per_voice(groups: Mapping[str, Mapping[str, Any]], ylabel: str, title: str) -> bytes | None:
    """Mean per voice with its 95 % interval as an error bar (1-5 scale)."""
    voices = [v for v, f in groups.items() if f.get("mos") is not None]
    if not voices:
        return None
    figure, axes = _figure(6.5, 3.4)
    means = [groups[v]["mos"] for v in voices]
    lower = [m - (groups[v]["ci95"] or [m, m])[0] for v, m in zip(voices, means, strict=True)]
    upper = [(groups[v]["ci95"] or [m, m])[1] - m for v, m in zip(voices, means, strict=True)]
    axes.bar(range(len(voices)), means, yerr=[lower, upper], capsize=6, color="tab:purple")
    axes.set_xticks(range(len(voices)), voices)
    for index, voice in enumerate(voices):
        axes.annotate(f"n={groups[voice]['ratings']}", (index, 1.05), ha="center", fontsize=7)
    axes.set_ylim(1, 5)
    axes.set_ylabel(ylabel)
    axes.set_title(_short(title), fontsize=9)
    return _png(figure)


def thumbs_up_trend(per_week: Mapping[str, Mapping[str, Any]], title: str) -> bytes | None:
    """The thumbs-up rate per week, with how many turns were rated."""
    weeks = [w for w, f in per_week.items() if f["rated"]]
    if not weeks:
        return None
    figure, axes = _figure()
    rates = [100 * per_week[w]["rate"] for w in weeks]
    axes.plot(range(len(weeks)), rates, marker="o", color="tab:green")
    for index, (week, rate) in enumerate(zip(weeks, rates, strict=True)):
        axes.annotate(f"n={per_week[week]['rated']}", (index, rate), fontsize=7, va="bottom")
    axes.set_ylim(0, 105)
    axes.set_ylabel("thumbs up (% of rated turns)")
    axes.set_xticks(range(len(weeks)), weeks, fontsize=7)
    axes.set_title(_short(title), fontsize=9)
    return _png(figure)
