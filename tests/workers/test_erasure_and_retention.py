"""DELETE /v1/me/data, the retention task and the sweep, run by a real worker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.routes.limits import FAILURES_ALLOWED
from api.voice.models import Models
from capture.consent import ConsentOutbox, request_change
from capture.models import AuditEntry, Capture, ConsentEvent, ReviewItem
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from review.decisions import Decision, decide
from tests.utils.capture import USER, enqueue, send_task, spool_turn, wait_until
from tests.utils.celery_worker import celery_worker
from tests.utils.leaks import files_holding, found_in, objects_holding, rows_holding
from tests.utils.server import serve_app


def stored(settings: Settings) -> list[str]:
    return open_store(settings, "eu").list("raw/")


def captured(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return sorted(session.scalars(select(Capture.turn_id)))


def test_delete_my_data_erases_within_one_worker_run(pipeline_env, models: Models) -> None:
    settings, env = pipeline_env
    app = create_app(settings, models=models)
    sink = app.state.model_state.capture
    carol, dave = sink.user_id("carol-token"), sink.user_id("dave-token")
    spool_turn(settings, "carol-1", user_id=carol)
    spool_turn(settings, "carol-2", user_id=carol)
    spool_turn(settings, "dave-1", user_id=dave)
    with celery_worker(env), serve_app(app) as base:
        enqueue(env, "carol-1", "carol-2", "dave-1")
        wait_until(lambda: len(captured(settings)) == 3 and Spool(settings).pending() == [])
        spool_turn(settings, "carol-3", user_id=carol)  # spooled, its chain not yet started

        for headers in (
            {},
            {"Authorization": "Basic x"},
            {"Authorization": "Bearer " + "x" * 2000},
        ):
            refused = httpx.delete(f"{base}/v1/me/data", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "unauthorized"
        answer = httpx.delete(f"{base}/v1/me/data", headers={"Authorization": "Bearer carol-token"})
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "erasure_scheduled"
        assert answer.json()["spooled_turns_erased"] == 1

        wait_until(lambda: captured(settings) == ["dave-1"], what="the erasure")
        for _ in range(FAILURES_ALLOWED):
            httpx.delete(f"{base}/v1/me/data")  # refused (401) requests count too
        flood = httpx.delete(f"{base}/v1/me/data", headers={"Authorization": "Bearer dave-token"})
        assert flood.status_code == 429 and flood.json()["error"]["code"] == "rate_limited"
    assert all("/dave-1/" in key for key in stored(settings)) and len(stored(settings)) == 3
    assert Spool(settings).pending() == []
    with session_scope(settings) as session:
        audit = session.scalars(select(AuditEntry)).one()
        ledger = session.scalars(select(ConsentEvent)).one()
        assert (ledger.user_id, ledger.granted, ledger.source) == (carol, False, "api")
        assert audit.subject == f"consent:{ledger.event_id}" and audit.actor == "api"
        assert audit.details == {"captures": 2, "spooled": 1, "objects": 6}


def test_the_daily_task_expires_old_captures_when_the_clock_moves(pipeline_env) -> None:
    settings, env = pipeline_env
    now = datetime.now(UTC)
    spool_turn(settings, "aged", timestamp=(now - timedelta(days=30)).isoformat())
    spool_turn(settings, "fresh", timestamp=(now - timedelta(days=1)).isoformat())
    with celery_worker(env):
        enqueue(env, "aged", "fresh")
        wait_until(lambda: len(captured(settings)) == 2 and len(stored(settings)) == 6)
        send_task(env, "capture.expire")  # today: nothing is 90 days old
        send_task(env, "capture.expire", (now + timedelta(days=61)).isoformat())
        wait_until(lambda: captured(settings) == ["fresh"], what="the retention run")
    assert all("/fresh/" in key for key in stored(settings)) and len(stored(settings)) == 3
    with session_scope(settings) as session:
        runs = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [r.details["captures"] for r in runs] == [0, 1]


def test_the_sweep_finishes_turns_whose_chain_was_lost(pipeline_env) -> None:
    settings, env = pipeline_env
    for n in range(3):
        spool_turn(settings, f"lost-{n}")  # spooled while the broker was unreachable
    with celery_worker(env):
        send_task(env, "capture.sweep", "0")
        wait_until(lambda: len(captured(settings)) == 3 and Spool(settings).pending() == [])
    assert len(stored(settings)) == 9


def test_the_weekly_task_batches_the_review_queue(pipeline_env) -> None:
    settings, env = pipeline_env
    spool_turn(settings, "disliked", feedback="thumbs_down")
    with celery_worker(env):
        enqueue(env, "disliked")
        wait_until(lambda: captured(settings) == ["disliked"])
        send_task(env, "review.build_batch")
        wait_until(lambda: batched(settings) == ["disliked"], what="the weekly batch")


def batched(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return list(
            session.scalars(select(ReviewItem.turn_id).where(ReviewItem.batch_id.is_not(None)))
        )


TOLD = "my name is John Smith and I live at 12 Elm Street, my card is 4111 1111 1111 1111"
ANSWER = "Thank you John Smith, I have noted the Zanzibar question."
CORRECTED = "my name is Jon Smythe and I live at 14 Elmwood Street, card 4111 1111 1111 1111"
NEEDLES = [
    USER,  # the user's hashed id
    "John Smith",
    "Elm Street",
    "Zanzibar",
    "Jon Smythe",
    "Elmwood Street",
    "4111 1111",
]


def test_after_an_erasure_nothing_of_the_user_is_left_anywhere(
    pipeline_env, tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings, env = pipeline_env
    caplog.set_level(logging.DEBUG)
    worker_log = tmp_path_factory.mktemp("logs") / "worker.log"
    grant = request_change(settings, USER, granted=True, source="session")
    spool_turn(settings, "told", transcript=TOLD, response=ANSWER)
    with celery_worker(env, log_path=worker_log):
        send_task(env, "capture.consent", grant.event_id)
        enqueue(env, "told")
        wait_until(lambda: captured(settings) == ["told"] and Spool(settings).pending() == [])
        with session_scope(settings) as session:
            item = session.scalars(select(ReviewItem.id).where(ReviewItem.reason == "pii_review"))
            fix = Decision(decision="correct", transcript=CORRECTED)
            decide(settings, item.one(), fix, "rita")
        assert rows_holding(settings, ["Jon Smythe"]) and rows_holding(settings, ["Zanzibar"])
        assert objects_holding(settings, ["John Smith"])  # the scans see what is kept

        revoke = request_change(settings, USER, granted=False, source="api")
        send_task(env, "capture.consent", revoke.event_id)
        wait_until(
            lambda: captured(settings) == [] and ConsentOutbox(settings).pending() == [],
            what="the erasure",
        )
    rows = rows_holding(settings, NEEDLES)
    assert [(table, row["event_id"], row["granted"]) for table, row in rows] == [
        ("consent_events", revoke.event_id, False)  # the ledger keeps the withdrawal only
    ]
    assert files_holding(settings.data_dir, NEEDLES) == {}  # spool, outbox, objects, keys
    assert objects_holding(settings, NEEDLES) == {}  # decrypted, staging included
    assert Spool(settings).pending() == [] and ConsentOutbox(settings).pending() == []
    assert found_in(worker_log.read_bytes(), NEEDLES) == []
    assert "capture.consent" in worker_log.read_text()  # the worker's log, read
    assert found_in(caplog.text.encode(), NEEDLES) == []
