"""The weekly report as the beat schedules it: a real Celery worker, PostgreSQL, the store.

Also: erasing a turn's capture takes its voice ratings with it (the foreign key).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from capture.consent import StoredTurn
from capture.erasure import drop_turn
from capture.models import Capture, ReviewItem, VoiceRating
from core.db import session_scope
from core.settings import Settings
from learning.evaluation.storage import list_reports, read_report
from migrations import upgrade
from review.ratings import Rating, rate
from tests.learning.conftest import NOW, TURNS, capture_turns
from tests.utils.capture import BROKER, send_task, wait_until
from tests.utils.celery_worker import celery_worker
from tests.utils.databases import fresh_database
from workers.config import make_app


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    redis.Redis.from_url(BROKER).flushdb()
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        env = {
            "VOICE_DATA_DIR": str(tmp_path),
            "VOICE_BROKER_URL": BROKER,
            "VOICE_DATABASE_URL": url,
        }
        yield Settings(data_dir=tmp_path, broker_url=BROKER, database_url=url, _env_file=None), env  # type: ignore[call-arg]


def test_the_beat_schedules_the_weekly_report(tmp_path: Path) -> None:
    settings = Settings(eval_report_cron="15 5 * * 1", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    entry = make_app(settings).conf.beat_schedule["evaluation-report"]
    assert entry["task"] == "evaluation.weekly_report"
    assert entry["schedule"].hour == {5} and entry["schedule"].minute == {15}
    assert entry["schedule"].day_of_week == {1}
    with pytest.raises(ValueError, match="5 fields"):
        Settings(eval_report_cron="weekly", _env_file=None)  # type: ignore[call-arg]


def test_a_worker_writes_the_weekly_report_to_the_store(
    postgres: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = postgres
    capture_turns(settings, TURNS)
    with celery_worker(env):
        send_task(env, "evaluation.weekly_report", NOW.isoformat())
        wait_until(lambda: bool(list_reports(settings)), what="the weekly report")
    assert list_reports(settings) == [
        {"id": "weekly-2026-W49", "files": ["report.html", "report.json"]}
    ]
    data, kind = read_report(settings, "weekly-2026-W49", "report.json")
    figures = json.loads(data)
    assert kind == "application/json"
    assert figures["production"]["period"]["turns"] == len(TURNS)
    assert figures["production"]["satisfaction"]["overall"]["rated"] == 13
    html, _ = read_report(settings, "weekly-2026-W49", "report.html")
    assert html.count(b"data:image/png;base64,") == 3


def test_erasing_a_turn_takes_its_voice_ratings(postgres: tuple[Settings, dict[str, str]]) -> None:
    settings, _ = postgres
    capture_turns(settings, TURNS[7:8])  # a thumbs-down turn: a review item
    with session_scope(settings) as session:
        item = session.scalars(select(ReviewItem)).one()
        row = session.get(Capture, item.turn_id)
        assert row is not None
        turn = StoredTurn.on(row.turn_id, row.timestamp, row.region)
    rate(settings, item.id, Rating(voice="friendly", score=3), "rita", "piper:joe")
    drop_turn(settings, turn)
    with session_scope(settings) as session:
        assert session.scalars(select(VoiceRating)).all() == []
