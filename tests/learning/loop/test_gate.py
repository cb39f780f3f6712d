"""The promotion gate's rules on figures alone (the loop's tests run them end to end)."""

from __future__ import annotations

from typing import Any

from learning.experiments.gate import decide


def figures(wer: float = 0.2, p95: float = 700.0, **domains: float) -> dict[str, Any]:
    return {
        "dataset_hash": "h",
        "wer": wer,
        "domains": {"physics": 0.2, "astronomy": 0.1, **domains},
        "regression_wer": 0.05,
        "latency_ms": {"p50": p95 / 2, "p95": p95},
    }


CHAMPION = figures()


def reasons(challenger: dict[str, Any]) -> list[str]:
    decision = decide(challenger, CHAMPION, slice_tolerance=0.02, latency_tolerance=0.10)
    assert decision["promote"] == (not decision["reasons"])
    return list(decision["reasons"])


def test_better_everywhere_is_promoted() -> None:
    assert reasons(figures(wer=0.1, p95=720.0, physics=0.1)) == []  # +3 % latency is within 10 %


def test_slower_than_the_tolerance_is_refused() -> None:
    assert reasons(figures(wer=0.1, p95=800.0)) == ["latency P95 rose 700 -> 800 ms"]


def test_a_worse_slice_or_regression_set_is_refused_even_when_overall_wer_falls() -> None:
    assert reasons(figures(wer=0.1, astronomy=0.15)) == ["domain astronomy WER rose 0.100 -> 0.150"]
    worse = {**figures(wer=0.1), "regression_wer": 0.08}
    assert reasons(worse) == ["regression WER rose 0.050 -> 0.080"]
    assert reasons(figures(wer=0.1, astronomy=0.115)) == []  # within the tolerance


def test_no_better_overall_or_another_dataset_is_refused() -> None:
    assert reasons(figures(wer=0.2)) == ["test WER 0.200 is not lower than 0.200"]
    other = {**figures(wer=0.1), "dataset_hash": "other"}
    assert reasons(other) == ["the two evaluations are on different datasets"]
