"""Background tasks the router starts for source calls: tracked, their exceptions retrieved, and
cancelled (and waited for, boundedly) when the router closes, so nothing is left pending and no
"exception was never retrieved" or "task was destroyed but it is pending" can happen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["TaskSet", "wait_for_task"]

log = logging.getLogger("bestrate.router")
T = TypeVar("T")


class TaskSet:
    """Background tasks the router started: kept referenced until done, exceptions retrieved,
    cancelled and awaited (boundedly) at close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self.adopt(task)
        return task

    def adopt(self, task: asyncio.Task[Any]) -> None:
        if task.done():
            _consume(task)
            return
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        _consume(task)

    async def aclose(self, timeout: float = 2.0) -> None:
        """Cancel everything still running and wait for it, re-cancelling what ignores the
        request (a badly written source), for at most ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        stuck = set(self._tasks)
        while stuck and loop.time() < until:
            for task in stuck:
                task.cancel()
            _, stuck = await asyncio.wait(stuck, timeout=min(0.1, until - loop.time()))
        if stuck:
            log.warning("%d source call(s) ignored cancellation at close", len(stuck))


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # marks it retrieved: the caller that wanted it has already been told


async def wait_for_task(task: asyncio.Task[T]) -> T:
    """Await ``task`` without owning it: our cancellation is immediate and cancels ``task``
    without waiting for it to unwind (the :class:`TaskSet` keeps it until it does)."""
    try:
        await asyncio.wait({task})
    finally:
        if not task.done():
            task.cancel()
    return task.result()
