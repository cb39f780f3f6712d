"""Each chain's steps are tasks with queues; a turn goes to the configured chain's first queue."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import redis

from capture import pipeline
from core.settings import Settings
from tests.utils.capture import BROKER
from workers.config import CHAINS, LEGACY_STEPS, QUEUES, chain_routes, enqueue_capture, make_app


def test_every_step_named_is_a_step_and_every_route_a_queue() -> None:
    named = {step for chain in CHAINS.values() for step, _ in chain} | dict(LEGACY_STEPS).keys()
    assert named == set(pipeline.STEPS)
    assert {queue for _, queue in chain_routes()} <= set(QUEUES)
    assert CHAINS["split"][-1][0] == "finish"  # the spool entry goes last


@pytest.mark.parametrize(
    ("chain", "queue", "first", "following"),
    [
        ("fused", "capture", "capture.process", 0),
        ("split", "redaction", "capture.redact", 4),
    ],
)
def test_a_turn_goes_to_the_configured_chain(
    tmp_path: Path, chain: str, queue: str, first: str, following: int
) -> None:
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, broker_url=BROKER, capture_chain=chain, _env_file=None
    )
    enqueue_capture(make_app(settings), "turn-1")
    assert {q: broker.llen(q) for q in QUEUES} == {q: int(q == queue) for q in QUEUES}
    message = json.loads(broker.lindex(queue, 0))  # type: ignore[arg-type]
    assert message["headers"]["task"] == first
    args, _, embedded = json.loads(base64.b64decode(message["body"]))
    assert args == ["turn-1"]
    assert len(embedded.get("chain") or []) == following  # the rest of the chain travels along
    broker.flushdb()
