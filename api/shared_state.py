"""What API replicas must agree on, kept in Redis when ``VOICE_REDIS_URL`` is set.

Behind a load balancer a client's requests land on any replica, so per-client limits
counted in one process would multiply by the number of replicas. With Redis configured, the
rate limiters (failed admin keys, erasure requests, consent changes) and the open connections
per client address are counted there; without it, in process (one machine). What stays per
replica on purpose: the session slots (``VOICE_MAX_SESSIONS`` is what one replica's CPUs can
serve) and everything about a live session (its WebSocket lives on one replica).

Calls are short, synchronous Redis commands (a loopback or in-cluster round trip) with a
half-second timeout. If Redis fails, counting falls back to this process, with a warning,
rather than refusing everyone or letting everyone through, and Redis is left alone for
``RETRY_AFTER_S`` so that a dead Redis does not cost every connection a timeout.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import Counter
from typing import Any, Protocol

import redis

from api.routes.limits import (
    ERASURES_PER_USER,
    FAILURE_WINDOW_S,
    FAILURES_ALLOWED,
    ClientLimiter,
    Limiter,
    Limits,
)

log = logging.getLogger(__name__)
PREFIX = "voice:"
TIMEOUT_S = 0.5
LEASE_S = 60.0  # a crashed replica's connections are forgotten after this long
RETRY_AFTER_S = 5.0


class Breaker:
    """Whether to try Redis now: not for ``RETRY_AFTER_S`` after a failure (logged once)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.down_until = 0.0
        self.warned = False

    def closed(self) -> bool:
        """Redis may be tried."""
        return time.monotonic() >= self.down_until

    def failed(self, exc: Exception) -> None:
        """Redis failed: count in process for a while."""
        self.down_until = time.monotonic() + RETRY_AFTER_S
        if not self.warned:
            log.warning("Redis is unavailable (%s): %s counted in process", exc, self.what)
            self.warned = True


def redis_client(url: str) -> redis.Redis:
    """A client with short timeouts (a slow Redis must not hold up requests)."""
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)


class RedisLimiter:
    """A sliding-window limiter on a sorted set per key, shared by every replica."""

    def __init__(self, client: redis.Redis, name: str, allowed: int, window_s: float) -> None:
        self.client, self.name = client, name
        self.allowed, self.window_s = allowed, window_s
        self.fallback = ClientLimiter(allowed, window_s)
        self.breaker = Breaker(f"the {name} limit")

    def _key(self, key: str) -> str:
        return f"{PREFIX}limit:{self.name}:{key}"

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its allowance (on every replica together)."""
        if not self.breaker.closed():
            return self.fallback.blocked(key)
        now = time.time()
        try:
            pipe = self.client.pipeline()
            pipe.zremrangebyscore(self._key(key), "-inf", now - self.window_s)
            pipe.zcard(self._key(key))
            _, used = pipe.execute()
        except redis.RedisError as exc:
            self.breaker.failed(exc)
            return self.fallback.blocked(key)
        return int(used) >= self.allowed

    def count(self, key: str) -> None:
        """Count one event; the key expires with its window."""
        if not self.breaker.closed():
            self.fallback.count(key)
            return
        now = time.time()
        try:
            pipe = self.client.pipeline()
            pipe.zadd(self._key(key), {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
            pipe.expire(self._key(key), max(1, int(self.window_s) + 1))
            pipe.execute()
        except redis.RedisError as exc:
            self.breaker.failed(exc)
            self.fallback.count(key)


# Take a slot if fewer than ARGV[2] live leases: drop expired ones, count, add ours.
ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class Connections(Protocol):
    """Open connections per client address, at most ``limit`` each."""

    def acquire(self, client: str) -> str | None:
        """A lease for one more connection of ``client``, or None when it has enough."""
        ...

    def release(self, client: str, lease: str) -> None:
        """The connection ended."""
        ...

    def refresh(self) -> None:
        """Keep this replica's leases alive (called every ``LEASE_S / 3``)."""
        ...


class LocalConnections:
    """Counted in this process (one machine)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def acquire(self, client: str) -> str | None:
        """See :class:`Connections`."""
        if self.open[client] >= self.limit:
            return None
        self.open[client] += 1
        return client

    def release(self, client: str, lease: str) -> None:
        """See :class:`Connections`."""
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]

    def refresh(self) -> None:
        """Nothing expires in process."""


class RedisConnections:
    """Leases in a sorted set per client address, scored by expiry, refreshed while open."""

    def __init__(self, client: redis.Redis, limit: int) -> None:
        self.client, self.limit = client, limit
        self.replica = uuid.uuid4().hex[:12]
        self.held: dict[str, str] = {}  # lease -> client address
        self.local = LocalConnections(limit)
        self.acquire_script: Any = client.register_script(ACQUIRE)
        self.breaker = Breaker("connections per client")

    @staticmethod
    def _key(client: str) -> str:
        return f"{PREFIX}connections:{client}"

    def acquire(self, client: str) -> str | None:
        """See :class:`Connections`."""
        lease = f"{self.replica}:{uuid.uuid4().hex[:12]}"
        if not self.breaker.closed():
            return None if self.local.acquire(client) is None else f"local:{lease}"
        now = time.time()
        try:
            taken = self.acquire_script(
                keys=[self._key(client)],
                args=[now, self.limit, now + LEASE_S, lease, int(LEASE_S * 2)],
            )
        except redis.RedisError as exc:
            self.breaker.failed(exc)
            return None if self.local.acquire(client) is None else f"local:{lease}"
        if not taken:
            return None
        self.held[lease] = client
        return lease

    def release(self, client: str, lease: str) -> None:
        """See :class:`Connections`."""
        if lease.startswith("local:"):
            self.local.release(client, lease)
            return
        self.held.pop(lease, None)
        if self.breaker.closed():
            with contextlib.suppress(redis.RedisError):  # else it expires with its lease
                self.client.zrem(self._key(client), lease)

    def refresh(self) -> None:
        """See :class:`Connections`."""
        expiry = time.time() + LEASE_S
        try:
            pipe = self.client.pipeline()
            for lease, client in list(self.held.items()):
                pipe.zadd(self._key(client), {lease: expiry}, xx=True)
                pipe.expire(self._key(client), int(LEASE_S * 2))
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not refresh connection leases in Redis: %s", exc)


def make_limiter(redis_url: str | None, name: str, allowed: int, window_s: float) -> Limiter:
    """Shared through Redis when it is configured, else in process."""
    if redis_url:
        return RedisLimiter(redis_client(redis_url), name, allowed, window_s)
    return ClientLimiter(allowed, window_s)


def make_connections(redis_url: str | None, limit: int) -> Connections:
    """Shared through Redis when it is configured, else in process."""
    if redis_url:
        return RedisConnections(redis_client(redis_url), limit)
    return LocalConnections(limit)


def shared_limits(redis_url: str | None) -> Limits:
    """The application's limiters, in Redis when it is configured."""
    if not redis_url:
        return Limits()
    return Limits(
        admin_failures=make_limiter(redis_url, "admin", FAILURES_ALLOWED, FAILURE_WINDOW_S),
        erasure_by_address=make_limiter(
            redis_url, "erasure-address", FAILURES_ALLOWED, FAILURE_WINDOW_S
        ),
        erasures=make_limiter(redis_url, "erasure", ERASURES_PER_USER, FAILURE_WINDOW_S),
    )
