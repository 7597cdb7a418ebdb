"""Long CPU work in steps, so that it never holds the event loop for long.

A piece of work written as a generator (``Steps[T]``) yields between pieces of a few hundred
items and returns its result. :func:`drive` runs it straight through (for synchronous callers);
:func:`drive_async` runs it on the event loop and lets other tasks run whenever about
``slice_s`` of CPU has passed since it last did, so the loop is never blocked for longer than one
slice plus one step.

:class:`Turns` shares the loop between the requests of one router: before a CPU-heavy step
(a route search) a request takes a turn; at most one turn is taken per pass of the event loop.
With many requests ready at once, each loop pass then runs one search, and the loop's timers
(every request's deadline) fire between passes instead of after all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Generator
from typing import Final, TypeVar

__all__ = ["SLICE_S", "STEP_ITEMS", "Steps", "Turns", "drive", "drive_async"]

T = TypeVar("T")
Steps = Generator[None, None, T]

#: Items of work between two yields (an edge check costs a few microseconds).
STEP_ITEMS: Final = 128
#: Longest stretch :func:`drive_async` keeps the loop before letting other tasks run.
SLICE_S: Final = 0.002


def drive(steps: Steps[T]) -> T:
    """Run ``steps`` to the end at once; its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def drive_async(steps: Steps[T], slice_s: float = SLICE_S) -> T:
    """Run ``steps`` to the end, yielding to the loop every ``slice_s`` of work; its result."""
    started = time.perf_counter()
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        now = time.perf_counter()
        if now - started >= slice_s:
            await asyncio.sleep(0)
            started = time.perf_counter()


class Turns:
    """Turns at the CPU for the requests of one router (see the module docstring): at most one
    request takes a turn per loop pass; the others wait, first come first served, and a request
    cancelled while it waits (its deadline) gives its turn to the next."""

    def __init__(self) -> None:
        self._busy = False  # a turn was taken in this loop pass
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.waited = 0  # turns that had to wait (for the benchmarks)

    async def turn(self) -> None:
        """Return at once if nobody took a turn in this loop pass, else when it is ours."""
        if not self._busy and not self._waiters:
            self._take()
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self.waited += 1
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # woken, then cancelled: pass the turn on
                self._wake_next()
            raise
        self._take()

    def _take(self) -> None:
        if not self._busy:
            self._busy = True
            asyncio.get_running_loop().call_soon(self._release)  # runs in the next loop pass

    def _release(self) -> None:
        self._busy = False
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
