"""End-to-end sessions over a real uvicorn server, real models and real speech."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from api.app import create_app
from api.voice.audio import decode_audio
from api.voice.models import Models
from core.settings import Settings
from tests.conftest import speech_clip
from tests.utils.audio import spoken, trimmed
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient

MAX_AUDIO_FRAME_BYTES = 22_050 * 2 * 200 // 1000  # 200 ms at Piper's rate
LATENCY_KEYS = {"stt_ms", "nlu_ms", "rag_ms", "llm_ms", "tts_ms", "total_ms", "first_audio_ms"}


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16_000), np.float32)


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return decode_audio(speech_clip("jfk.flac"), max_seconds=60)


@pytest.fixture(scope="module")
def server(settings: Settings, models: Models) -> Iterator[str]:
    with serve_app(create_app(settings, models=models)) as base:
        yield base.replace("http", "ws") + "/v1/voice"


def kinds_before(events: list[dict[str, Any]], kind: str) -> list[str]:
    kinds = [e["type"] for e in events]
    return kinds[: kinds.index(kind)]


async def test_jfk_session_streams_partials_transcript_answer_and_audio(
    server: str, jfk: np.ndarray
) -> None:
    async with VoiceClient(server) as client:
        ready = await client.start(voice="technical")
        assert ready["type"] == "ready" and ready["sample_rate_in"] == 16_000
        assert ready["voice"] == "technical" and "friendly" in ready["voices"]
        await client.stream(np.concatenate([jfk, silence(2.5)]))
        end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
        await asyncio.sleep(1.0)  # anything else it would (wrongly) say comes now

    transcripts = client.of("transcript")
    assert len(transcripts) == 1, "answered before the speaker had finished"
    text = transcripts[0]["text"].lower().replace(",", "")
    assert "ask not what your country can do for you" in text
    partials = client.of("partial_transcript")
    # words shown while the speaker talks (how many depends on the CPU: they thin out under load)
    assert len(partials) >= 2
    assert kinds_before(client.events, "transcript").count("partial_transcript") == len(partials)
    kinds = [e["type"] for e in client.events]
    order = [
        kinds.index(k)
        for k in ("ready", "transcript", "nlu", "audio_start", "audio", "audio_end", "turn_end")
    ]
    assert order == sorted(order)
    assert kinds.index("response_delta") < kinds.index("turn_end")
    audio = client.of("audio")
    assert audio and all(0 < a["bytes"] <= MAX_AUDIO_FRAME_BYTES for a in audio)
    assert end["turn_id"] == transcripts[0]["turn_id"] and end["response"]
    assert set(end["latency"]) == LATENCY_KEYS
    assert 0 < end["latency"]["first_audio_ms"] <= end["latency"]["total_ms"]


async def test_two_turns_keep_their_order_and_ids(server: str, models: Models) -> None:
    first = await spoken(models, "What is the speed of light?")
    second = await spoken(models, "Convert five miles to kilometers.")
    async with VoiceClient(server) as client:
        await client.start()
        await client.stream(np.concatenate([first, silence(1.0)]), speed=2.0)
        await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
        await asyncio.sleep(0.6)  # the client plays what was sent ahead; speaking now interrupts
        await client.stream(np.concatenate([second, silence(1.0)]), speed=2.0)
        await client.wait_for(lambda e: e["type"] == "turn_end" and "kilometres" in e["response"])
    ends = client.of("turn_end")
    assert len(ends) == 2 and ends[0]["turn_id"] != ends[1]["turn_id"]
    assert "phys-speed-of-light" in ends[0]["sources"]
    assert ends[1]["response"] == "5 miles is about 8.05 kilometres."
    assert [n["intent"] for n in client.of("nlu")] == ["scientific_query", "unit_conversion"]


async def test_barge_in_stops_the_answer_and_listens(
    server: str, models: Models, jfk: np.ndarray
) -> None:
    question = await spoken(models, "Tell me about the speed of light.")
    async with VoiceClient(server) as client:
        await client.start()
        await client.stream(np.concatenate([question, silence(1.0)]), speed=2.0)
        start = await client.wait_for(lambda e: e["type"] == "audio_start", timeout=60)
        await client.stream(
            np.concatenate([jfk[: 3 * 16_000], silence(2.0)])
        )  # the user talks over it
        stopped = await client.wait_for(lambda e: e["type"] == "interrupted", timeout=10)
        assert stopped["turn_id"] == start["turn_id"]
        await client.wait_for(lambda e: e["type"] == "transcript" and "fellow" in e["text"].lower())
    index = client.events.index(stopped)
    after = client.events[index + 1 :]
    next_start = next((i for i, e in enumerate(after) if e["type"] == "audio_start"), len(after))
    assert not any(e["type"] == "audio" for e in after[:next_start]), "audio after interrupted"
    assert not any(e["type"] == "turn_end" and e["turn_id"] == start["turn_id"] for e in after)


async def test_a_cough_does_not_interrupt(server: str, models: Models, jfk: np.ndarray) -> None:
    question = await spoken(models, "Tell me about the speed of light.")
    async with VoiceClient(server) as client:
        await client.start()
        await client.stream(np.concatenate([question, silence(1.0)]), speed=2.0)
        await client.wait_for(lambda e: e["type"] == "audio_start", timeout=60)
        burst = jfk[int(0.45 * 16_000) : int(0.6 * 16_000)]  # 150 ms of voice
        await client.stream(np.concatenate([burst, silence(0.5)]))
        end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
    assert not client.of("interrupted")
    assert end["response"]


async def test_interrupt_message_and_push_to_talk(server: str, models: Models) -> None:
    question = await spoken(models, "Explain how a rainbow forms.")
    async with VoiceClient(server) as client:
        await client.start()
        await client.stream(question, speed=2.0)
        await client.send_json({"type": "end_of_speech"})  # push-to-talk: no silence needed
        turn = await client.wait_for(lambda e: e["type"] == "transcript", timeout=30)
        assert "rainbow" in turn["text"].lower()
        await client.wait_for(lambda e: e["type"] == "audio_start", timeout=60)
        await client.send_json({"type": "interrupt"})
        stopped = await client.wait_for(lambda e: e["type"] == "interrupted", timeout=5)
        assert stopped["turn_id"] == turn["turn_id"]
        await client.send_json({"type": "end_of_speech"})
        error = await client.wait_for(lambda e: e["type"] == "error")
        assert error["code"] == "no_speech"


async def test_feedback_is_checked_against_the_session(server: str, models: Models) -> None:
    question = await spoken(models, "Hello there.")
    async with VoiceClient(server) as client:
        await client.start(consent=True, region="eu")
        await client.stream(np.concatenate([question, silence(1.0)]), speed=2.0)
        end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
        await client.send_json(
            {"type": "feedback", "turn_id": end["turn_id"], "value": "thumbs_up"}
        )
        await client.send_json(
            {"type": "feedback", "turn_id": "someone-else", "value": "thumbs_up"}
        )
        await client.send_json({"type": "consent", "granted": False})
        error = await client.wait_for(lambda e: e["type"] == "error")
    assert error["code"] == "unknown_turn"
    assert len(client.of("error")) == 1


async def test_sessions_are_independent(server: str, models: Models) -> None:
    light = await spoken(models, "What is the speed of light?")
    water = await spoken(models, "At what temperature does water boil?")

    async def ask(audio: np.ndarray) -> VoiceClient:
        async with VoiceClient(server) as client:
            await client.start()
            await client.stream(np.concatenate([audio, silence(1.0)]), speed=1.5)
            await client.wait_for(lambda e: e["type"] == "turn_end", timeout=90)
        return client

    a, b = await asyncio.gather(ask(light), ask(water))
    assert "light" in a.of("transcript")[0]["text"].lower()
    assert "water" in b.of("transcript")[0]["text"].lower()
    assert "phys-speed-of-light" in a.of("turn_end")[0]["sources"]
    assert "chem-water-boiling-point" in b.of("turn_end")[0]["sources"]
    assert not ({e["turn_id"] for e in a.of("turn_end")} & {e["turn_id"] for e in b.of("turn_end")})


async def test_a_question_with_a_pause_is_answered_once_as_a_whole(
    server: str, models: Models
) -> None:
    # Piper ends a phrase with ~0.45 s of near-silence: trimmed, the pause is the 0.8 s sent
    opening = trimmed(await spoken(models, "Um, so, how many"))
    rest = await spoken(models, "planets are in the solar system?")
    async with VoiceClient(server) as client:
        await client.start()
        await client.stream(np.concatenate([opening, silence(0.8), rest, silence(2.5)]))
        end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
        await asyncio.sleep(1.0)  # a second answer, if the pause had split it, comes now
    heard = [(e["type"], e.get("text")) for e in client.events if e["type"] != "audio"]
    assert len(client.of("transcript")) == 1, heard
    (transcript,) = client.of("transcript")
    words = transcript["text"].lower()
    assert "how many" in words and "solar system" in words
    assert end["turn_id"] == transcript["turn_id"] and len(client.of("turn_end")) == 1
    assert not client.of("interrupted")


async def test_going_on_right_after_the_turn_ended_merges_both_parts(
    settings: Settings, models: Models
) -> None:
    # Any "probably finished" reading ends the turn after 300 ms: the first part is committed.
    eager = settings.model_copy(
        update={"turn_complete_probability": 0.5, "turn_incomplete_probability": 0.4}
    )
    first = await spoken(models, "What is the boiling point of water?")
    second = await spoken(models, "On the top of Mount Everest.")
    with serve_app(create_app(eager, models=models)) as base:
        async with VoiceClient(base.replace("http", "ws") + "/v1/voice") as client:
            await client.start()
            await client.stream(np.concatenate([first, silence(0.9)]))
            cut = await client.wait_for(lambda e: e["type"] == "transcript", timeout=30)
            await client.stream(np.concatenate([second, silence(2.0)]))
            stopped = await client.wait_for(lambda e: e["type"] == "interrupted", timeout=30)
            whole = await client.wait_for(
                lambda e: e["type"] == "transcript" and e["turn_id"] != cut["turn_id"], timeout=60
            )
            end = await client.wait_for(
                lambda e: e["type"] == "turn_end" and e["turn_id"] == whole["turn_id"], timeout=60
            )
    assert "everest" not in cut["text"].lower()
    assert stopped == {**stopped, "turn_id": cut["turn_id"], "resumed": True}
    assert "boiling point" in whole["text"].lower() and "everest" in whole["text"].lower()
    assert end["response"]
    assert len(client.of("transcript")) == 2
