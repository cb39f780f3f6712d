"""A live session with and without consent, through the server, Redis, a worker and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from api.app import create_app
from api.voice.models import Models
from capture.flac import decode_flac
from capture.models import Capture
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from migrations import upgrade
from tests.utils.audio import resample_to_16k
from tests.utils.capture import BROKER, wait_until
from tests.utils.celery_worker import celery_worker
from tests.utils.databases import fresh_database
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient


async def test_consent_captures_the_turn_and_no_consent_keeps_nothing(
    settings: Settings, models: Models, tmp_path: Path
) -> None:
    pcm = b"".join(
        [c async for c in models.tts.synthesize("What is the speed of light?", "friendly")]
    )
    question = np.concatenate(
        [resample_to_16k(pcm, models.tts.sample_rate), np.zeros(16_000, np.float32)]
    )
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        config = settings.model_copy(
            update={"data_dir": tmp_path, "broker_url": BROKER, "database_url": url}
        )
        env = {
            "VOICE_DATA_DIR": str(tmp_path),
            "VOICE_BROKER_URL": BROKER,
            "VOICE_DATABASE_URL": url,
        }
        with celery_worker(env), serve_app(create_app(config, models=models)) as base:
            ws = base.replace("http", "ws") + "/v1/voice"
            async with VoiceClient(ws) as client:  # no consent
                await client.start()
                await client.stream(question, speed=2)
                await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
            assert Spool(config).pending() == []
            async with VoiceClient(ws) as client:
                await client.start(consent=True, user="alice-token", region="eu")
                await client.stream(question, speed=2)
                end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
            turn_id = end["turn_id"]
            wait_until(lambda: any(turn_id in key for key in open_store(config, "eu").list("raw/")))
            wait_until(lambda: Spool(config).pending() == [])
        store = open_store(config, "eu")
        keys = store.list("raw/")
        assert len(keys) == 3 and all(f"/{turn_id}/" in key for key in keys)
        assert open_store(config, "us").list("") == []
        metadata = json.loads(store.get(next(k for k in keys if k.endswith("metadata.json"))))
        assert metadata["session_id"] == turn_id and metadata["consent"] is True
        assert "light" in metadata["transcript"].lower() and metadata["region"] == "eu"
        assert "alice-token" not in json.dumps(metadata) and len(metadata["user_id"]) == 64
        audio, rate = decode_flac(store.get(next(k for k in keys if k.endswith("audio.flac"))))
        assert rate == 16_000 and len(audio) > 16_000
        with session_scope(config) as session:
            assert [c.session_id for c in session.query(Capture)] == [turn_id]
