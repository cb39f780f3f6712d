"""Dead letters: tasks that will not succeed by retrying, kept for an operator to replay.

A letter names the task and its arguments (ids only, never content). The same task failing
again on the same arguments (the sweep re-sends a spooled turn every few minutes) counts on
the open letter instead of adding rows. Replaying decides, from where the turn's data is
now, what to send again (:func:`plan`); the worker side (``workers.config``) sends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select

from capture.consent import ConsentOutbox
from capture.models import Capture, DeadLetter
from capture.spool import Spool
from capture.store_local import LocalStore
from core.db import session_scope
from core.settings import Settings

# The capture chain's steps and the staged results each one needs from the steps before it.
CHAIN_NEEDS: dict[str, tuple[str, ...]] = {
    "capture.encode": (),
    "capture.redact": ("audio.flac",),
    "capture.upload": ("audio.flac", "metadata.json", "review.json"),
    "capture.persist": ("audio.flac", "metadata.json", "review.json"),
    "capture.flag_review": ("audio.flac", "metadata.json", "review.json"),
    "capture.finish": (),
}
# Tasks outside the chain that are sent again with the arguments the letter kept.
RESENT = {
    "capture.consent": ("event_id",),
    "capture.feedback": ("turn_id", "value", "event_id", "at"),
    "capture.expire": ("now",),
    "review.build_batch": ("now",),
}


def record(
    settings: Settings, task: str, task_id: str, arguments: dict[str, Any], error: str
) -> None:
    """Keep a failed task (once per task and arguments while it is not replayed)."""
    now = datetime.now(UTC)
    with session_scope(settings) as session:
        letters = session.scalars(
            select(DeadLetter).where(DeadLetter.task == task, DeadLetter.replayed_at.is_(None))
        ).all()
        same = next((letter for letter in letters if letter.arguments == arguments), None)
        if same is not None:
            same.failures, same.at, same.error = same.failures + 1, now, error[:2000]
            return
        if session.scalars(select(DeadLetter).filter_by(task_id=task_id[:64])).first():
            return  # this very delivery was recorded already
        session.add(
            DeadLetter(
                task=task,
                task_id=task_id[:64],
                arguments=arguments,
                error=error[:2000],
                at=now,
                failures=1,
            )
        )


@dataclass
class Letter:
    """A dead letter as an operator sees it, with its state now."""

    id: int
    task: str
    arguments: dict[str, Any]
    error: str
    at: datetime
    failures: int
    replayed_at: datetime | None
    state: Literal["open", "replayed", "resolved"] = "open"

    def as_json(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "id": self.id,
            "task": self.task,
            "arguments": self.arguments,
            "error": self.error,
            "at": self.at.isoformat(),
            "failures": self.failures,
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
            "state": self.state,
        }


def _state(settings: Settings, letter: DeadLetter) -> Literal["open", "replayed", "resolved"]:
    if letter.replayed_at is not None:
        return "replayed"
    turn_id = letter.arguments.get("turn_id")
    if letter.task in CHAIN_NEEDS and turn_id and not Spool(settings).exists(turn_id):
        return "resolved"  # the turn left the spool: stored (the sweep made it good) or erased
    event_id = str(letter.arguments.get("event_id"))
    if letter.task == "capture.consent" and ConsentOutbox(settings).get(event_id) is None:
        return "resolved"  # applied since
    return "open"


def _view(settings: Settings, letter: DeadLetter) -> Letter:
    return Letter(
        id=letter.id,
        task=letter.task,
        arguments=dict(letter.arguments),
        error=letter.error,
        at=letter.at,
        failures=letter.failures or 1,
        replayed_at=letter.replayed_at,
        state=_state(settings, letter),
    )


def letters(settings: Settings, *, everything: bool = False) -> list[Letter]:
    """Open letters, oldest first (``everything``: replayed and resolved ones too)."""
    with session_scope(settings) as session:
        rows = session.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()
        views = [_view(settings, row) for row in rows]
    return views if everything else [view for view in views if view.state == "open"]


def letter(settings: Settings, letter_id: int) -> Letter | None:
    """One letter by id."""
    with session_scope(settings) as session:
        row = session.get(DeadLetter, letter_id)
        return None if row is None else _view(settings, row)


@dataclass
class Plan:
    """What replaying a letter sends: a chain from a step, one task, or nothing (and why)."""

    kind: Literal["chain", "task", "nothing"]
    reason: str
    turn_id: str | None = None
    start: str | None = None  # the chain's first step
    task: str | None = None
    args: list[Any] = field(default_factory=list)


def plan(settings: Settings, item: Letter) -> Plan:
    """What to send again for ``item``, from where its data is now."""
    if item.task in CHAIN_NEEDS:
        turn_id = str(item.arguments.get("turn_id", ""))
        if not turn_id or not Spool(settings).exists(turn_id):
            with session_scope(settings) as session:
                stored = session.get(Capture, turn_id) is not None if turn_id else False
            where = "it is stored" if stored else "it was erased or never spooled"
            return Plan("nothing", f"turn {turn_id} is no longer in the spool: {where}")
        names = {
            key.rsplit("/", 1)[-1] for key in LocalStore(settings, "staging").list(f"{turn_id}/")
        }
        if set(CHAIN_NEEDS[item.task]) <= names:
            return Plan(
                "chain", f"from {item.task} (earlier results are staged)", turn_id, item.task
            )
        return Plan("chain", "from the start (from the spool)", turn_id, "capture.encode")
    if item.task in RESENT:
        if item.task == "capture.consent":
            event_id = str(item.arguments.get("event_id", ""))
            if ConsentOutbox(settings).get(event_id) is None:
                return Plan("nothing", f"consent change {event_id} has been applied")
        missing = [name for name in RESENT[item.task] if name not in item.arguments]
        if missing:
            return Plan("nothing", f"the letter lacks {', '.join(missing)}: cannot be re-sent")
        args = [item.arguments[name] for name in RESENT[item.task]]
        return Plan("task", f"{item.task} sent again", task=item.task, args=args)
    return Plan("nothing", f"no replay is known for {item.task}")


def mark_replayed(settings: Settings, letter_ids: list[int]) -> None:
    """Record that the letters were replayed (a later failure makes a new letter)."""
    now = datetime.now(UTC)
    with session_scope(settings) as session:
        for row in session.scalars(select(DeadLetter).where(DeadLetter.id.in_(letter_ids))):
            row.replayed_at = now
