"""A redaction failure stops the chain at once: a dead letter, nothing unredacted stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from capture import pipeline
from capture.models import DeadLetter
from capture.spool import Spool
from capture.store import open_store
from core.db import session_scope
from core.settings import get_settings
from migrations import upgrade
from redaction.engine import Redactor
from tests.utils.capture import spool_turn


@pytest.mark.parametrize("step", ["process", "redact"])  # the fused chain, the split one
def test_a_failing_redactor_dead_letters_the_turn_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    monkeypatch.setenv("VOICE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VOICE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings.resolved_database_url())
    spool_turn(settings, "leaky", transcript="my card is 4111 1111 1111 1111")

    def broken(self: Redactor, texts: object) -> list[object]:
        raise MemoryError("the engine fell over")

    monkeypatch.setattr(Redactor, "analyze_batch", broken)
    from workers.tasks import CHAIN_TASKS

    result = CHAIN_TASKS[step].apply(args=("leaky",))  # the task body, run here, as a worker would
    assert result.state == "IGNORED"  # the chain stops: no retry, no next step
    with session_scope(settings) as session:
        (letter,) = session.query(DeadLetter).all()
        assert letter.task == f"capture.{step}" and "RedactionError" in letter.error
        assert letter.arguments == {"turn_id": "leaky"} and "4111" not in letter.error
    assert pipeline.staging(settings).list("leaky/") == []  # no audio, no metadata
    assert open_store(settings, "eu").list("raw/") == []
    assert Spool(settings).pending() == ["leaky"]  # kept for an operator to retry
    get_settings.cache_clear()
