"""Per-client limits on HTTP routes that an attacker could use to make the service work."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from fastapi import Request


def client_of(request: Request) -> str:
    """The client's address (what limits are counted by)."""
    return request.client.host if request.client else "unknown"


class ClientLimiter:
    """At most ``allowed`` counted events per client in a sliding ``window_s``."""

    def __init__(self, allowed: int, window_s: float) -> None:
        self.allowed, self.window_s = allowed, window_s
        self.events: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        """Whether ``client`` has used up its allowance."""
        window = self.events[client]
        while window and window[0] < time.monotonic() - self.window_s:
            window.popleft()
        if not window:
            del self.events[client]  # forget quiet clients: the table stays small
            return False
        return len(window) >= self.allowed

    def count(self, client: str) -> None:
        """Count one event."""
        self.events[client].append(time.monotonic())
