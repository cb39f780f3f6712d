"""Per-variant figures of an experiment, from the captured turns, with an always-valid test.

Each captured turn's ``models`` names its experiment, variant and STT version; its latency,
average log-probability, feedback and any reviewer correction sit on the same row.

Thumbs-up rates are compared with a mixture sequential probability ratio test (mSPRT,
Johari et al., "Always valid inference", 2017): a normal mixture over the difference in
rates, evaluated after every rated turn in time order, and the p-value is the running
minimum of 1 / likelihood ratio. Looking every day does not inflate false wins: the chance
that p ever drops below alpha under no difference is at most alpha.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
from sqlalchemy import select

from capture.models import Capture
from core.db import session_scope
from core.settings import Settings
from learning.evaluation.stt import wer

TAU2 = 0.01  # mixing variance of the effect: rate differences of about 10 points


def msprt_pvalue(events: Iterable[tuple[str, bool]], tau2: float = TAU2) -> float:
    """Always-valid p-value that the thumbs-up rates of ``control`` and ``challenger`` differ.

    ``events`` are (variant, thumbs_up) in the order they happened.
    """
    ups = {"control": 0, "challenger": 0}
    counts = {"control": 0, "challenger": 0}
    p_value = 1.0
    for variant, up in events:
        if variant not in counts:
            continue
        counts[variant] += 1
        ups[variant] += int(up)
        n_a, n_b = counts["control"], counts["challenger"]
        if min(n_a, n_b) < 2:
            continue
        # rates shrunk slightly towards 1/2 so a run of identical votes has a variance
        rate_a, rate_b = (ups["control"] + 0.5) / (n_a + 1), (ups["challenger"] + 0.5) / (n_b + 1)
        variance = rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b
        difference = rate_b - rate_a
        log_ratio = 0.5 * math.log(variance / (variance + tau2)) + (
            tau2 * difference**2 / (2 * variance * (variance + tau2))
        )
        p_value = min(p_value, math.exp(-log_ratio) if log_ratio > 0 else 1.0)
    return p_value


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def experiment_figures(settings: Settings, experiment_id: str) -> dict[str, Any]:
    """Turns, thumbs-up rate, latency P50/P95, STT log-prob and corrected WER per variant."""
    with session_scope(settings) as session:
        rows = list(session.scalars(select(Capture).order_by(Capture.timestamp)))
    rows = [r for r in rows if (r.models or {}).get("experiment") == experiment_id]
    by_variant: dict[str, list[Capture]] = defaultdict(list)
    for row in rows:
        by_variant[str(row.models.get("variant", "control"))].append(row)
    variants: dict[str, Any] = {}
    for variant, turns in sorted(by_variant.items()):
        rated = [t for t in turns if t.feedback in ("thumbs_up", "thumbs_down")]
        latency = [
            float(t.latency.get("first_audio_ms") or t.latency.get("total_ms") or 0) for t in turns
        ]
        corrected = [t for t in turns if t.label]
        variants[variant] = {
            "turns": len(turns),
            "stt_versions": sorted({str(t.models.get("stt_version")) for t in turns}),
            "rated": len(rated),
            "thumbs_up_rate": round(sum(t.feedback == "thumbs_up" for t in rated) / len(rated), 4)
            if rated
            else None,
            "latency_ms": {"p50": _pct(latency, 50), "p95": _pct(latency, 95)},
            "avg_logprob": round(float(np.mean([t.avg_logprob for t in turns])), 4)
            if turns
            else None,
            "corrected": len(corrected),
            "corrected_wer": round(
                wer([t.label or "" for t in corrected], [t.transcript for t in corrected]), 4
            )
            if corrected
            else None,
        }
    events = [
        (str(r.models.get("variant", "control")), r.feedback == "thumbs_up")
        for r in rows
        if r.feedback in ("thumbs_up", "thumbs_down")
    ]
    return {
        "experiment": experiment_id,
        "variants": variants,
        "thumbs_up_p_value": round(msprt_pvalue(events), 6),
    }
