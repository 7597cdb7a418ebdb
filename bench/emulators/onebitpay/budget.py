"""The emulator's per-key budget: a cost-weighted sliding window that refuses, never blocks.

1BitPay documents no limit; assumed 60 units per 60 s per API key (every call 1
unit). A call that would go over is refused and nothing is booked; the refusal says after how many
seconds enough units leave the window (``Retry-After``). The window is the shared
:class:`~bench.emulators.common.SlidingWindowLimiter` without blocks; this class only speaks
1BitPay's Retry-After (whole seconds, at least 1; 0 means booked).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..common import SlidingWindowLimiter

__all__ = ["WindowBudget"]


class WindowBudget:
    """At most ``limit`` units per key in any ``window`` seconds; ``clock`` is injectable."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._window = SlidingWindowLimiter(limit, window, None, clock)
        self.limit = limit
        self.window = window

    def acquire(self, key: str, cost: int) -> int:
        """Book ``cost`` for ``key`` and return 0, or refuse: return Retry-After seconds (>= 1)."""
        decision = self._window.acquire(key, cost)
        if decision.allowed:
            return 0
        return max(1, math.ceil(decision.blocked_until - self._window.now()))

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        return self._window.used(key)

    def reset(self) -> None:
        self._window.reset()
