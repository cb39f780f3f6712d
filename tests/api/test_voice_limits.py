"""Bad input, limits, access control and shutdown of /v1/voice, against a real server."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
import pytest
import websockets

from api.app import create_app
from api.voice.models import Models
from core.settings import Settings
from core.tokens import issue_token
from tests.utils.audio import spoken
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient


@contextmanager
def voice_server(settings: Settings, models: Models, **overrides: object) -> Iterator[str]:
    app = create_app(settings.model_copy(update=overrides), models=models)
    with serve_app(app) as base:
        yield base.replace("http", "ws") + "/v1/voice"


@pytest.fixture(scope="module")
def server(settings: Settings, models: Models) -> Iterator[str]:
    with voice_server(settings, models) as url:
        yield url


async def expect_error(client: VoiceClient, code: str, send: object = None) -> dict:
    """Send ``send`` (text or bytes), then wait for an error with ``code`` that came after."""
    after = len(client.events)
    if send is not None:
        await client.ws.send(send)
    return await client.wait_for(
        lambda e: e["type"] == "error" and e["code"] == code, timeout=10, after=after
    )


async def test_bad_messages_get_codes_and_the_session_goes_on(server: str) -> None:
    async with VoiceClient(server) as client:
        await expect_error(client, "not_started", b"\x00\x00" * 320)
        await expect_error(client, "not_started", json.dumps({"type": "interrupt"}))
        assert (await client.start())["type"] == "ready"
        await expect_error(client, "bad_json", "this is not json")
        await expect_error(client, "unknown_type", json.dumps({"type": "self_destruct"}))
        await expect_error(client, "invalid_message", '{"type": "consent", "granted": "maybe"}')
        await expect_error(client, "already_started", json.dumps({"type": "start"}))
        await expect_error(client, "bad_frame", b"\x01" * 641)
        await expect_error(client, "message_too_large", "x" * 5000)
        await client.ws.send(b"\x00\x00" * 640)  # audio still accepted
        await client.send_json({"type": "stop"})
        assert (await client.wait_closed())[0] == 1000


async def test_oversized_frame_closes_with_1009(server: str) -> None:
    async with VoiceClient(server) as client:
        await client.start()
        await expect_error(client, "frame_too_large", b"\x00" * (64 * 1024 + 2))
        assert (await client.wait_closed())[0] == 1009


async def test_a_flood_of_tiny_frames_is_cut_off(settings: Settings, models: Models) -> None:
    with voice_server(settings, models, max_frames_per_s=20) as url:
        async with VoiceClient(url) as client:
            await client.start()
            for _ in range(200):
                try:
                    await client.ws.send(b"\x00\x00")
                except websockets.ConnectionClosed:
                    break
            await expect_error(client, "rate_limited")
            assert (await client.wait_closed())[0] == 1008


async def test_busy_and_idle(settings: Settings, models: Models) -> None:
    with voice_server(settings, models, max_sessions=1, idle_timeout_s=1.5) as url:
        async with VoiceClient(url) as first:
            await first.start()
            async with VoiceClient(url) as second:
                await expect_error(second, "busy")
                assert (await second.wait_closed())[0] == 1013
            await expect_error(first, "idle_timeout")  # it said nothing for 1.5 s
            assert (await first.wait_closed())[0] == 1000
        async with VoiceClient(url) as third:  # the slot is free again
            assert (await third.start())["type"] == "ready"


async def test_tokens_and_origins(settings: Settings, models: Models) -> None:
    secret = "test-secret"
    overrides = {
        "require_token": True,
        "token_secret": secret,
        "allowed_origins": ["https://voice.example.org"],
    }
    with voice_server(settings, models, **overrides) as url:
        async with VoiceClient(url) as client:
            await expect_error(client, "unauthorized", json.dumps({"type": "start"}))
            assert (await client.wait_closed())[0] == 1008
        expired = issue_token("ada", secret, ttl_s=-10)
        async with VoiceClient(url) as client:
            start = json.dumps({"type": "start", "token": expired})
            assert "expired" in (await expect_error(client, "unauthorized", start))["message"]
        forged = issue_token("ada", "another-secret", ttl_s=60)
        async with VoiceClient(url) as client:
            await expect_error(
                client, "unauthorized", json.dumps({"type": "start", "token": forged})
            )
        good = issue_token("ada", secret, ttl_s=60)
        async with VoiceClient(url, Origin="https://voice.example.org") as client:
            assert (await client.start(token=good))["type"] == "ready"
        async with VoiceClient(url, Origin="https://evil.example.com") as client:
            await expect_error(client, "unauthorized")
            assert (await client.wait_closed())[0] == 1008


def _garbage(rng: random.Random) -> str | bytes:
    choice = rng.randrange(12)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if choice == 1:
        return b"\x00" * rng.choice([1, 3, 641])  # odd lengths
    if choice == 2:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(1, 80)))
    if choice == 3:
        return json.dumps({"type": rng.choice(["start", "feedback", "consent", "x", None, 7])})
    if choice == 4:
        return json.dumps(
            {"type": "feedback", "turn_id": rng.choice(["", "a" * 100, None, 5]), "value": "meh"}
        )
    if choice == 5:
        return "[" * rng.randrange(1, 3000)
    if choice == 6:
        return json.dumps({"type": "start", "voice": rng.random(), "consent": "yes"})
    if choice == 7:
        return json.dumps([1, 2, 3])
    if choice == 8:
        return json.dumps({"type": "consent", "granted": rng.choice([True, False])})
    if choice == 9:
        return "\x00\x01{" if rng.random() < 0.5 else "\u202e\ufeff" * 50
    if choice == 10:
        return json.dumps({"type": "end_of_speech"})
    return (
        (np.random.default_rng(rng.randrange(1000)).standard_normal(320) * 3000)
        .astype("<i2")
        .tobytes()
    )


async def test_fuzz_thousand_malformed_messages_then_a_normal_session(
    settings: Settings, models: Models
) -> None:
    rng = random.Random(1234)
    sent = 0
    with voice_server(settings, models, max_sessions=4) as url:
        while sent < 1200:
            async with VoiceClient(url) as client:
                if rng.random() < 0.5:
                    await client.start()
                for _ in range(rng.randrange(20, 120)):
                    try:
                        await client.ws.send(_garbage(rng))
                    except (websockets.ConnectionClosed, UnicodeEncodeError):
                        continue
                    sent += 1
                await asyncio.sleep(0.05)
        base = url.replace("ws", "http").removesuffix("/v1/voice")
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{base}/healthz")).json() == {"status": "ok"}
        question = await spoken(models, "What is the speed of light?", voice="friendly")
        async with VoiceClient(url) as client:
            await client.start()
            await client.stream(np.concatenate([question, np.zeros(16_000, np.float32)]), speed=2)
            end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
            assert "light" in client.of("transcript")[0]["text"].lower() and end["response"]
    assert sent >= 1000


async def test_shutdown_closes_sessions(settings: Settings, models: Models) -> None:
    with voice_server(settings, models) as url:
        client = VoiceClient(url)
        await client.__aenter__()
        await client.start()
    try:
        # uvicorn closes open WebSockets with 1012 (service restart) when it shuts down;
        # the server's own close_all (1001) covers connections still open after that.
        assert (await client.wait_closed())[0] in (1001, 1012)
    finally:
        await client.__aexit__(None, None, None)
