"""Virtual time for tests: an event loop whose clock jumps to the next timer instead of waiting.

:class:`VirtualTimeLoop` is a selector loop whose ``time()`` is a number it owns. Whenever the
loop would block in ``select`` (nothing is ready, the next timer is ``timeout`` away), the clock
moves forward by ``timeout`` and the loop goes on at once: a 30 s stall takes no real time, a 0.5 s
deadline fires at exactly 0.5 s of loop time, and CPU work costs no loop time at all. So deadlines,
hedges, breakers and budget pauses are exact and cannot be broken by a loaded machine.

Sockets work too (the sandbox's emulators run in the same loop): before moving the clock the loop
gives the kernel ``settle`` real seconds to deliver bytes already written on loopback, so an answer
in flight is read before any timer is allowed to fire early.

``virtual_time`` runs one async test on a fresh loop and fails it on anything the loop's
exception handler saw (a task destroyed while pending, an exception never retrieved).
``FakeClock`` is a plain clock that moves only when told, for code that takes a ``clock=``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVarTuple, Unpack

__all__ = ["FakeClock", "VirtualTimeLoop", "run_virtual", "virtual_time"]

_Ts = TypeVarTuple("_Ts")
START = 1000.0
#: Real seconds a loop with open sockets waits for bytes in flight before moving its clock.
SETTLE = 0.002


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _IdleJumpSelector(selectors.DefaultSelector):
    """Instead of blocking for ``timeout``, move the loop clock forward by ``timeout``."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._vloop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:  # only threads (executor shutdown) can wake us: really wait
            ready = super().select(10.0)
            if not ready:
                raise RuntimeError("deadlock: the loop has nothing scheduled")
            return ready
        ready = super().select(0)
        if not ready and timeout > 0 and self._vloop.settle > 0 and len(self.get_map()) > 1:
            ready = super().select(self._vloop.settle)  # bytes still on their way on loopback
        if not ready and timeout > 0:
            self._vloop.virtual_now += timeout
            self._vloop.jumps += 1
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock; it records anything sent to its exception handler.

    ``settle``: real seconds to wait for socket readiness before the clock jumps (0 when the test
    uses no sockets; the loop's own self-pipe does not count).
    """

    def __init__(self, settle: float = SETTLE) -> None:
        self.virtual_now = START
        self.settle = settle
        self.jumps = 0
        self.handled: list[dict[str, Any]] = []
        self._timers: list[asyncio.TimerHandle] = []
        super().__init__(_IdleJumpSelector(self))
        self.set_exception_handler(lambda _loop, context: self.handled.append(context))

    def time(self) -> float:
        return self.virtual_now

    def call_at(self, when: float, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts,
                context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        handle = super().call_at(when, callback, *args, context=context)
        self._timers.append(handle)
        return handle

    def pending_timers(self) -> list[float]:
        """When the timers that are neither cancelled nor run yet are due."""
        now = self.time()
        self._timers = [h for h in self._timers if not h.cancelled() and h.when() > now]
        return sorted(h.when() for h in self._timers)


def run_virtual(coro: Coroutine[Any, Any, Any], *, settle: float = SETTLE) -> Any:
    """Run ``coro`` on a fresh :class:`VirtualTimeLoop`; its result. Fails on anything the loop's
    exception handler received meanwhile."""
    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(settle)) as runner:
        result = runner.run(coro)
        gc.collect()  # "Future exception was never retrieved" is reported on collection
        runner.run(asyncio.sleep(0))
        loop = runner.get_loop()
        assert isinstance(loop, VirtualTimeLoop)
        assert loop.handled == [], [c.get("message") for c in loop.handled]
    return result


def virtual_time(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test on a fresh :class:`VirtualTimeLoop`; fail on any unhandled error."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        run_virtual(test(*args, **kwargs), settle=SETTLE)

    return run
