"""FlyPay's per-key request budget: a plain sliding window, no blocks.

FlyPay documents no limit; the sandbox assumes 60 units per 60 s per API key, every method 1 unit
(``BUDGET_LIMIT``/``BUDGET_WINDOW``). Unlike FixedFloat (whose documented overrun blocks the key for
a growing time), an overrun here only refuses the call, books nothing, and says when enough units
leave the window for it to pass (``Retry-After``): the behaviour of a common API throttle, and all
that docs/providers.md assumes. The window is the shared :class:`~bench.emulators.common.SlidingWindowLimiter`
without blocks; this class only speaks FlyPay's Retry-After (whole seconds, at least 1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

from ..common import SlidingWindowLimiter

__all__ = ["BUDGET_LIMIT", "BUDGET_WINDOW", "WindowBudget"]

BUDGET_LIMIT: Final = 60
BUDGET_WINDOW: Final = 60.0


class WindowBudget:
    """At most ``limit`` units per key in any ``window`` seconds of ``clock`` (injectable)."""

    def __init__(self, limit: int = BUDGET_LIMIT, window: float = BUDGET_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._window = SlidingWindowLimiter(limit, window, None, clock)
        self.limit = limit
        self.window = window

    def acquire(self, key: str, cost: int = 1) -> int | None:
        """Book ``cost`` for ``key`` and return None, or refuse and return Retry-After seconds."""
        decision = self._window.acquire(key, cost)
        if decision.allowed:
            return None
        return max(1, math.ceil(decision.blocked_until - self._window.now()))

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        return self._window.used(key)

    def reset(self) -> None:
        self._window.reset()
