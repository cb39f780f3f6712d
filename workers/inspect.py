"""Read-only looks into the broker: which queued or reserved messages name a turn.

Redis (kombu's transport): each queue is a list (priority levels are lists named after the
queue, a 0x06 0x16 byte pair and the level), and messages a worker holds but has not
acknowledged (a task running or waiting out a retry countdown) sit in the ``unacked`` hash.
The embedded broker is a folder of ``*.{queue}.msg`` files. A message carries the task's
arguments in clear (``argsrepr``), so a turn id is found by searching the raw message. At most
``LIMIT`` messages per queue are read.
"""

from __future__ import annotations

from pathlib import Path

from core.folders import data_folder
from core.settings import Settings
from workers.config import QUEUES

LIMIT = 10_000
PRIORITY_SEPARATOR = "\x06\x16"


def queued(settings: Settings, turn_id: str) -> dict[str, int]:
    """Messages that name ``turn_id``, by queue (``unacked``: held by a worker)."""
    url = settings.resolved_broker_url()
    if url.startswith("filesystem"):
        return _in_folder(data_folder(settings, "broker"), turn_id)
    if url.startswith(("redis://", "rediss://")):
        return _in_redis(url, turn_id)
    return {}


def _in_redis(url: str, turn_id: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    needle = turn_id.encode()
    found: dict[str, int] = {}
    for queue in QUEUES:
        names = [queue, *(f"{queue}{PRIORITY_SEPARATOR}{level}" for level in (3, 6, 9))]
        count = sum(
            needle in message for name in names for message in client.lrange(name, 0, LIMIT - 1)
        )
        if count:
            found[queue] = count
    held = 0
    for _, message in client.hscan_iter("unacked", count=1000):
        held += needle in message
    if held:
        found["unacked"] = held
    return found


def _in_folder(folder: Path, turn_id: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, path in enumerate(sorted(folder.glob("*.msg"))):
        if index >= LIMIT * len(QUEUES):
            break
        try:
            text = path.read_text("utf-8", errors="replace")
        except FileNotFoundError:  # taken by a worker meanwhile
            continue
        if turn_id in text:
            queue = path.name.split(".")[-2]
            found[queue] = found.get(queue, 0) + 1
    return found
