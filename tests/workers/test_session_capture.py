"""Live sessions through the server, Redis, a worker and PostgreSQL: consent, feedback, opt-out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from api.app import create_app
from api.voice.models import Models
from capture.flac import decode_flac
from capture.models import AuditEntry, Capture, ConsentEvent, ReviewItem
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from migrations import upgrade
from tests.utils.audio import spoken
from tests.utils.capture import BROKER, wait_until
from tests.utils.celery_worker import celery_worker
from tests.utils.databases import fresh_database
from tests.utils.server import serve_app
from tests.utils.ws import VoiceClient


@pytest.fixture(scope="module")
async def question(models: Models) -> np.ndarray:
    return await spoken(models, "What is the speed of light?", voice="friendly", silence_s=1)


@pytest.fixture
def served(settings: Settings, models: Models, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """The service and a worker on Redis and a fresh PostgreSQL database."""
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
            yield config, base.replace("http", "ws") + "/v1/voice"


def stored(config: Settings) -> list[str]:
    return open_store(config, "eu").list("raw/") + open_store(config, "us").list("raw/")


def audited(config: Settings) -> bool:
    with session_scope(config) as session:
        return session.query(AuditEntry).count() > 0


async def test_consent_captures_the_turn_and_no_consent_keeps_nothing(
    served: tuple[Settings, str], question: np.ndarray
) -> None:
    config, ws = served
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
    wait_until(lambda: Spool(config).pending() == [] and len(stored(config)) == 3)
    store = open_store(config, "eu")
    keys = store.list("raw/")
    assert len(keys) == 3 and all(f"/{turn_id}/" in key for key in keys)
    assert open_store(config, "us").list("") == []
    metadata = json.loads(store.get(next(k for k in keys if k.endswith("metadata.json"))))
    assert metadata["turn_id"] == turn_id and metadata["consent"] is True
    assert "light" in metadata["transcript"].lower() and metadata["region"] == "eu"
    assert "alice-token" not in json.dumps(metadata) and len(metadata["user_id"]) == 64
    audio, rate = decode_flac(store.get(next(k for k in keys if k.endswith("audio.flac"))))
    assert rate == 16_000 and len(audio) > 16_000
    with session_scope(config) as session:
        assert [c.turn_id for c in session.query(Capture)] == [turn_id]
        ledger = session.scalars(select(ConsentEvent)).all()
        assert [(e.granted, e.source) for e in ledger] == [(True, "session")]


async def test_feedback_after_upload_then_opting_out_erases_everything(
    served: tuple[Settings, str], question: np.ndarray
) -> None:
    config, ws = served
    async with VoiceClient(ws) as client:
        await client.start(consent=True, user="bob-token", region="us")
        await client.stream(question, speed=2)
        end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
        turn_id = end["turn_id"]
        wait_until(lambda: Spool(config).pending() == [] and len(stored(config)) == 3)

        await client.send_json({"type": "feedback", "turn_id": turn_id, "value": "thumbs_down"})
        metadata_key = next(k for k in stored(config) if k.endswith("metadata.json"))
        store = open_store(config, "us")
        wait_until(lambda: json.loads(store.get(metadata_key))["feedback"] == "thumbs_down")
        with session_scope(config) as session:
            assert session.get(Capture, turn_id).feedback == "thumbs_down"  # type: ignore[union-attr]
            assert [r.reason for r in session.query(ReviewItem)] == ["thumbs_down"]

        await client.send_json({"type": "consent", "granted": False})
        wait_until(lambda: stored(config) == [] and audited(config), what="the erasure")
    with session_scope(config) as session:
        assert session.query(Capture).count() == 0 and session.query(ReviewItem).count() == 0
        ledger = session.scalars(select(ConsentEvent).order_by(ConsentEvent.at)).all()
        assert [e.granted for e in ledger] == [False]  # the withdrawal: the grant went too
        audit = session.scalars(select(AuditEntry)).one()
        assert audit.action == "erase_user" and audit.details["captures"] == 1
        assert audit.subject == f"consent:{ledger[0].event_id}"
        assert "bob" not in json.dumps(audit.details)
