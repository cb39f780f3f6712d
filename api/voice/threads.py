"""Run blocking model calls off the event loop and stream their results back into it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
Lock = contextlib.AbstractContextManager[Any]  # a Lock or Semaphore guarding a shared model
_END = object()


async def iterate_in_thread(
    make_iterator: Callable[[], Iterator[T]], *, lock: Lock | None = None
) -> AsyncIterator[T]:
    """Yield the items of a blocking iterator that runs on its own thread.

    ``lock`` bounds concurrent use of a model shared by several sessions. When the consumer stops
    early (cancellation, barge-in), the thread stops at its next item and releases the lock.
    A dedicated thread (not the default executor) keeps sessions waiting on a busy model from
    starving the executor that the rest of the service uses.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while we were working
            loop.call_soon_threadsafe(queue.put_nowait, (item, error))

    def work() -> None:
        try:
            with lock if lock is not None else contextlib.nullcontext():
                if stop.is_set():
                    return
                iterator = make_iterator()
                try:
                    for item in iterator:
                        if stop.is_set():
                            break
                        put(item)
                finally:
                    close = getattr(iterator, "close", None)
                    if close is not None:
                        close()
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(_END, exc)
        else:
            put(_END)

    context = contextvars.copy_context()  # its log lines carry the session's and turn's ids
    threading.Thread(target=context.run, args=(work,), name="model-call", daemon=True).start()
    try:
        while True:
            item, error = await queue.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()


async def run_in_thread(function: Callable[[], T], *, lock: Lock | None = None) -> T:
    """Run one blocking call on its own thread and return its result."""

    def once() -> Iterator[T]:
        yield function()

    async for result in iterate_in_thread(once, lock=lock):
        return result
    raise RuntimeError("blocking call returned nothing")  # unreachable: once() yields once
