"""Consent changes, erasure, retention and late feedback, on PostgreSQL and SQLite.

The chain's steps run in this process here; tests/workers runs them in a Celery worker.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from capture import pipeline
from capture.consent import ConsentOutbox, request_change
from capture.erasure import apply_change, expire
from capture.feedback import NotStoredYet, apply_feedback
from capture.keys import object_key
from capture.metadata import user_id_for
from capture.models import (
    AuditEntry,
    Capture,
    ConsentEvent,
    FeedbackEvent,
    ReviewDecision,
    ReviewItem,
)
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from review.decisions import Decision, decide
from tests.utils.capture import SPLIT, USER, run_chain, spool_turn

OTHER = user_id_for("user-2", "secret")
DAY = date(2026, 11, 25)


def stored_keys(settings: Settings) -> list[str]:
    return open_store(settings, "eu").list("raw/") + open_store(settings, "us").list("raw/")


def turn_ids(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return sorted(session.scalars(select(Capture.turn_id)))


def test_a_grant_is_recorded_once_however_often_it_is_applied(database: Settings) -> None:
    change = request_change(database, USER, granted=True, source="session")
    assert ConsentOutbox(database).pending() == [change.event_id]
    apply_change(database, change.event_id)
    apply_change(database, change.event_id)  # redelivered: the file is gone, nothing happens
    ConsentOutbox(database).put(change)  # a crash before the file went: recorded once still
    apply_change(database, change.event_id)
    with session_scope(database) as session:
        events = session.scalars(select(ConsentEvent)).all()
        assert [(e.user_id, e.granted, e.policy_version) for e in events] == [
            (USER, True, database.consent_policy_version)
        ]
    assert ConsentOutbox(database).pending() == []


def test_opting_out_erases_the_user_everywhere_and_keeps_others(database: Settings) -> None:
    spool_turn(database, "mine-1", feedback="thumbs_down")
    spool_turn(database, "mine-2", region="us", transcript="I live at 12 Elm Street")
    spool_turn(database, "theirs", user_id=OTHER)
    spool_turn(database, "mine-waiting")  # not yet processed: only in the spool
    for turn_id in ("mine-1", "mine-2", "theirs"):
        run_chain(database, turn_id)
    assert len(stored_keys(database)) == 9
    with session_scope(database) as session:
        assert session.query(ReviewItem).filter_by(turn_id="mine-1").count() == 1

    change = request_change(database, USER, granted=False, source="api")
    assert [t.turn_id for t in change.spooled_turns] == ["mine-waiting"]
    assert Spool(database).pending() == []  # the spool is emptied at once, API side
    apply_change(database, change.event_id)

    assert turn_ids(database) == ["theirs"]
    assert all("/theirs/" in key for key in stored_keys(database))
    assert len(stored_keys(database)) == 3
    with session_scope(database) as session:
        assert session.query(ReviewItem).count() == 0
        audit = session.scalars(select(AuditEntry)).one()
        revocation = session.scalars(select(ConsentEvent)).one()
        assert revocation.granted is False and revocation.source == "api"
        assert (audit.action, audit.subject, audit.actor) == (
            "erase_user",
            f"consent:{revocation.event_id}",  # the ledger's record, not the user
            "api",
        )
        assert audit.details == {"captures": 2, "spooled": 1, "objects": 6}
        assert "Elm" not in json.dumps(audit.details)


def test_a_grant_applied_after_a_later_withdrawal_is_not_recorded(database: Settings) -> None:
    grant = request_change(database, USER, granted=True, source="session")
    revoke = request_change(database, USER, granted=False, source="api")
    apply_change(database, revoke.event_id)
    apply_change(database, grant.event_id)  # its task was retried and ran last
    with session_scope(database) as session:
        ledger = session.scalars(select(ConsentEvent)).all()
        assert [(e.event_id, e.granted) for e in ledger] == [(revoke.event_id, False)]
    assert ConsentOutbox(database).pending() == []
    again = request_change(database, USER, granted=True, source="session")  # a new grant counts
    apply_change(database, again.event_id)
    with session_scope(database) as session:
        assert [
            e.granted for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.at))
        ] == [False, True]


@pytest.mark.parametrize("stopped_after", range(1, len(SPLIT)))
def test_a_chain_in_flight_when_the_user_opts_out_leaves_nothing(
    database: Settings, stopped_after: int
) -> None:
    spool_turn(database, "in-flight")
    run_chain(database, "in-flight", last=stopped_after)
    change = request_change(database, USER, granted=False, source="session")
    with pytest.raises(pipeline.AlreadyDone):
        run_chain(database, "in-flight", first=stopped_after)
    apply_change(database, change.event_id)
    assert stored_keys(database) == [] and turn_ids(database) == []
    assert pipeline.staging(database).list("") == []


def test_a_step_that_finds_the_opt_out_after_its_write_undoes_it(
    database: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_turn(database, "racing")
    run_chain(database, "racing", last="upload")
    real_exists = Spool.exists
    calls = {"n": 0}

    def opt_out_during_the_upload(self: Spool, turn_id: str) -> bool:
        calls["n"] += 1
        if calls["n"] == 2:  # the check after the objects were written
            self.delete(turn_id)
        return real_exists(self, turn_id)

    monkeypatch.setattr(Spool, "exists", opt_out_during_the_upload)
    with pytest.raises(pipeline.AlreadyDone):
        pipeline.upload(database, "racing")
    assert stored_keys(database) == []


def test_retention_deletes_what_is_older_than_the_period(database: Settings) -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    spool_turn(database, "old", timestamp=(now - timedelta(days=91)).isoformat())
    spool_turn(database, "recent", timestamp=(now - timedelta(days=10)).isoformat(), region="us")
    for turn_id in ("old", "recent"):
        run_chain(database, turn_id)
    orphan_day = (now - timedelta(days=95)).date()
    open_store(database, "eu").put(
        object_key(orphan_day, "orphan", "audio.flac"), b"x", content_type="audio/flac"
    )

    counts = expire(database, now)
    assert (counts["captures"], counts["objects"]) == (1, 4)  # old's three and the orphan
    assert turn_ids(database) == ["recent"]
    assert all("/recent/" in key for key in stored_keys(database))

    counts = expire(database, now + timedelta(days=81))  # the clock moves on: recent is 91 days
    assert counts["captures"] == 1 and turn_ids(database) == [] and stored_keys(database) == []
    with session_scope(database) as session:
        actions = [a.action for a in session.scalars(select(AuditEntry))]
        assert actions == ["expire", "expire"]


def test_feedback_after_upload_updates_the_row_the_metadata_and_the_queue(
    database: Settings,
) -> None:
    spool_turn(database, "rated", transcript="what is a photon")
    run_chain(database, "rated", last="persist")  # stored, not yet persisted
    at = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    with pytest.raises(NotStoredYet):  # retried by the task until the chain has persisted
        apply_feedback(database, "rated", "thumbs_down", "e1", at)
    run_chain(database, "rated", first="persist")

    apply_feedback(database, "rated", "thumbs_down", "e1", at)
    apply_feedback(database, "rated", "thumbs_down", "e1", at)  # redelivered
    key = object_key(DAY, "rated", "metadata.json")
    store = open_store(database, "eu")
    assert json.loads(store.get(key))["feedback"] == "thumbs_down"
    with session_scope(database) as session:
        assert session.get(Capture, "rated").feedback == "thumbs_down"  # type: ignore[union-attr]
        assert session.query(FeedbackEvent).count() == 1
        assert [r.reason for r in session.query(ReviewItem)] == ["thumbs_down"]

    apply_feedback(database, "rated", "thumbs_up", "e2", at + timedelta(seconds=5))
    apply_feedback(database, "rated", "thumbs_down", "e0", at - timedelta(seconds=5))  # late
    assert json.loads(store.get(key))["feedback"] == "thumbs_up"
    with session_scope(database) as session:
        assert session.get(Capture, "rated").feedback == "thumbs_up"  # type: ignore[union-attr]
        assert session.query(ReviewItem).count() == 0

    apply_feedback(database, "never-captured", "thumbs_up", "e3", at)  # nothing to update
    with pytest.raises(ValueError):
        apply_feedback(database, "rated", "meh", "e4", at)


def corrections(settings: Settings) -> list[tuple[str, str | None]]:
    with session_scope(settings) as session:
        rows = session.execute(select(ReviewDecision.turn_id, ReviewDecision.transcript))
        return sorted((turn, text) for turn, text in rows)


def test_retention_and_opting_out_take_reviewers_corrections_with_the_capture(
    database: Settings,
) -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    said = "my name is John Smith and my card is 4111 1111 1111 1111"
    for turn_id, age in (("old", 91), ("recent", 10)):
        spool_turn(
            database, turn_id, transcript=said, timestamp=(now - timedelta(days=age)).isoformat()
        )
        run_chain(database, turn_id)
    with session_scope(database) as session:
        items = dict(session.execute(select(ReviewItem.turn_id, ReviewItem.id)).all())
    for turn_id, item_id in items.items():
        fix = Decision(decision="correct", transcript=f"{said}, {turn_id}")
        decide(database, item_id, fix, "rita")
    label = "my name is John Smith and my card is [CREDIT_CARD]"
    assert corrections(database) == [("old", f"{label}, old"), ("recent", f"{label}, recent")]

    expire(database, now)
    assert corrections(database) == [("recent", f"{label}, recent")]
    change = request_change(database, USER, granted=False, source="api")
    apply_change(database, change.event_id)
    assert corrections(database) == [] and turn_ids(database) == []
