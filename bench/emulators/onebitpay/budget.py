"""The emulator's per-key budget: a cost-weighted sliding window that refuses, never blocks.

1BitPay documents no limit; the integrator fixed 60 units per 60 s per API key (every call 1
unit). A call that would go over is refused and nothing is booked; the refusal says after how many
seconds enough units leave the window (``Retry-After``). Check and booking are one synchronous step.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

__all__ = ["WindowBudget"]


class WindowBudget:
    """At most ``limit`` units per key in any ``window`` seconds; ``clock`` is injectable."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._spent: dict[str, deque[tuple[float, int]]] = {}

    def acquire(self, key: str, cost: int) -> int:
        """Book ``cost`` for ``key`` and return 0, or refuse: return Retry-After seconds (>= 1)."""
        now = self._clock()
        spent = self._spent.setdefault(key, deque())
        while spent and spent[0][0] <= now - self.window:
            spent.popleft()
        used = sum(c for _, c in spent)
        if used + cost <= self.limit:
            spent.append((now, cost))
            return 0
        if cost > self.limit:
            return math.ceil(self.window)
        need = used + cost - self.limit
        for t, c in spent:
            need -= c
            if need <= 0:
                return max(1, math.ceil(t + self.window - now))
        return math.ceil(self.window)  # unreachable: the window holds enough

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        horizon = self._clock() - self.window
        return sum(c for t, c in self._spent.get(key, ()) if t > horizon)

    def reset(self) -> None:
        self._spent.clear()
