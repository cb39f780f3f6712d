"""One scheduler for the model work of every session in the process.

Each blocking model call (an STT pass, an LLM generation, a TTS sentence) asks for a slot
before it starts. A slot needs room both in the whole machine (``slots``: about one per CPU
core) and in its model (``capacity``: how many calls that model runs at once). Waiting calls
are served by priority, then in arrival order, so an end-of-turn pass or the first clause of
an answer goes before anyone's partial pass. Calls are not preempted: a partial already
decoding finishes first (a pass takes a few hundred ms on 2 cores).

Under load, partial passes thin out (``thin_partials``): they are skipped while high-priority
work waits or while recent queue delays are high, and come back once the delays pass. The
same delays are the load signal for admission (``overloaded``): past what the machine holds,
new sessions are refused rather than every session slowing down. A committed turn is never
dropped: nothing here cancels work that was admitted.

Which priority a call has is set by the caller with ``priority(...)`` (a context variable, so
the backends need not know), e.g. ``with priority(Priority.FINAL): await stt.transcribe_all()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import statistics
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from core.settings import Settings


class Priority(IntEnum):
    """Lower runs first."""

    FINAL = 0  # the end-of-turn STT pass: the answer waits on it
    FIRST_CLAUSE = 1  # the LLM until its first clause, and that clause's speech
    ANSWER = 2  # the rest of an answer (later sentences)
    PARTIAL = 3  # a partial transcript: nice to have, dropped first


URGENT = (Priority.FINAL, Priority.FIRST_CLAUSE)
MIN_SAMPLES = 3  # urgent calls in the window before their median says "overloaded"
_current: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "model_priority", default=Priority.ANSWER
)


@contextlib.contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Model calls made inside this block (by this task) are scheduled at ``level``."""
    token = _current.set(level)
    try:
        yield
    finally:
        _current.reset(token)


def current_priority() -> Priority:
    """The priority the caller set, ``ANSWER`` by default."""
    return _current.get()


@dataclass(order=True)
class _Waiter:
    level: int
    seq: int
    resource: str = field(compare=False)
    future: asyncio.Future[None] = field(compare=False)
    since: float = field(compare=False)


class Scheduler:
    """Priority slots for model calls; the waits it sees are its measure of load.

    Runs on the event loop (one per process); the model calls themselves run on threads.
    """

    def __init__(
        self,
        slots: int = 2,
        capacity: dict[str, int] | None = None,
        *,
        thin_partials_ms: float = 250.0,
        overload_ms: float = 500.0,
        window_s: float = 10.0,
    ) -> None:
        self.slots = slots
        self.capacity = {"stt": 2, "llm": 1, "tts": 1, **(capacity or {})}
        self.thin_partials_ms = thin_partials_ms
        self.overload_ms = overload_ms
        self.window_s = window_s
        self.running: dict[str, int] = {}
        # Sessions share one event loop; the lock only guards against another loop in a
        # thread (tests serve the app in one) touching the same state.
        self._lock = threading.RLock()
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        self._waits: deque[tuple[float, Priority, float]] = deque()  # (granted at, level, ms)
        self.granted: list[tuple[str, Priority]] = []  # recent grants, newest last (for tests)
        self.skipped_partials = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Scheduler:
        """The process's scheduler as configured."""
        return cls(
            slots=settings.scheduler_slots,
            capacity={"stt": settings.stt_workers},
            thin_partials_ms=settings.partial_thin_queue_ms,
            overload_ms=settings.admission_queue_ms,
        )

    # ---- slots ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def slot(self, resource: str, level: Priority | None = None) -> AsyncIterator[None]:
        """Hold a slot for one call to ``resource`` ("stt", "llm", "tts")."""
        await self.acquire(resource, level)
        try:
            yield
        finally:
            self.release(resource)

    def _free(self, resource: str) -> bool:
        busy = sum(self.running.values())
        return busy < self.slots and self.running.get(resource, 0) < self.capacity.get(resource, 1)

    async def acquire(self, resource: str, level: Priority | None = None) -> None:
        """Wait for a slot (``slot`` is the usual way: it gives the slot back)."""
        level = current_priority() if level is None else level
        now = time.perf_counter()
        with self._lock:
            if self._free(resource) and not self._waiting:
                self._grant(resource, level, 0.0)
                return
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiter = _Waiter(int(level), next(self._seq), resource, future, now)
            heapq.heappush(self._waiting, waiter)
            self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                granted = future.done() and not future.cancelled()
                if waiter in self._waiting:  # (a dispatch may have dropped it already)
                    self._waiting.remove(waiter)
                    heapq.heapify(self._waiting)
            if granted:  # granted just as it was cancelled
                self.release(resource)
            raise

    def _grant(self, resource: str, level: Priority, waited_ms: float) -> None:
        self.running[resource] = self.running.get(resource, 0) + 1
        now = time.perf_counter()
        self._waits.append((now, level, waited_ms))
        self.granted.append((resource, level))
        del self.granted[:-100]
        while self._waits and self._waits[0][0] < now - self.window_s:
            self._waits.popleft()

    def release(self, resource: str) -> None:
        """Give back a slot of ``resource``."""
        with self._lock:
            self.running[resource] -= 1
            self._dispatch()

    def _wake(self, waiter: _Waiter) -> None:
        """Resolve a granted waiter's future on its own loop.

        Another loop may have freed the slot (a test's server runs in a thread of its own).
        """
        loop = waiter.future.get_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is running:
            waiter.future.set_result(None)
            return

        def resolve() -> None:
            if waiter.future.cancelled():  # cancelled meanwhile: the slot goes back
                self.release(waiter.resource)
            else:
                waiter.future.set_result(None)

        loop.call_soon_threadsafe(resolve)

    def _dispatch(self) -> None:
        """Grant slots to the most urgent waiters whose model has room (lock held)."""
        skipped: list[_Waiter] = []
        while self._waiting and sum(self.running.values()) < self.slots:
            waiter = heapq.heappop(self._waiting)
            if waiter.future.cancelled():
                continue
            if not self._free(waiter.resource):
                skipped.append(waiter)  # its model is busy: a less urgent call may use another
                continue
            self._grant(
                waiter.resource,
                Priority(waiter.level),
                (time.perf_counter() - waiter.since) * 1000,
            )
            self._wake(waiter)
        for waiter in skipped:
            heapq.heappush(self._waiting, waiter)

    # ---- load ----------------------------------------------------------------------------

    def waiting(self, at_most: Priority = Priority.PARTIAL) -> int:
        """Calls waiting now at ``at_most`` priority or more urgent."""
        return sum(1 for w in self._waiting if w.level <= at_most and not w.future.cancelled())

    def queue_delay_ms(self, levels: tuple[Priority, ...] = URGENT) -> float:
        """Median wait of the calls at ``levels`` granted in the last ``window_s`` (0: none).

        A call still waiting counts with its wait so far, so a stall shows before it ends.
        """
        now = time.perf_counter()
        recent = list(self._waits)  # a copy: other threads may read while the loop appends
        waits = [ms for at, level, ms in recent if level in levels and at >= now - self.window_s]
        waits += [(now - w.since) * 1000 for w in self._waiting if w.level in levels]
        return statistics.median(waits) if waits else 0.0

    def thin_partials(self) -> bool:
        """Whether a partial pass should be skipped now.

        Skipped while more urgent work waits, or recent waits (of urgent work, or of all
        work) are long.
        """
        if self.waiting(at_most=Priority.ANSWER) > 0:
            return True
        every = (*URGENT, Priority.ANSWER, Priority.PARTIAL)
        return max(self.queue_delay_ms(), self.queue_delay_ms(every)) > self.thin_partials_ms

    def overloaded(self) -> bool:
        """Whether urgent calls (end-of-turn passes, first clauses) wait too long to add users.

        True when one waits now for longer than ``overload_ms``, or the median wait of the
        last ``window_s`` (of at least ``MIN_SAMPLES`` calls) is longer.
        """
        now = time.perf_counter()
        if any((now - w.since) * 1000 > self.overload_ms for w in self._urgent_waiters()):
            return True
        recent = list(self._waits)
        waits = [ms for at, level, ms in recent if level in URGENT and at >= now - self.window_s]
        return len(waits) >= MIN_SAMPLES and statistics.median(waits) > self.overload_ms

    def _urgent_waiters(self) -> list[_Waiter]:
        return [w for w in list(self._waiting) if w.level in URGENT and not w.future.done()]


_scheduler = Scheduler()


def get_scheduler() -> Scheduler:
    """The process's scheduler (``Models.load`` installs one built from the settings)."""
    return _scheduler


def install(scheduler: Scheduler) -> Scheduler:
    """Make ``scheduler`` the process's; returns the one it replaces."""
    global _scheduler
    previous, _scheduler = _scheduler, scheduler
    return previous
