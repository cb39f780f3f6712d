"""DELETE /v1/me/data, the retention task and the sweep, run by a real worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from api.app import create_app
from api.routes.limits import FAILURES_ALLOWED
from api.voice.models import Models
from capture.models import AuditEntry, Capture, ConsentEvent, ReviewItem
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from tests.utils.capture import enqueue, send_task, spool_turn, wait_until
from tests.utils.celery_worker import celery_worker
from tests.utils.server import serve_app


def stored(settings: Settings) -> list[str]:
    return open_store(settings, "eu").list("raw/")


def captured(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return sorted(session.scalars(select(Capture.session_id)))


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
        assert audit.subject == carol and audit.actor == "api"
        assert audit.details == {"captures": 2, "spooled": 1, "objects": 6}
        ledger = session.scalars(select(ConsentEvent)).one()
        assert (ledger.user_id, ledger.granted, ledger.source) == (carol, False, "api")


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
            session.scalars(select(ReviewItem.session_id).where(ReviewItem.batch_id.is_not(None)))
        )
