"""Long CPU work in steps, so that it never holds the event loop for long.

A piece of work written as a generator (``Steps[T]``) yields between pieces of a few hundred
items and returns its result. :func:`drive` runs it straight through (for synchronous callers);
:func:`drive_async` runs it on the event loop and lets other tasks run whenever about
``slice_s`` of CPU has passed since it last did, so the loop is never blocked for longer than one
slice plus one step.

:class:`Turns` shares the loop between the requests of one router: before a CPU-heavy step
(a route search) a request takes a turn, and the turns of one pass of the event loop add up to
about one slice. With many requests ready at once, each loop pass then runs a slice of searches,
and the loop's timers (every request's deadline) fire between passes instead of after all of
them.
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
    """Turns at the CPU for the requests of one router (see the module docstring): the turns of
    one loop pass add up to about one slice (``slice_s``); the others wait for a later pass, first
    come first served, and a request cancelled while it waits (its deadline) gives its turn on."""

    #: Waiters woken for one pass (those the slice has no room for wait again, at the front).
    WAKE: Final = 8

    def __init__(self, slice_s: float = SLICE_S, wake: int = WAKE) -> None:
        self.slice_s = slice_s
        self.wake = wake  # waiters woken per pass: about as many turns as fit in a slice
        self._pass_started: float | None = None  # the first turn of this loop pass
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._again: list[asyncio.Future[None]] = []  # woken, no room: first in the next pass
        self._woken = 0  # waiters woken that have not run yet: newcomers queue behind them
        self.waited = 0  # turns that had to wait (for the benchmarks)

    def free(self) -> bool:
        """Would :meth:`turn` return at once (no one waiting, room in this pass)?"""
        return not self._waiters and not self._woken and self._room()

    def _room(self) -> bool:
        return self._pass_started is None or \
            time.perf_counter() - self._pass_started < self.slice_s

    async def turn(self) -> None:
        """Return at once while this loop pass has room, else when a later one has."""
        if self.free():
            self._take()
            return
        self.waited += 1
        queue: list[asyncio.Future[None]] | deque[asyncio.Future[None]] = self._waiters
        while True:
            fut = asyncio.get_running_loop().create_future()
            queue.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():  # woken, then cancelled: pass it on
                    self._woken -= 1
                    self._wake(1)
                raise
            self._woken -= 1
            if self._room():
                self._take()
                return
            queue = self._again  # the pass filled up before our turn: first in the next one

    def _take(self) -> None:
        if self._pass_started is None:
            self._pass_started = time.perf_counter()
            asyncio.get_running_loop().call_soon(self._release)  # runs in the next loop pass

    def _release(self) -> None:
        self._pass_started = None
        self._waiters.extendleft(reversed(self._again))  # in the order they were woken
        self._again.clear()
        self._wake(self.wake)

    def _wake(self, n: int) -> None:
        while n and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                self._woken += 1
                n -= 1
