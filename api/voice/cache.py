"""Where cached answers and speech are kept: Redis (shared, 1-hour TTL) or an in-process LRU.

With ``VOICE_REDIS_URL`` set, entries go to Redis with ``cache_ttl_s`` to live, so every
process behind the load balancer shares them; otherwise (the embedded default) each process
keeps a least-recently-used map bounded in entries and bytes. A Redis that cannot be reached
is skipped: one warning line when it goes away (and one when it is back), and until then
every lookup is a miss and nothing is stored; a user never sees an error from a cache.

What is cached and under which key is decided by ``answer_cache`` (responses) and
``speech_cache`` (TTS); this module stores opaque bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from core.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "voice:cache:"
RETRY_AFTER_S = 30.0  # after a failure, Redis is left alone this long


def record_lookup(cache: str, hit: bool) -> None:
    """One cache lookup, for the service's metrics (``cache`` is "response" or "speech")."""
    from api import metrics  # here: api.metrics imports the routes, which import this

    metrics.cache_lookup("tts" if cache == "speech" else "response", hit)


class Store(ABC):
    """Bytes by key, each with a time to live; lookups and writes never raise."""

    hits = 0
    misses = 0

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent, expired or unreachable."""

    @abstractmethod
    async def set(self, key: str, value: bytes) -> None:
        """Keep ``value`` under ``key`` for the store's time to live (best effort)."""

    def count(self, name: str, value: bytes | None) -> bytes | None:
        """Count a lookup's outcome; returns ``value``."""
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        record_lookup(name, value is not None)
        return value


class MemoryStore(Store):
    """A least-recently-used map bounded by entries and total bytes; thread-compatible."""

    def __init__(self, *, ttl_s: float, max_entries: int, max_bytes: int) -> None:
        self.ttl_s, self.max_entries, self.max_bytes = ttl_s, max_entries, max_bytes
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.size = 0

    async def get(self, key: str) -> bytes | None:
        """The value if present and younger than the TTL; it becomes the most recent."""
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            self._drop(key)
            return None
        self._items.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes) -> None:
        """Keep ``value``; the least recently used entries go when a bound is passed."""
        if len(value) > self.max_bytes:
            return
        if key in self._items:
            self._drop(key)
        self._items[key] = (time.monotonic() + self.ttl_s, value)
        self.size += len(value)
        while len(self._items) > self.max_entries or self.size > self.max_bytes:
            self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, value = self._items.pop(key)
        self.size -= len(value)

    def __len__(self) -> int:
        return len(self._items)


class RedisStore(Store):
    """Redis with a TTL on every key; skipped (with one log line) while it cannot be reached.

    The blocking client runs on the default executor: sub-millisecond on loopback, and it
    works from any event loop (the CLI benchmarks run one loop per turn).
    """

    def __init__(self, url: str, *, ttl_s: float, timeout_s: float = 0.25) -> None:
        import redis

        self.url, self.ttl_s = url, int(ttl_s)
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
        self.down_until = 0.0  # monotonic time before which Redis is not tried
        self.down = False

    async def get(self, key: str) -> bytes | None:
        """The value, or None (also while Redis is down)."""
        value = await self._call(lambda: self.client.get(PREFIX + key))
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        """Store with the TTL (``SET key value EX ttl``)."""
        await self._call(lambda: self.client.set(PREFIX + key, value, ex=self.ttl_s))

    async def _call(self, command: Callable[[], Any]) -> Any:
        if self.down and time.monotonic() < self.down_until:
            return None
        try:
            result = await asyncio.to_thread(command)
        except Exception as exc:  # any Redis or socket failure: the cache is skipped
            if not self.down:
                log.warning(
                    "cache: Redis at %s unreachable (%s); answering without it",
                    _safe(self.url),
                    type(exc).__name__,
                )
            self.down, self.down_until = True, time.monotonic() + RETRY_AFTER_S
            return None
        if self.down:
            log.info("cache: Redis at %s reachable again", _safe(self.url))
            self.down = False
        return result


def _safe(url: str) -> str:
    """The URL without a password."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def memory_store(settings: Settings, *, max_entries: int, max_bytes: int) -> MemoryStore:
    """An in-process LRU with the configured time to live."""
    return MemoryStore(ttl_s=settings.cache_ttl_s, max_entries=max_entries, max_bytes=max_bytes)
