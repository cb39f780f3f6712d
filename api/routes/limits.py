"""Per-client limits on what an attacker could use to make the service work or to lock others out.

The client's address is the TCP peer, unless that peer is a proxy named in
``VOICE_FORWARDED_ALLOW_IPS``: then it is the nearest address in ``X-Forwarded-For`` that
is not one of those proxies (addresses further left could be written by anyone). Uvicorn's
own proxy-header handling is off (``voice-service serve``), so this is the only place a
forwarded address is believed.

The limiters live on ``app.state.limits``: one set per application, none shared by modules;
with ``VOICE_REDIS_URL`` set they count in Redis, for every replica (``api/shared_state.py``).
"""

from __future__ import annotations

import ipaddress
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import IPvAnyNetwork
from starlette.requests import HTTPConnection

MAX_CLIENT_CHARS = 64  # a forwarded "address" is only text a proxy passed on
MAX_TRACKED = 10_000  # keys a limiter remembers; beyond this the oldest are forgotten


def _trusted(address: str, proxies: Sequence[IPvAnyNetwork | str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:  # str(): settings copied without validation hold plain text
        network = ipaddress.ip_network(str(proxy), strict=False)
        if ip.version == network.version and ip in network:
            return True
    return False


def client_of(connection: HTTPConnection) -> str:
    """The client's address (what limits are counted by), for a request or a WebSocket."""
    peer = connection.client.host if connection.client else "unknown"
    proxies: Sequence[IPvAnyNetwork | str] = connection.app.state.settings.forwarded_allow_ips
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = ",".join(connection.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):  # the right end was written by our own proxies
        if not _trusted(hop, proxies):
            return hop[:MAX_CLIENT_CHARS]
    return hops[0][:MAX_CLIENT_CHARS] if hops else peer


class Limiter(Protocol):
    """At most so many counted events per key in a sliding window (here or in Redis)."""

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its allowance."""
        ...

    def count(self, key: str) -> None:
        """Count one event."""
        ...


class ClientLimiter:
    """At most ``allowed`` counted events per key in a sliding ``window_s``."""

    def __init__(self, allowed: int, window_s: float) -> None:
        self.allowed, self.window_s = allowed, window_s
        self.events: dict[str, deque[float]] = defaultdict(deque)

    def _expire(self, key: str, now: float) -> deque[float] | None:
        window = self.events.get(key)
        if window is None:
            return None
        while window and window[0] < now - self.window_s:
            window.popleft()
        if not window:
            del self.events[key]  # forget quiet clients: the table stays small
            return None
        return window

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its allowance."""
        window = self._expire(key, time.monotonic())
        return window is not None and len(window) >= self.allowed

    def count(self, key: str) -> None:
        """Count one event."""
        now = time.monotonic()
        if key not in self.events and len(self.events) >= MAX_TRACKED:
            for old in list(self.events):
                self._expire(old, now)
            while len(self.events) >= MAX_TRACKED:  # still full: forget the oldest keys
                del self.events[next(iter(self.events))]
        self.events[key].append(now)


# Admin keys: failed attempts per client address and per key prefix (a key's first
# characters), so neither rotating addresses nor rotating guesses get unlimited tries.
KEY_PREFIX_CHARS = 12
FAILURES_ALLOWED = 10
FAILURE_WINDOW_S = 60.0
# DELETE /v1/me/data writes a durable file and a task: 10 a minute per user is enough for
# people; requests that prove no user are limited per address.
ERASURES_PER_USER = 10


@dataclass
class Limits:
    """The application's limiters."""

    admin_failures: Limiter = field(
        default_factory=lambda: ClientLimiter(FAILURES_ALLOWED, FAILURE_WINDOW_S)
    )
    erasure_by_address: Limiter = field(
        default_factory=lambda: ClientLimiter(FAILURES_ALLOWED, FAILURE_WINDOW_S)
    )
    erasures: Limiter = field(
        default_factory=lambda: ClientLimiter(ERASURES_PER_USER, FAILURE_WINDOW_S)
    )

    def admin_keys(self, client: str, key: str) -> list[str]:
        """What a failed admin authentication is counted under."""
        keys = [f"address:{client}"]
        if key:
            keys.append(f"key:{key[:KEY_PREFIX_CHARS]}")
        return keys
