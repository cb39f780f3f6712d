"""Prometheus metrics of the API process, served on ``GET /metrics`` (docs/METRICS.md).

Every label takes values from a fixed set in the code (stages, error codes, reasons, cache
names) or a bounded setting (an A/B variant): never a user, session or turn id. The process
runs one event loop (``voice-service serve`` is one uvicorn worker), so the default registry
of ``prometheus-client`` holds them all; scale out with replicas, not uvicorn workers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from api.routes.errors import ApiError

# 50 ms steps from 0.5 s to 4.5 s, around the first-audio SLOs (P50 < 1.5 s, P95 < 2.5 s,
# P99 < 4 s): histogram_quantile interpolates within one bucket, so it is off by < 50 ms there.
SLO_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4,
    *(round(0.5 + 0.05 * step, 2) for step in range(81)),
    5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 60.0,
)  # fmt: skip
# The Latency fields a turn_end carries, and the stage names they are observed under.
STAGES = {
    "stt_ms": "stt",
    "nlu_ms": "nlu",
    "rag_ms": "rag",
    "llm_ms": "llm",
    "tts_ms": "tts",
    "first_audio_ms": "first_audio",
    "total_ms": "total",
}
ALWAYS = {"stt", "first_audio", "total"}  # the others are 0 when the stage did not run
REFUSALS = (
    "origin", "not_ready", "too_many_connections", "busy", "unauthorized", "start_timeout",
    "draining",
)  # fmt: skip
_CODE = re.compile(r"[a-z][a-z_]{0,39}")
log = logging.getLogger(__name__)

TURN_STAGE = Histogram(
    "voice_turn_stage_seconds",
    "Per-stage time of an answered turn (end_of_turn: end of speech to commit; first_audio "
    "and total: from the end of speech, as the client hears it)",
    ["stage", "variant"],
    buckets=SLO_BUCKETS,
)
TURNS = Counter("voice_turns", "Answered turns (turn_end delivered)", ["variant"])
ACTIVE = Gauge("voice_active_sessions", "Sessions admitted (a valid start) and still open")
REFUSED = Counter("voice_sessions_refused", "Connections refused a session", ["reason"])
ERRORS = Counter("voice_ws_errors", "Error frames sent on /v1/voice", ["code"])
BARGE_INS = Counter("voice_barge_ins", "Answers interrupted by the user")
MERGES = Counter(
    "voice_turn_merges", "Turns cut off and merged with what the user said next (resumed)"
)
FEEDBACK = Counter("voice_feedback", "Feedback on turns", ["value", "variant"])
CACHE = Counter("voice_cache_requests", "Cache look-ups", ["cache", "result"])
MODEL_LOAD = Gauge("voice_model_load_seconds", "Time the models took to load at start-up")
MODEL_INFO = Gauge("voice_model_info", "The model each stage runs (value 1)", ["stage", "model"])

# Known label values exist from the start, at 0: rate() over a series that appears with its
# first event would miss that event, and dashboards would show gaps instead of zeros.
for _stage in ("end_of_turn", *STAGES.values()):
    TURN_STAGE.labels(_stage, "none")
TURNS.labels("none")
for _reason in REFUSALS:
    REFUSED.labels(_reason)
for _value in ("thumbs_up", "thumbs_down", "none"):
    FEEDBACK.labels(_value, "none")
for _cache in ("response", "tts"):
    for _result in ("hit", "miss"):
        CACHE.labels(_cache, _result)

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The Prometheus exposition of this process, for a scraper that reaches it directly.

    A request relayed by a proxy (it carries X-Forwarded-For, as the TLS proxy in front of
    users adds) came from outside: operational figures are not for the public.
    """
    if not request.app.state.settings.metrics_enabled:
        raise ApiError(
            "metrics are turned off (VOICE_METRICS_ENABLED)", code="not_found", status=404
        )
    if "x-forwarded-for" in request.headers:
        raise ApiError("metrics are served to direct scrapers only", code="not_found", status=404)
    # the text format, or OpenMetrics for a scraper that asks for it (Prometheus does)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(REGISTRY), headers={"Content-Type": content_type})


def turn_measured(
    latency: Mapping[str, Any], end_of_turn_s: float | None, variant: str = "none"
) -> None:
    """A turn's completed latency record (milliseconds, as in ``turn_end``)."""
    TURNS.labels(variant).inc()
    log.info(  # the turn's record in the log (its ids come with the line), never its words
        "turn delivered: first audio %s ms, total %s ms, variant %s",
        latency.get("first_audio_ms"),
        latency.get("total_ms"),
        variant,
    )
    if end_of_turn_s is not None and end_of_turn_s >= 0:
        TURN_STAGE.labels("end_of_turn", variant).observe(end_of_turn_s)
    for field, stage in STAGES.items():
        value = latency.get(field)
        if isinstance(value, int | float) and (value > 0 or stage in ALWAYS):
            TURN_STAGE.labels(stage, variant).observe(value / 1000)


def sent(item: Any) -> None:
    """Count what a server event says (errors by code, barge-ins, merges); others pass."""
    get = item.get if isinstance(item, dict) else lambda key: getattr(item, key, None)
    kind = get("type")
    if kind == "error":
        ERRORS.labels(_bounded(get("code"))).inc()
    elif kind == "interrupted":
        (MERGES if get("resumed") else BARGE_INS).inc()


def refused(reason: str) -> None:
    """A connection that got no session: ``reason`` is one of ``REFUSALS``."""
    REFUSED.labels(reason if reason in REFUSALS else "other").inc()


def feedback(value: str | None, variant: str = "none") -> None:
    """Thumbs up, thumbs down or withdrawn (None) on a turn."""
    FEEDBACK.labels(value if value in ("thumbs_up", "thumbs_down") else "none", variant).inc()


def cache_lookup(cache: Literal["response", "tts"], hit: bool) -> None:
    """One look-up in the response or TTS cache."""
    CACHE.labels(cache, "hit" if hit else "miss").inc()


def models_loaded(seconds: float | None, described: Mapping[str, str]) -> None:
    """Load time (None: not loaded here) and the model of each stage (one label set each)."""
    if seconds is not None:
        MODEL_LOAD.set(seconds)
    MODEL_INFO.clear()
    for stage, model in described.items():
        MODEL_INFO.labels(stage, model[:120]).set(1)


def _bounded(code: Any) -> str:
    return code if isinstance(code, str) and _CODE.fullmatch(code) else "other"
