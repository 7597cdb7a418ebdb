"""FlyPay's per-key request budget: a plain sliding window, no blocks.

FlyPay documents no limit; the sandbox assumes 60 units per 60 s per API key, every method 1 unit
(``BUDGET_LIMIT``/``BUDGET_WINDOW``). Unlike FixedFloat (whose documented overrun blocks the key for
a growing time, see :class:`~bench.emulators.common.SlidingWindowLimiter`), an overrun here only
refuses the call, books nothing, and says when enough units leave the window for it to pass
(``Retry-After``): the behaviour of a common API throttle, and all the brief assumes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Final

__all__ = ["BUDGET_LIMIT", "BUDGET_WINDOW", "WindowBudget"]

BUDGET_LIMIT: Final = 60
BUDGET_WINDOW: Final = 60.0


class WindowBudget:
    """At most ``limit`` units per key in any ``window`` seconds of ``clock`` (injectable).

    :meth:`acquire` checks and books in one synchronous step (no await between), so concurrent
    handlers cannot both pass.
    """

    def __init__(self, limit: int = BUDGET_LIMIT, window: float = BUDGET_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._spent: dict[str, deque[tuple[float, int]]] = {}

    def acquire(self, key: str, cost: int = 1) -> int | None:
        """Book ``cost`` for ``key`` and return None, or refuse and return Retry-After seconds."""
        now = self._clock()
        spent = self._spent.setdefault(key, deque())
        horizon = now - self.window
        while spent and spent[0][0] <= horizon:
            spent.popleft()
        used = sum(c for _, c in spent)
        if used + cost <= self.limit:
            spent.append((now, cost))
            return None
        if cost > self.limit:  # can never pass: say "a whole window"
            return math.ceil(self.window)
        need, freed = used + cost - self.limit, 0
        for t, c in spent:
            freed += c
            if freed >= need:
                return max(1, math.ceil(t + self.window - now))
        return math.ceil(self.window)  # unreachable: the spent units cover ``need``

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        horizon = self._clock() - self.window
        return sum(c for t, c in self._spent.get(key, ()) if t > horizon)

    def reset(self) -> None:
        self._spent.clear()
