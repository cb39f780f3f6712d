"""Limits that API replicas share through Redis (the test's own database, VOICE_TEST_BROKER)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from api import shared_state
from api.app import create_app
from api.routes.limits import ClientLimiter
from api.shared_state import (
    LocalConnections,
    RedisConnections,
    RedisLimiter,
    make_connections,
    make_limiter,
    redis_client,
)
from api.voice.models import Models
from core.settings import Settings
from migrations import upgrade
from tests.utils.capture import BROKER
from tests.utils.fakes import fake_settings
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient


def patient_client() -> redis.Redis:
    """The service's client (0.5 s timeouts), with time to spare on a loaded test machine."""
    return redis.Redis.from_url(BROKER, socket_timeout=10, socket_connect_timeout=10)


@pytest.fixture
def shared() -> Iterator[redis.Redis]:
    client = patient_client()
    client.flushdb()
    yield client
    client.flushdb()


def test_replicas_count_one_limit_together(shared: redis.Redis) -> None:
    first, second = (RedisLimiter(patient_client(), "admin", 3, 1.0) for _ in range(2))
    first.count("address:10.0.0.1")
    second.count("address:10.0.0.1")
    assert not first.blocked("address:10.0.0.1") and not second.blocked("address:10.0.0.1")
    second.count("address:10.0.0.1")
    assert first.blocked("address:10.0.0.1") and second.blocked("address:10.0.0.1")
    assert not first.blocked("address:10.0.0.2")  # another client is counted apart
    assert shared.ttl("voice:limit:admin:address:10.0.0.1") > 0  # forgotten with its window
    time.sleep(1.1)
    assert not second.blocked("address:10.0.0.1")  # the window slid past


def test_without_redis_the_limiter_counts_in_process() -> None:
    limiter = RedisLimiter(redis_client("redis://127.0.0.1:9/0"), "admin", 2, 60.0)
    for _ in range(2):
        assert not limiter.blocked("k")
        limiter.count("k")
    assert limiter.blocked("k") and limiter.breaker.warned
    assert not limiter.breaker.closed()  # Redis is left alone for a while: no timeout each call
    assert isinstance(make_limiter(None, "admin", 2, 60.0), ClientLimiter)
    assert isinstance(make_connections(None, 2), LocalConnections)


def test_connections_per_client_are_counted_across_replicas(
    shared: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (RedisConnections(patient_client(), 2) for _ in range(2))
    one = first.acquire("10.0.0.1")
    two = second.acquire("10.0.0.1")
    assert one and two and first.acquire("10.0.0.1") is None
    assert second.acquire("10.0.0.2")  # another address
    second.release("10.0.0.1", two)
    assert first.acquire("10.0.0.1")
    monkeypatch.setattr(shared_state, "LEASE_S", 1.0)
    crashed, alive = (RedisConnections(patient_client(), 1) for _ in range(2))
    assert crashed.acquire("10.0.0.3")  # then its replica dies: never released
    kept = alive.acquire("10.0.0.4")
    assert kept and alive.acquire("10.0.0.3") is None
    for _ in range(3):
        time.sleep(0.5)
        alive.refresh()
    assert alive.acquire("10.0.0.3")  # the dead replica's lease ran out
    assert alive.acquire("10.0.0.4") is None  # the living one's was kept alive


@pytest.fixture(scope="module")
def fake_models(settings: Settings) -> Iterator[Models]:
    yield Models.load(fake_settings(settings))


async def test_two_replicas_share_connection_and_admin_limits(
    shared: redis.Redis, fake_models: Models, settings: Settings, tmp_path: Path
) -> None:
    config = fake_settings(
        settings,
        data_dir=tmp_path,
        redis_url=BROKER,
        max_connections_per_client=1,
    )
    upgrade(config.resolved_database_url())
    with (
        serve_app(create_app(config, models=fake_models)) as one,
        serve_app(create_app(config, models=fake_models)) as two,
    ):
        async with VoiceClient(one.replace("http", "ws") + "/v1/voice") as first:
            await first.start()
            async with VoiceClient(two.replace("http", "ws") + "/v1/voice") as second:
                error = await second.wait_for(lambda e: e["type"] == "error", timeout=10)
                assert error["code"] == "too_many_connections"
                assert (await second.wait_closed())[0] == 1013
        await asyncio.sleep(0.2)  # the first connection's lease is given back
        async with VoiceClient(two.replace("http", "ws") + "/v1/voice") as third:
            assert (await third.start())["type"] == "ready"
        async with httpx.AsyncClient() as http:
            bad = {"authorization": "Bearer vsk_wrong"}
            codes = [
                (await http.get(f"{base}/v1/admin/whoami", headers=bad)).status_code
                for base in [one, two] * 5
            ]
            assert codes == [401] * 10
            for base in (one, two):  # 10 failures in a minute, counted on both replicas
                response = await http.get(f"{base}/v1/admin/whoami", headers=bad)
                assert response.status_code == 429
                assert json.loads(response.text)["error"]["code"] == "rate_limited"
