"""The scheduler of model work across sessions, at the points the sessions call it.

Fake backends (tests/utils/fakes.py) stand in for the models so that the order of passes is
exact; a held slot stands in for a pass still decoding. The same scheduler runs under the
real models in every other voice test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from api.voice import scheduler as scheduling
from api.voice.chain import VoiceChain
from api.voice.events import TurnFinished
from api.voice.models import Models
from api.voice.partials import StreamingTranscriber
from api.voice.scheduler import Priority, Scheduler
from core.messages import Transcript
from core.settings import Settings
from tests.utils.fakes import FakeSTT, Script, fake_settings


@pytest.fixture(scope="module")
def fake_models(settings: Settings) -> Iterator[Models]:
    yield Models.load(fake_settings(settings))


@pytest.fixture(autouse=True)
def fresh_script() -> None:
    Script.phrases.clear()
    Script.unfinished.clear()
    FakeSTT.calls.clear()


@pytest.fixture
def installed() -> Iterator[list[Scheduler]]:
    """Tests install their own scheduler; the process's is put back afterwards."""
    previous = scheduling.get_scheduler()
    yield []
    scheduling.install(previous)


def use(installed: list[Scheduler], scheduler: Scheduler) -> Scheduler:
    scheduling.install(scheduler)
    installed.append(scheduler)
    return scheduler


async def _until(check: Callable[[], bool], within: float = 2.0) -> None:
    """Poll ``check`` (scheduler state has no event to wait on) until true."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.001)


async def test_slots_go_by_priority_then_arrival() -> None:
    scheduler = Scheduler(slots=1)
    order: list[str] = []

    async def job(name: str, level: Priority) -> None:
        async with scheduler.slot("stt", level):
            order.append(name)

    async with scheduler.slot("stt", Priority.PARTIAL):  # a pass already decoding
        tasks = [asyncio.create_task(job(f"partial{i}", Priority.PARTIAL)) for i in range(3)]
        await _until(lambda: scheduler.waiting() == 3)
        tasks.append(asyncio.create_task(job("answer", Priority.ANSWER)))
        tasks.append(asyncio.create_task(job("final", Priority.FINAL)))
        await _until(lambda: scheduler.waiting() == 5)
    await asyncio.gather(*tasks)
    assert order == ["final", "answer", "partial0", "partial1", "partial2"]


async def test_a_busy_model_does_not_block_work_for_another() -> None:
    scheduler = Scheduler(slots=2, capacity={"llm": 1})
    order: list[str] = []

    async def job(name: str, resource: str, level: Priority) -> None:
        async with scheduler.slot(resource, level):
            order.append(name)
            await asyncio.sleep(0.01)

    async with scheduler.slot("llm", Priority.FIRST_CLAUSE):  # one session's answer
        second_llm = asyncio.create_task(job("llm", "llm", Priority.FIRST_CLAUSE))
        await _until(lambda: scheduler.waiting() == 1)
        # the LLM is taken, a core is free: a partial pass may use it meanwhile
        await job("partial", "stt", Priority.PARTIAL)
    await second_llm
    assert order == ["partial", "llm"]


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    scheduler = Scheduler(slots=1)
    async with scheduler.slot("tts", Priority.ANSWER):
        waiter = asyncio.create_task(scheduler.acquire("tts", Priority.FINAL))
        await _until(lambda: scheduler.waiting() == 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert scheduler.waiting() == 0
    async with scheduler.slot("tts", Priority.ANSWER):  # the slot was given back
        assert scheduler.running == {"tts": 1}
    assert scheduler.running == {"tts": 0}


async def test_an_end_of_turn_pass_overtakes_queued_partials(
    fake_models: Models, installed: list[Scheduler]
) -> None:
    """Four sessions: three want partial transcripts, one has just stopped speaking."""
    scheduler = use(installed, Scheduler(slots=1, capacity={"stt": 1}))
    stt = fake_models.stt
    phrases = ["one two three", "four five six", "seven eight nine", "what is a photon"]
    audios = [Script().say(p, 1.0).audio() for p in phrases]
    sessions = [StreamingTranscriber(stt) for _ in phrases]
    async with scheduler.slot("stt", Priority.PARTIAL):  # someone's pass is decoding
        partials = [
            asyncio.create_task(s.update(a)) for s, a in zip(sessions[:3], audios, strict=False)
        ]
        await _until(lambda: scheduler.waiting() == 3)
        final = asyncio.create_task(sessions[3].finish(audios[3]))
        await _until(lambda: scheduler.waiting() == 4)
        assert FakeSTT.calls == []  # nothing ran while the slot was held
    transcript = await final
    texts = await asyncio.gather(*partials)
    assert transcript.text == "what is a photon"
    assert FakeSTT.calls[0] == "what is a photon"  # the end-of-turn pass went first
    assert FakeSTT.calls[1:] == phrases[:3]  # then the partials, in arrival order
    assert texts == phrases[:3]


async def test_partials_thin_out_under_load_and_come_back(
    fake_models: Models, installed: list[Scheduler]
) -> None:
    scheduler = use(
        installed, Scheduler(slots=1, capacity={"stt": 1}, thin_partials_ms=50, window_s=0.3)
    )
    audio = Script().say("how far is the moon", 1.0).audio()
    session = StreamingTranscriber(fake_models.stt)
    async with scheduler.slot("stt", Priority.PARTIAL):
        final = asyncio.create_task(StreamingTranscriber(fake_models.stt).finish(audio))
        await _until(lambda: scheduler.waiting() == 1)
        # an end-of-turn pass waits: partial passes are skipped, not queued behind it
        assert await session.update(audio) == ""
        await asyncio.sleep(0.1)  # the end-of-turn pass has now waited 100 ms > 50 ms
    await final
    assert scheduler.queue_delay_ms() >= 100 and scheduler.thin_partials()
    assert await session.update(audio) == ""  # recent waits are long: still thinned
    assert scheduler.skipped_partials == 2
    assert FakeSTT.calls == ["how far is the moon"]  # only the end-of-turn pass ran
    await asyncio.sleep(0.35)  # the load has passed (the window is 0.3 s)
    assert not scheduler.thin_partials()
    assert await session.update(audio) == "how far is the moon"  # partials are back


async def test_an_answer_asks_for_its_first_clause_first(
    fake_models: Models, installed: list[Scheduler]
) -> None:
    scheduler = use(installed, Scheduler())
    chain = VoiceChain(fake_models)
    text = "tell me about light. and about sound, please"
    events = [
        e
        async for e in chain.run_turn(
            conversation=chain.new_conversation(),
            voice="friendly",
            transcript=Transcript(text=text),
        )
    ]
    assert isinstance(events[-1], TurnFinished)
    assert scheduler.granted[0] == ("llm", Priority.FIRST_CLAUSE)
    speech = [level for resource, level in scheduler.granted if resource == "tts"]
    assert speech[0] == Priority.FIRST_CLAUSE
    assert len(speech) >= 2 and set(speech[1:]) == {Priority.ANSWER}
    assert scheduler.running == {"llm": 0, "tts": 0}


async def test_overload_follows_the_waits_of_urgent_work() -> None:
    scheduler = Scheduler(slots=1, overload_ms=50, window_s=0.5)
    assert not scheduler.overloaded()
    async with scheduler.slot("llm", Priority.ANSWER):
        partial = asyncio.create_task(scheduler.acquire("stt", Priority.PARTIAL))
        await asyncio.sleep(0.1)
        assert not scheduler.overloaded()  # only a partial waits: partials thin out instead
        finals = [asyncio.create_task(scheduler.acquire("stt", Priority.FINAL)) for _ in range(3)]
        await asyncio.sleep(0.01)
        assert not scheduler.overloaded()  # end-of-turn passes wait, but not long yet
        await asyncio.sleep(0.1)
        assert scheduler.overloaded()  # they have waited 100 ms > 50 ms
    for final in finals:
        await final
        scheduler.release("stt")
    await partial
    scheduler.release("stt")
    assert scheduler.waiting() == 0
    assert scheduler.overloaded()  # three long waits in the window: still overloaded
    await asyncio.sleep(0.55)
    assert not scheduler.overloaded()  # the load has passed
    assert np.isclose(scheduler.queue_delay_ms(), 0.0)
