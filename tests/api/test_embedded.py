"""``voice-service serve`` on its embedded defaults: no Redis, PostgreSQL or S3 anywhere.

The process migrates its SQLite file and runs a capture worker (with beat) as a child on
kombu's filesystem broker, so a consenting user's turn ends up in the local store and the
database with nothing else installed, which is what ``make run`` gives a new user.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

from api.voice.models import Models
from capture.models import Capture
from capture.store import open_store
from core.db import session_scope
from core.settings import Settings
from tests.utils.audio import spoken
from tests.utils.capture import wait_until
from tests.utils.processes import free_port, running
from tests.utils.ws import VoiceClient


async def test_serve_captures_a_consented_turn_with_nothing_else_installed(
    models: Models, tmp_path: Path
) -> None:
    question = await spoken(models, "What is an electron?", voice="friendly", silence_s=1)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_")}
    env.update(VOICE_DATA_DIR=str(tmp_path), VOICE_PORT=str(port))
    command = [sys.executable, "-m", "api.cli", "serve"]
    with running(command, f"http://127.0.0.1:{port}/readyz", timeout_s=180, env=env) as server:
        async with VoiceClient(f"ws://127.0.0.1:{port}/v1/voice") as client:
            await client.start(consent=True, user="frank-token", region="us")
            await client.stream(question, speed=2)
            end = await client.wait_for(lambda e: e["type"] == "turn_end", timeout=60)
        settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
        store = open_store(settings, "us")
        wait_until(lambda: len(store.list("raw/")) == 3, timeout=120, what="the embedded worker")
        wait_until(lambda: _captured(settings) == [end["turn_id"]], timeout=60, what="the row")
        assert server.poll() is None
    metadata = json.loads(store.get(next(k for k in store.list("raw/") if "metadata" in k)))
    assert metadata["turn_id"] == end["turn_id"] and "electron" in metadata["transcript"].lower()
    assert not (Path.cwd() / "control").exists()  # the broker keeps its files in the data folder


def _captured(settings: Settings) -> list[str]:
    """The turn ids of the capture rows (persisted after the objects are uploaded)."""
    with session_scope(settings) as session:
        return [c.turn_id for c in session.query(Capture)]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it exited while we looked
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_starts_in_an_empty_folder_and_its_worker_dies_with_it(tmp_path: Path) -> None:
    """``make run`` on a fresh clone: no data folder yet, no settings; a SIGKILL of serve
    takes the embedded worker (and its beat and pool processes) along within seconds."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_")}
    env.update(VOICE_PORT=str(port))
    command = [sys.executable, "-m", "api.cli", "serve"]
    ready = f"http://127.0.0.1:{port}/readyz"
    with running(command, ready, timeout_s=180, env=env, cwd=tmp_path) as server:
        data = tmp_path / "var"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert (data / "voice.db").is_file()
        wait_until(lambda: len(descendants(server.pid)) >= 2, timeout=60, what="the worker")
        family = descendants(server.pid)
        server.kill()
        server.wait()
        wait_until(
            lambda: not any(alive(pid) for pid in family), timeout=10, what="the worker's exit"
        )
