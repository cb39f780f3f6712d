"""Mean opinion scores: people's 1-5 ratings of the answers' voices, with 95 % intervals.

The interval is Student's t on the ratings' mean: mean ± t(0.975, n-1) · s / √n. It treats
ratings as independent; ratings of one rater are not, so with few raters the true
uncertainty is wider (the rater count is shown beside every figure for that reason).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def mos_interval(scores: list[int] | list[float]) -> dict[str, Any]:
    """n, mean and the 95 % interval (None for fewer than two ratings)."""
    n = len(scores)
    if n == 0:
        return {"ratings": 0, "mos": None, "ci95": None}
    mean = sum(scores) / n
    if n < 2:
        return {"ratings": 1, "mos": round(mean, 3), "ci95": None}
    from scipy.stats import t

    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1))
    half = float(t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {
        "ratings": n,
        "mos": round(mean, 3),
        "ci95": [round(mean - half, 3), round(mean + half, 3)],
    }


def human_mos(ratings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per voice and overall: MOS, interval, rater and rating counts, TTS versions rated.

    Each rating is a mapping with ``voice``, ``score`` (1-5), ``rater`` and ``tts`` (version).
    """
    rows = list(ratings)

    def group(items: list[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            **mos_interval([int(r["score"]) for r in items]),
            "raters": len({r["rater"] for r in items}),
            "tts_versions": sorted({str(r["tts"]) for r in items}),
        }

    voices = sorted({str(r["voice"]) for r in rows})
    return {
        "overall": group(rows),
        "per_voice": {v: group([r for r in rows if r["voice"] == v]) for v in voices},
    }
