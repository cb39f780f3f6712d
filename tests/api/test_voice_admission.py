"""Admission under load: past what the machine holds, new sessions are refused with ``busy``.

A real server with the fake backends (tests/utils/fakes.py); the load is made real in the
process's scheduler: its one slot is held while an end-of-turn pass waits for it, which is
what an overloaded machine looks like to admission.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.voice import scheduler as scheduling
from api.voice.models import Models
from api.voice.scheduler import Priority, Scheduler
from core.settings import Settings
from tests.utils.fakes import fake_settings
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient


@pytest.fixture(scope="module")
def fake_models(settings: Settings) -> Iterator[Models]:
    yield Models.load(fake_settings(settings))


@pytest.fixture
def loaded(fake_models: Models) -> Iterator[tuple[str, Scheduler]]:
    scheduler = Scheduler(slots=1, overload_ms=100, window_s=0.5)
    previous = scheduling.install(scheduler)
    app = create_app(fake_models.settings, models=fake_models)
    try:
        with serve_app(app) as base:
            yield base.replace("http", "ws") + "/v1/voice", scheduler
    finally:
        scheduling.install(previous)


async def test_new_sessions_are_refused_while_urgent_work_waits_and_admitted_after(
    loaded: tuple[str, Scheduler],
) -> None:
    url, scheduler = loaded
    async with VoiceClient(url) as first:
        assert (await first.start())["type"] == "ready"
        async with scheduler.slot("llm", Priority.ANSWER):  # the cores are taken
            waiting = asyncio.create_task(scheduler.acquire("stt", Priority.FINAL))
            await asyncio.sleep(0.25)  # an end-of-turn pass has waited 250 ms > 100 ms
            assert scheduler.overloaded()
            async with VoiceClient(url) as second:
                await second.send_json({"type": "start"})
                error = await second.wait_for(lambda e: e["type"] == "error", timeout=5)
                assert error["code"] == "busy"
                assert (await second.wait_closed())[0] == 1013  # try again later
        await waiting
        scheduler.release("stt")
        # The session admitted before the load is untouched.
        assert first.closed is None
        assert not [e for e in first.events if e["type"] == "error"]
        await asyncio.sleep(0.6)  # the load has passed (the window is 0.5 s)
        assert not scheduler.overloaded()
        async with VoiceClient(url) as third:
            assert (await third.start())["type"] == "ready"


async def test_with_no_session_open_the_first_is_admitted_whatever_the_waits(
    loaded: tuple[str, Scheduler],
) -> None:
    """Waits measured with no session open are stale (or not ours): they refuse nobody."""
    url, scheduler = loaded
    async with scheduler.slot("llm", Priority.ANSWER):
        waiting = asyncio.create_task(scheduler.acquire("stt", Priority.FINAL))
        await asyncio.sleep(0.25)
        assert scheduler.overloaded()
        async with VoiceClient(url) as lone:
            assert (await lone.start())["type"] == "ready"
            async with VoiceClient(url) as another:  # one is open now: the load counts
                await another.send_json({"type": "start"})
                error = await another.wait_for(lambda e: e["type"] == "error", timeout=5)
                assert error["code"] == "busy"
    await waiting
    scheduler.release("stt")
