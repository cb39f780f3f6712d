"""Satisfaction: the thumbs-up rate of rated turns per week, domain, voice and model version.

Feedback is what ``capture/feedback.py`` keeps on each capture (the latest thumbs up or down
a user gave); turns nobody rated are not counted. A rate with few ratings is noisy: the
count is shown with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from learning.evaluation.latency import week_of

MODEL_KINDS = ("stt", "nlu", "llm", "tts")


def _rate(turns: list[Mapping[str, Any]]) -> dict[str, Any]:
    up = sum(t["feedback"] == "thumbs_up" for t in turns)
    return {
        "rated": len(turns),
        "thumbs_up": up,
        "rate": round(up / len(turns), 4) if turns else None,
    }


def _by(turns: list[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]) -> dict[str, Any]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for turn in turns:
        groups.setdefault(key(turn), []).append(turn)
    return {name: _rate(groups[name]) for name in sorted(groups)}


def satisfaction(turns: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Thumbs-up rates; each turn has ``feedback``, ``timestamp``, ``domain`` and ``models``."""
    rated = [t for t in turns if t.get("feedback") in ("thumbs_up", "thumbs_down")]
    return {
        "overall": _rate(rated),
        "per_week": _by(rated, lambda t: week_of(t["timestamp"])),
        "per_domain": _by(rated, lambda t: str(t["domain"])),
        "per_voice": _by(rated, lambda t: str((t.get("models") or {}).get("voice", "unknown"))),
        "per_model": {kind: _by(rated, _model(kind)) for kind in MODEL_KINDS},
    }


def _model(kind: str) -> Callable[[Mapping[str, Any]], str]:
    """The version of the ``kind`` model (stt, nlu, ...) a turn was answered with."""
    return lambda turn: str((turn.get("models") or {}).get(kind, "unknown"))
