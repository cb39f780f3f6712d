"""Migrations that change rows: ``list_json_columns`` converts them both ways, and
``turn_id_columns`` renames the turn's id column under them, on PostgreSQL and SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, column, insert, select, table

from core.db import engine_for
from migrations import downgrade, upgrade
from tests.utils.databases import fresh_database

WORDS = [[0, 2, 0.0, 0.2], [3, 7, 0.25, 0.6]]
SPANS = [{"type": "PERSON", "start": 11, "end": 21}]
FLAGS = [{"type": "STREET_ADDRESS", "start": 0, "end": 5}]
COLUMNS = {  # (table, column, key): the value rows hold, as a list
    ("captures", "word_times", "turn-1"): WORDS,
    ("captures", "word_times", "turn-2"): [],
    ("review_items", "spans", 1): SPANS,
    ("review_items", "tags", 1): ["stt_error", "bad_response"],
    ("review_items", "spans", 2): [],
    ("review_items", "tags", 2): [],
    ("review_decisions", "spans", 1): FLAGS,
    ("review_decisions", "tags", 1): ["stt_error"],
}
KEY = {"captures": "session_id", "review_items": "id", "review_decisions": "id"}


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as made:
        yield made


def _capture(session_id: str, word_times: object) -> dict[str, object]:
    return {
        "session_id": session_id,
        "user_id": "u" * 64,
        "conversation_id": "c",
        "turn_index": 0,
        "region": "eu",
        "day": "2026-11-25",
        "timestamp": "2026-11-25 10:30:00+00:00",
        "duration_ms": 1000,
        "transcript": "my name is [PERSON]",
        "response": "Hello.",
        "intent": "other",
        "domain": "none",
        "latency": "{}",
        "models": "{}",
        "redaction": "{}",
        "avg_logprob": 0.0,
        "word_times": json.dumps(word_times),
    }


def _insert(connection: Connection, name: str, row: dict[str, object]) -> None:
    connection.execute(insert(table(name, *(column(c) for c in row))).values(row))


def _read(url: str) -> dict[tuple[str, str, object], object]:
    found = {}
    with engine_for(url).connect() as connection:
        for name, json_column, key in COLUMNS:
            query = (
                select(column(json_column)).select_from(table(name)).where(column(KEY[name]) == key)
            )
            value = connection.execute(query).scalar_one()
            found[(name, json_column, key)] = json.loads(value) if isinstance(value, str) else value
    return found


def test_rows_are_converted_on_upgrade_and_back_on_downgrade(url: str) -> None:
    upgrade(url, "0003")
    wrapped = {where: {"items": value} for where, value in COLUMNS.items()}
    with engine_for(url).begin() as connection:
        _insert(connection, "captures", _capture("turn-1", {"items": WORDS}))
        no_words = _capture("turn-2", None)
        del no_words["word_times"]  # the server default fills it
        _insert(connection, "captures", no_words)
        for item in (1, 2):
            row = {
                "id": item,
                "session_id": f"turn-{item}",
                "reason": "pii_review",
                "spans": json.dumps(wrapped[("review_items", "spans", item)]),
                "status": "pending",
                "created_at": "2026-11-25 10:31:00+00:00",
            }
            if item == 1:
                row["tags"] = json.dumps(wrapped[("review_items", "tags", 1)])
            _insert(connection, "review_items", row)  # item 2: tags from the server default
        _insert(
            connection,
            "review_decisions",
            {
                "id": 1,
                "item_id": 1,
                "session_id": "turn-1",
                "version": 1,
                "decision": "correct",
                "transcript": "my name is [PERSON]",
                "spans": json.dumps(wrapped[("review_decisions", "spans", 1)]),
                "tags": json.dumps(wrapped[("review_decisions", "tags", 1)]),
                "reviewer": "rita",
                "at": "2026-11-25 11:00:00+00:00",
            },
        )
    assert _read(url) == wrapped

    upgrade(url, "list_json_columns")
    assert _read(url) == COLUMNS
    upgrade(url, "list_json_columns")  # there already: nothing changes
    assert _read(url) == COLUMNS

    downgrade(url, "0003")
    assert _read(url) == wrapped
    engine_for(url).dispose()


def _turn_ids(url: str, name: str, key: str) -> list[object]:
    with engine_for(url).connect() as connection:
        return list(connection.execute(select(column(key)).select_from(table(name))).scalars())


def test_the_turn_id_rename_keeps_rows_and_their_links(url: str) -> None:
    upgrade(url, "model_registry")
    with engine_for(url).begin() as connection:
        _insert(connection, "captures", _capture("turn-1", WORDS))
        review = {"id": 1, "session_id": "turn-1", "reason": "pii_review", "status": "pending"}
        at = {"created_at": "2026-11-25 10:31:00+00:00", "spans": "[]", "tags": "[]"}
        _insert(connection, "review_items", {**review, **at})
        feedback = {"event_id": "e1", "session_id": "turn-1", "value": "thumbs_up"}
        _insert(connection, "feedback", {**feedback, "at": "2026-11-25 10:32:00+00:00"})

    upgrade(url)
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from capture.models import Capture, FeedbackEvent, ReviewItem

    for name in ("captures", "review_items", "feedback"):
        assert _turn_ids(url, name, "turn_id") == ["turn-1"], name
    with Session(engine_for(url)) as session:  # the models read the renamed columns
        assert session.get(Capture, "turn-1") is not None
        assert session.query(ReviewItem).filter_by(turn_id="turn-1").count() == 1
        assert session.query(FeedbackEvent).filter_by(turn_id="turn-1").count() == 1
    downgrade(url, "model_registry")
    assert _turn_ids(url, "review_items", "session_id") == ["turn-1"]
    upgrade(url)
    with engine_for(url).begin() as connection:  # the foreign keys follow the rename
        connection.execute(delete(table("captures")).where(column("turn_id") == "turn-1"))
    assert _turn_ids(url, "review_items", "turn_id") == []
    assert _turn_ids(url, "feedback", "turn_id") == []
    engine_for(url).dispose()
