"""Gate Pay's per-client budget: a plain cost-weighted sliding window, no blocks.

No limit is documented; the integrator fixed 120 units per 60 s per client id, every call 1 unit.
Unlike FixedFloat's limiter (:class:`bench.emulators.common.SlidingWindowLimiter`, which blocks a
key after an overrun, longer at each offence), an over-limit call here is simply refused and not
booked, with the time until enough units leave the window: the client may call again as soon as
the window allows.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["BUDGET_LIMIT", "BUDGET_WINDOW", "WindowBudget"]

BUDGET_LIMIT: Final = 120
BUDGET_WINDOW: Final = 60.0


@dataclass(slots=True)
class _Key:
    spent: deque[tuple[float, int]] = field(default_factory=deque)
    used: int = 0


class WindowBudget:
    """At most ``limit`` units per ``window`` seconds per key; check and booking in one step.

    ``clock`` is injectable (tests drive it; never sleep).
    """

    def __init__(self, limit: int = BUDGET_LIMIT, window: float = BUDGET_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._keys: dict[str, _Key] = {}

    def acquire(self, key: str, cost: int = 1) -> float:
        """Book ``cost`` for ``key`` and return 0.0, or refuse and return seconds to wait (> 0)."""
        now = self._clock()
        st = self._keys.setdefault(key, _Key())
        horizon = now - self.window
        while st.spent and st.spent[0][0] <= horizon:
            st.used -= st.spent.popleft()[1]
        if st.used + cost <= self.limit:
            st.spent.append((now, cost))
            st.used += cost
            return 0.0
        if cost > self.limit:
            return self.window
        excess = st.used + cost - self.limit
        for t, c in st.spent:
            excess -= c
            if excess <= 0:
                return max(t + self.window - now, 1e-3)
        return self.window  # unreachable: the loop frees everything booked

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        st = self._keys.get(key)
        if st is None:
            return 0
        horizon = self._clock() - self.window
        return sum(c for t, c in st.spent if t > horizon)

    def reset(self) -> None:
        self._keys.clear()
