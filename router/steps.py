"""Long CPU work in steps, so that it never holds the event loop for long.

A piece of work written as a generator (``Steps[T]``) yields between pieces of a few hundred
items and returns its result. :func:`drive` runs it straight through (for synchronous callers);
:func:`drive_async` runs it on the event loop and lets other tasks run whenever about
``slice_s`` of CPU has passed since it last did, so the loop is never blocked for longer than one
slice plus one step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import Final, TypeVar

__all__ = ["SLICE_S", "STEP_ITEMS", "Steps", "drive", "drive_async"]

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
