"""Dead letters: one row per failing task and arguments, and what a replay would send."""

from __future__ import annotations

from datetime import UTC, datetime

from capture import deadletters
from capture.consent import ConsentChange, ConsentOutbox
from capture.store_local import LocalStore
from core.settings import Settings
from tests.utils.capture import USER, run_chain, spool_turn


def test_the_same_failure_again_counts_on_the_open_letter(database: Settings) -> None:
    args = {"turn_id": "t-1"}
    deadletters.record(database, "capture.redact", "task-a", args, "RedactionError: boom")
    deadletters.record(database, "capture.redact", "task-b", args, "RedactionError: again")
    deadletters.record(database, "capture.redact", "task-c", {"turn_id": "t-2"}, "Oops: x")
    (first, second) = deadletters.letters(database, everything=True)
    assert (first.failures, first.error, first.arguments) == (2, "RedactionError: again", args)
    assert second.failures == 1
    deadletters.mark_replayed(database, [first.id])
    deadletters.record(database, "capture.redact", "task-d", args, "RedactionError: still")
    rows = deadletters.letters(database, everything=True)
    assert [(r.arguments["turn_id"], r.failures, r.replayed_at is None) for r in rows] == [
        ("t-1", 2, False),
        ("t-2", 1, True),
        ("t-1", 1, True),  # a failure after the replay is a new letter
    ]


def test_a_chain_letter_resumes_where_results_are_staged(database: Settings) -> None:
    spool_turn(database, "staged")
    run_chain(database, "staged", last=3)  # encoded, redacted, uploaded
    deadletters.record(database, "capture.persist", "p-1", {"turn_id": "staged"}, "Operational")
    (item,) = deadletters.letters(database)
    plan = deadletters.plan(database, item)
    assert (plan.kind, plan.turn_id, plan.start) == ("chain", "staged", "capture.persist")
    LocalStore(database, "staging").delete("staged/metadata.json")  # a result lost
    plan = deadletters.plan(database, item)
    assert (plan.kind, plan.start) == ("chain", "capture.encode")  # again from the spool


def test_a_turn_gone_from_the_spool_has_nothing_to_replay(database: Settings) -> None:
    spool_turn(database, "done")
    deadletters.record(database, "capture.upload", "u-1", {"turn_id": "done"}, "StoreError")
    run_chain(database, "done")  # the sweep made it good meanwhile
    assert deadletters.letters(database) == []  # resolved: no longer listed as open
    (item,) = deadletters.letters(database, everything=True)
    assert item.state == "resolved"
    plan = deadletters.plan(database, item)
    assert plan.kind == "nothing" and "it is stored" in plan.reason


def test_tasks_outside_the_chain_are_sent_again_with_their_arguments(
    database: Settings,
) -> None:
    change = ConsentChange(user_id=USER, granted=False, policy_version="p", source="api")
    ConsentOutbox(database).put(change)
    at = datetime(2026, 11, 25, tzinfo=UTC).isoformat()
    feedback = {"turn_id": "t", "value": "thumbs_up", "event_id": "e", "at": at}
    deadletters.record(database, "capture.consent", "c-1", {"event_id": change.event_id}, "E")
    deadletters.record(database, "capture.feedback", "f-1", feedback, "E")
    deadletters.record(database, "capture.feedback", "f-2", {"turn_id": "t", "event_id": "o"}, "E")
    deadletters.record(database, "review.build_batch", "b-1", {"now": None}, "E")
    plans = [deadletters.plan(database, item) for item in deadletters.letters(database)]
    assert [(p.kind, p.task, p.args) for p in plans] == [
        ("task", "capture.consent", [change.event_id]),
        ("task", "capture.feedback", ["t", "thumbs_up", "e", at]),
        ("nothing", None, []),  # recorded before letters kept value and time
        ("task", "review.build_batch", [None]),
    ]
    assert "lacks value, at" in plans[2].reason
    ConsentOutbox(database).delete(change.event_id)  # applied since (the sweep sent it)
    (consent,) = [
        i for i in deadletters.letters(database, everything=True) if i.task == "capture.consent"
    ]
    assert consent.state == "resolved"
    assert deadletters.plan(database, consent).kind == "nothing"
