"""core.logs: JSON or plain lines, the level setting, and ids that follow tasks and threads."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import logs
from core.settings import Settings

log = logging.getLogger("api.voice.test")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None, **values)  # type: ignore[call-arg]


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


async def test_json_lines_carry_the_ids_bound_in_tasks_and_threads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(settings(tmp_path, log_format="json", log_level="debug"))

    async def turn() -> None:
        await asyncio.sleep(0)
        log.info("in the turn's task")
        await asyncio.to_thread(log.debug, "in a thread of the turn, %d", 7)

    log.info("before the session")
    with logs.bound(session_id="s-1"):
        with logs.bound(turn_id="t-1"):
            task = asyncio.create_task(turn())  # the task keeps the ids it was started with
        log.warning("session, no turn", extra={"elapsed_ms": 12.5})
        await task
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    found = [json.loads(line) for line in lines(capsys)]
    by_message = {line["message"]: line for line in found}
    assert set(by_message) == {
        "before the session",
        "session, no turn",
        "in the turn's task",
        "in a thread of the turn, 7",
        "failed",
    }
    assert "session_id" not in by_message["before the session"]
    assert by_message["session, no turn"]["session_id"] == "s-1"
    assert "turn_id" not in by_message["session, no turn"]
    assert by_message["session, no turn"]["elapsed_ms"] == 12.5
    for message in ("in the turn's task", "in a thread of the turn, 7"):
        assert by_message[message]["session_id"] == "s-1"
        assert by_message[message]["turn_id"] == "t-1"
    assert by_message["in a thread of the turn, 7"]["level"] == "DEBUG"
    assert (
        by_message["failed"]["level"] == "ERROR"
        and "ValueError: boom" in (by_message["failed"]["exception"])
    )
    assert by_message["before the session"]["logger"] == "api.voice.test"
    assert by_message["before the session"]["ts"].endswith("+00:00")


def test_plain_lines_are_readable_and_show_ids_only_where_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(settings(tmp_path))
    log.info("hello")
    with logs.bound(session_id="s-2", turn_id="t-2"):
        log.info("inside")
    first, second = lines(capsys)
    assert first.endswith(" INFO api.voice.test: hello")
    assert second.endswith(" INFO api.voice.test [session_id=s-2 turn_id=t-2]: inside")
    assert not first.startswith("{")


def test_the_level_setting_and_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(settings(tmp_path, log_level="WARNING"))
    log.info("hidden")
    log.warning("shown")
    assert [line.rsplit(": ", 1)[1] for line in lines(capsys)] == ["shown"]
    logs.configure(settings(tmp_path), default="WARNING")  # unset: the command's default
    log.info("hidden too")
    assert lines(capsys) == []
    logs.configure(settings(tmp_path, log_level="ERROR"), debug=True)  # --debug wins
    log.debug("debugging")
    assert len(lines(capsys)) == 1
    assert (
        len(logging.getLogger().handlers)
        == len([h for h in logging.getLogger().handlers if not getattr(h, "_voice_service", False)])
        + 1
    )  # configuring again replaced its handler


def test_chatty_libraries_stay_at_info_when_the_service_logs_debug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(settings(tmp_path, log_level="DEBUG"))
    logging.getLogger("httpx").debug("request body: what the user said")
    logging.getLogger("piper.voice").debug("text=what the answer says")
    logging.getLogger("uvicorn.error").debug('> TEXT \'{"type":"transcript"}\'')
    logging.getLogger("uvicorn.error").info("started")
    logging.getLogger("api.voice.session").debug("ours")
    logging.getLogger("workers.tasks").debug("ours too")
    said = [line.rsplit(": ", 1)[1] for line in lines(capsys)]
    assert said == ["started", "ours", "ours too"]


def test_a_wrong_level_or_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="log_level"):
        settings(tmp_path, log_level="LOUD")
    with pytest.raises(ValueError, match="log_format"):
        settings(tmp_path, log_format="xml")


def test_passing_probes_and_scrapes_leave_no_access_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(settings(tmp_path))
    access = logging.getLogger("uvicorn.access")
    line = '%s - "%s %s HTTP/%s" %d'  # uvicorn's access line
    access.info(line, "10.0.0.1:5000", "GET", "/metrics", "1.1", 200)
    access.info(line, "10.0.0.1:5000", "GET", "/readyz", "1.1", 200)
    access.info(line, "10.0.0.1:5000", "GET", "/readyz", "1.1", 503)  # not ready: kept
    access.info(line, "10.0.0.1:5000", "GET", "/v1/me/data", "1.1", 200)
    kept = lines(capsys)
    assert len(kept) == 2
    assert '"GET /readyz HTTP/1.1" 503' in kept[0] and "/v1/me/data" in kept[1]
