"""Response and speech caches: hits and misses in-process and on a real Redis, Redis down.

Redis is the machine's (127.0.0.1:6379) in the database ``VOICE_TEST_BROKER`` names (each
engineer has one of their own); the "down" case points at a loopback port nobody listens on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from api.voice import scheduler as scheduling
from api.voice.answer_cache import Caches, normalize_question
from api.voice.cache import PREFIX, MemoryStore, RedisStore
from api.voice.chain import VoiceChain
from api.voice.events import AudioOut, TurnFinished
from api.voice.models import Models
from api.voice.scheduler import Scheduler
from core.messages import Transcript
from core.settings import Settings, VoiceName
from tests.utils.fakes import fake_settings
from tests.utils.processes import free_port

REDIS = os.environ.get("VOICE_TEST_BROKER", "redis://127.0.0.1:6379/14")


@pytest.fixture(scope="module")
def fake_models(settings: Settings) -> Iterator[Models]:
    yield Models.load(fake_settings(settings))


@pytest.fixture
def clean_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis answers at {REDIS}")

    def wipe() -> None:
        keys = list(client.scan_iter(match=PREFIX + "*"))
        if keys:
            client.delete(*keys)

    wipe()
    yield client
    wipe()
    client.close()


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    """A scheduler of the test's own: its grants show which models a turn used."""
    fresh = Scheduler()
    previous = scheduling.install(fresh)
    yield fresh
    scheduling.install(previous)


def with_caches(models: Models, **overrides: Any) -> Models:
    """``models`` with caches built from its settings plus ``overrides``."""
    settings = models.settings.model_copy(
        update={"response_cache": True, "speech_cache": True, **overrides}
    )
    copy = Models(**{**models.__dict__, "settings": settings})
    copy.caches = Caches.from_settings(settings, models.describe(), owner=copy)
    return copy


async def ask(
    models: Models,
    text: str,
    *,
    voice: VoiceName = "friendly",
    history: list[tuple[str, str]] | None = None,
) -> dict:
    chain = VoiceChain(models)
    conversation = chain.new_conversation()
    conversation.turns = list(history or [])
    pcm = b""
    finished: TurnFinished | None = None
    async for event in chain.run_turn(
        conversation=conversation, voice=voice, transcript=Transcript(text=text)
    ):
        if isinstance(event, AudioOut):
            pcm += event.pcm
        elif isinstance(event, TurnFinished):
            finished = event
    assert finished is not None
    return {"response": finished.response, "pcm": pcm, "latency": finished.latency}


def used(scheduler: Scheduler) -> list[str]:
    resources = [resource for resource, _ in scheduler.granted]
    scheduler.granted.clear()
    return resources


def test_questions_are_keyed_without_case_fillers_or_punctuation() -> None:
    assert normalize_question("Um, What's the speed of light?") == "what's the speed of light"
    assert normalize_question("what's the SPEED of light") == "what's the speed of light"
    assert normalize_question("Is pi 3.14?") == "is pi 3.14"
    assert normalize_question("uh...") == ""


async def test_the_memory_store_is_a_bounded_lru_with_a_ttl() -> None:
    store = MemoryStore(ttl_s=3600, max_entries=2, max_bytes=10)
    await store.set("a", b"1234")
    await store.set("b", b"5678")
    assert await store.get("a") == b"1234"  # "a" is now the most recent
    await store.set("c", b"9")
    assert await store.get("b") is None  # the least recently used went
    await store.set("d", b"abcdefgh")  # 4 + 1 + 8 bytes > 10: "a" goes too
    assert await store.get("a") is None and await store.get("d") == b"abcdefgh"
    assert store.size <= 10 and len(store) <= 2
    short = MemoryStore(ttl_s=0.05, max_entries=10, max_bytes=100)
    await short.set("k", b"v")
    await asyncio.sleep(0.1)
    assert await short.get("k") is None


async def test_redis_store_keeps_values_for_an_hour(clean_redis: redis.Redis) -> None:
    store = RedisStore(REDIS, ttl_s=3600)
    assert await store.get("missing") is None
    await store.set("greeting", b"\x00\x01hello")
    assert await store.get("greeting") == b"\x00\x01hello"
    assert 3590 <= clean_redis.ttl(PREFIX + "greeting") <= 3600


async def test_in_process_caches_answer_a_repeated_question_without_the_models(
    fake_models: Models, scheduler: Scheduler
) -> None:
    models = with_caches(fake_models)
    first = await ask(models, "What is a photon?")
    assert used(scheduler) == ["llm", "tts"]  # a miss: the LLM wrote it, TTS spoke it
    again = await ask(models, "what is a photon")  # same question, said differently
    assert used(scheduler) == []  # a hit: neither model ran
    assert again["response"] == first["response"] == "You said: What is a photon?."
    assert again["pcm"] == first["pcm"]
    assert again["latency"].llm_ms == 0 and again["latency"].first_audio_ms is not None
    await ask(models, "What is a photon?", voice="technical")  # another voice: a miss
    assert used(scheduler) == ["llm", "tts"]
    assert models.caches.responses is not None and models.caches.speech is not None
    assert models.caches.responses.store.hits == 1
    assert models.caches.responses.store.misses == 2


async def test_a_follow_up_question_is_never_answered_from_the_cache(
    fake_models: Models, scheduler: Scheduler
) -> None:
    models = with_caches(fake_models)
    await ask(models, "and in water")
    used(scheduler)
    history = [("what is the speed of light", "About 300,000 km per second.")]
    follow_up = await ask(models, "and in water", history=history)
    assert "llm" in used(scheduler)  # answered by the LLM, with the history
    assert follow_up["response"] == "You said: and in water."
    assert models.caches.responses is not None
    assert models.caches.responses.store.hits == 0


async def test_a_different_voice_or_model_is_a_different_entry(fake_models: Models) -> None:
    models = with_caches(fake_models)
    assert models.caches.responses is not None and models.caches.speech is not None
    responses, speech = models.caches.responses, models.caches.speech
    key = responses.key("What is a photon?", "friendly", "kb1")
    assert key == responses.key("what is a photon", "friendly", "kb1")
    assert key != responses.key("What is a photon?", "technical", "kb1")
    assert key != responses.key("What is a photon?", "friendly", "kb2")
    other = with_caches(fake_models, llm_max_tokens=7)
    assert other.caches.responses is not None
    assert key != other.caches.responses.key("What is a photon?", "friendly", "kb1")
    # nothing that may be personal is kept: numbers of 4+ digits, long utterances
    assert responses.key("My number is 555-0123, what is a volt?", "friendly", "kb1") is None
    assert responses.key("is 4111 1111 1111 1111 prime", "friendly", "kb1") is None
    assert responses.key("what " * 30 + "is light", "friendly", "kb1") is None
    assert responses.key("What is 2 plus 2?", "friendly", "kb1") is not None
    assert speech.key("Hi.", "friendly", 16_000) != speech.key("Hi.", "technical", 16_000)
    assert speech.key("Hi.", "friendly", 16_000) != speech.key("Hi!", "friendly", 16_000)


async def test_redis_caches_are_shared_between_processes(
    fake_models: Models, scheduler: Scheduler, clean_redis: redis.Redis
) -> None:
    one = with_caches(fake_models, redis_url=REDIS)
    two = with_caches(fake_models, redis_url=REDIS)  # another process's caches, same Redis
    first = await ask(one, "How far is the moon?")
    assert used(scheduler) == ["llm", "tts"]
    again = await ask(two, "how far is the moon")
    assert used(scheduler) == []
    assert again["response"] == first["response"] and again["pcm"] == first["pcm"]
    keys = list(clean_redis.scan_iter(match=PREFIX + "*"))
    assert len(keys) == 2  # the answer and its one sentence of speech
    assert all(3590 <= clean_redis.ttl(k) <= 3600 for k in keys)


async def test_a_redis_that_cannot_be_reached_is_skipped_with_one_log_line(
    fake_models: Models, scheduler: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    models = with_caches(fake_models, redis_url=down)
    with caplog.at_level(logging.WARNING, logger="api.voice.cache"):
        answers = [await ask(models, "What is a photon?") for _ in range(3)]
    assert all(a["response"] == "You said: What is a photon?." for a in answers)
    assert all(len(a["pcm"]) > 0 for a in answers)
    assert used(scheduler) == ["llm", "tts"] * 3  # every turn answered by the models
    warnings = [r for r in caplog.records if r.name == "api.voice.cache"]
    assert len(warnings) == 1  # one line, not one per lookup
    assert all("unreachable" in r.getMessage() for r in warnings)


async def test_a_cached_real_answer_is_spoken_at_once(models: Models) -> None:
    """The real models: the second asking of a question runs no LLM and no TTS."""
    cached = with_caches(models)
    first = await ask(cached, "What is the speed of light?")
    again = await ask(cached, "what is the speed of light")
    assert again["response"] == first["response"] and first["response"]
    assert again["pcm"] == first["pcm"]
    assert first["latency"].tts_ms > 0
    assert again["latency"].llm_ms == 0 and again["latency"].nlu_ms == 0


async def test_a_copy_with_other_models_is_not_answered_from_the_cache(
    fake_models: Models, scheduler: Scheduler
) -> None:
    models = with_caches(fake_models)
    await ask(models, "What is a photon?")
    used(scheduler)
    other = dataclasses.replace(models, settings=models.settings.model_copy())
    assert other.caches is models.caches  # shared by the copy, but built for ``models``
    await ask(other, "What is a photon?")
    assert used(scheduler) == ["llm", "tts"]  # answered by the copy's own models
