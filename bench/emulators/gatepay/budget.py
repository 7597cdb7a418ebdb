"""Gate Pay's per-client budget: a plain cost-weighted sliding window, no blocks.

No limit is documented; assumed 120 units per 60 s per client id, every call 1 unit.
Unlike FixedFloat's limiter (which blocks a key after an overrun, longer at each offence), an
over-limit call here is simply refused and not booked, with the time until enough units leave the
window: the client may call again as soon as the window allows. The window is the shared
:class:`~bench.emulators.common.SlidingWindowLimiter` without blocks; this class only gives the wait
in Gate Pay's terms (seconds as a float, 0.0 meaning booked).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from ..common import SlidingWindowLimiter

__all__ = ["BUDGET_LIMIT", "BUDGET_WINDOW", "WindowBudget"]

BUDGET_LIMIT: Final = 120
BUDGET_WINDOW: Final = 60.0


class WindowBudget:
    """At most ``limit`` units per ``window`` seconds per key; check and booking in one step.

    ``clock`` is injectable (tests drive it; never sleep).
    """

    def __init__(self, limit: int = BUDGET_LIMIT, window: float = BUDGET_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._window = SlidingWindowLimiter(limit, window, None, clock)
        self.limit = limit
        self.window = window

    def acquire(self, key: str, cost: int = 1) -> float:
        """Book ``cost`` for ``key`` and return 0.0, or refuse and return seconds to wait (> 0)."""
        decision = self._window.acquire(key, cost)
        if decision.allowed:
            return 0.0
        return max(decision.blocked_until - self._window.now(), 1e-3)

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        return self._window.used(key)

    def reset(self) -> None:
        self._window.reset()
