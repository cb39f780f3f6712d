"""``GET /metrics`` of the API: names and labels, and values that move with real sessions.

The metrics are the process's own (one registry per process), so each test reads them before
and after what it does and checks the difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from api import metrics
from api.app import create_app
from api.voice.models import Models
from core.settings import Settings
from tests.utils.audio import spoken
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient

STAGES = {"stt", "nlu", "rag", "llm", "tts", "end_of_turn", "first_audio", "total"}


def scrape(base: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> [(labels, value)] from the server's exposition."""
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def total(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for found, value in samples.get(name, [])
        if all(found.get(key) == want for key, want in labels.items())
    )


@pytest.fixture(scope="module")
def base(settings: Settings, models: Models) -> Iterator[str]:
    with serve_app(create_app(settings.model_copy(update={"max_sessions": 1}), models)) as url:
        yield url


@pytest.fixture(scope="module")
async def question(models: Models) -> np.ndarray:
    speech = await spoken(models, "What is the speed of light?", voice="friendly")
    return np.concatenate([speech, np.zeros(16_000, np.float32)])


async def test_a_turn_moves_the_stage_histograms_turns_and_feedback(
    base: str, question: np.ndarray
) -> None:
    before = scrape(base)
    async with VoiceClient(base.replace("http", "ws") + "/v1/voice") as client:
        await client.start()
        assert (
            total(scrape(base), "voice_active_sessions")
            == total(before, "voice_active_sessions") + 1
        )
        await client.stream(question, speed=2)
        end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=120)
        await client.send_json(
            {"type": "feedback", "turn_id": end["turn_id"], "value": "thumbs_up"}
        )
        await client.send_json({"type": "bogus"})  # an error frame, counted by its code
        await client.wait_for(lambda e: e["type"] == "error")
    after = scrape(base)
    assert total(after, "voice_active_sessions") == total(before, "voice_active_sessions")
    assert total(after, "voice_turns_total") == total(before, "voice_turns_total") + 1
    grew = {
        stage
        for stage in STAGES
        if total(after, "voice_turn_stage_seconds_count", stage=stage)
        == total(before, "voice_turn_stage_seconds_count", stage=stage) + 1
    }
    # each stage the turn ran (the LLM only when no fact answered), and the end-of-turn wait
    ran = {metrics.STAGES[key] for key, ms in end["latency"].items() if ms}
    assert grew == ran | {"end_of_turn"} and {"stt", "tts", "first_audio", "total"} <= grew
    first_audio_s = end["latency"]["first_audio_ms"] / 1000
    added = total(after, "voice_turn_stage_seconds_sum", stage="first_audio") - total(
        before, "voice_turn_stage_seconds_sum", stage="first_audio"
    )
    assert added == pytest.approx(first_audio_s, abs=1e-3)  # what the client was told
    # the 50 ms bucket just above it counted the turn, the one just below did not
    upper = min(b for b in metrics.SLO_BUCKETS if b >= first_audio_s)
    below = max((b for b in metrics.SLO_BUCKETS if b < first_audio_s), default=None)

    def bucket(samples: dict[str, list[tuple[dict[str, str], float]]], le: float) -> float:
        return total(samples, "voice_turn_stage_seconds_bucket", stage="first_audio", le=str(le))

    assert bucket(after, upper) == bucket(before, upper) + 1
    if below is not None:
        assert bucket(after, below) == bucket(before, below)
    assert (
        total(after, "voice_feedback_total", value="thumbs_up")
        == total(before, "voice_feedback_total", value="thumbs_up") + 1
    )
    assert (
        total(after, "voice_ws_errors_total", code="unknown_type")
        == total(before, "voice_ws_errors_total", code="unknown_type") + 1
    )


async def test_barge_ins_and_refusals_are_counted(base: str, question: np.ndarray) -> None:
    before = scrape(base)
    ws = base.replace("http", "ws") + "/v1/voice"
    async with VoiceClient(ws) as client:
        await client.start()
        async with VoiceClient(ws) as second:  # max_sessions is 1 here
            refused = await second.start()
            assert refused["code"] == "busy"
        await client.stream(question, speed=2)
        await client.wait_for(lambda e: e["type"] == "audio_start", timeout=120)
        await client.send_json({"type": "interrupt"})
        await client.wait_for(lambda e: e["type"] == "interrupted", timeout=10)
    after = scrape(base)
    assert total(after, "voice_barge_ins_total") == total(before, "voice_barge_ins_total") + 1
    assert total(after, "voice_turn_merges_total") == total(before, "voice_turn_merges_total")
    assert (
        total(after, "voice_sessions_refused_total", reason="busy")
        == total(before, "voice_sessions_refused_total", reason="busy") + 1
    )
    assert (
        total(after, "voice_ws_errors_total", code="busy")
        == total(before, "voice_ws_errors_total", code="busy") + 1
    )


def test_names_labels_and_model_info(base: str) -> None:
    samples = scrape(base)
    expected = {
        "voice_turn_stage_seconds_bucket",
        "voice_turns_total",
        "voice_active_sessions",
        "voice_sessions_refused_total",
        "voice_barge_ins_total",
        "voice_turn_merges_total",
        "voice_feedback_total",
        "voice_cache_requests_total",
        "voice_model_info",
        "process_cpu_seconds_total",
    }
    assert expected <= set(samples), expected - set(samples)
    # known label values exist from the start (at 0), so rate() sees the first turn
    stages = {labels["stage"] for labels, _ in samples["voice_turn_stage_seconds_bucket"]}
    assert stages == STAGES
    reasons = {labels["reason"] for labels, _ in samples["voice_sessions_refused_total"]}
    assert reasons == set(metrics.REFUSALS)
    models = {labels["stage"]: labels["model"] for labels, _ in samples["voice_model_info"]}
    assert set(models) == {"stt", "nlu", "llm", "tts", "turn"} and "tiny.en" in models["stt"]
    openmetrics = httpx.get(
        f"{base}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )  # what Prometheus asks for
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n") and "voice_turns_total" in openmetrics.text
    for name, found in samples.items():  # bounded labels only: never an id of any kind
        for labels, _ in found:
            assert not {"user", "user_id", "session_id", "turn_id"} & set(labels), name


def test_cache_lookups_are_counted_by_cache_and_result(base: str) -> None:
    before = scrape(base)
    metrics.cache_lookup("response", hit=True)
    metrics.cache_lookup("tts", hit=False)
    metrics.cache_lookup("tts", hit=False)
    after = scrape(base)
    for cache, result, added in (("response", "hit", 1), ("tts", "miss", 2), ("tts", "hit", 0)):
        change = total(after, "voice_cache_requests_total", cache=cache, result=result) - total(
            before, "voice_cache_requests_total", cache=cache, result=result
        )
        assert change == added, (cache, result)


def test_metrics_can_be_turned_off(settings: Settings, models: Models) -> None:
    app = create_app(settings.model_copy(update={"metrics_enabled": False}), models)
    with serve_app(app) as url:
        response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_metrics_are_not_served_through_the_public_proxy(base: str) -> None:
    relayed = httpx.get(f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert relayed.status_code == 404 and "voice_turns_total" not in relayed.text


def test_server_events_are_counted_as_dicts_or_typed_models() -> None:
    """What the route sends: dicts today; typed event models (attributes) work the same."""

    @dataclass
    class Interrupted:
        type: str
        turn_id: str
        resumed: bool = False

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    merges, barge_ins = value("voice_turn_merges_total"), value("voice_barge_ins_total")
    odd = value("voice_ws_errors_total", code="other")
    metrics.sent({"type": "interrupted", "turn_id": "a", "resumed": True})
    metrics.sent(Interrupted("interrupted", "b", resumed=True))
    metrics.sent(Interrupted("interrupted", "c"))
    metrics.sent({"type": "error", "code": "Not A Code!", "message": "x"})  # bounded: "other"
    metrics.sent({"type": "transcript", "turn_id": "d", "text": "hello"})
    assert value("voice_turn_merges_total") == merges + 2
    assert value("voice_barge_ins_total") == barge_ins + 1
    assert value("voice_ws_errors_total", code="other") == odd + 1
