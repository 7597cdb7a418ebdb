"""The in-process budget store: an exact sliding-window log per key.

At time ``now`` a key has used the sum of the costs granted at ``t`` with
``t + policy.horizon > now``. A call is granted iff the key is not paused and
``used + cost <= policy.allowed(reserved=...)``. Check and booking happen in one critical section
(no ``await`` in between, and a thread lock for stores shared across threads). The log holds
at most ``cap`` entries per key, as every grant is at least one unit and old grants are pruned
on every access.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from router.budgets.policy import BudgetPolicy, BudgetUsage, Decision
from router.errors import InvalidRequest

__all__ = ["MemoryBudgetStore"]

_NEVER = -math.inf


def _delay(now: float, until: float) -> float:
    """The smallest float ``d`` with ``now + d >= until``, so a clock moved by ``d`` is there."""
    if until <= now:
        return 0.0
    d = until - now
    while now + d < until:
        d = math.nextafter(d, math.inf)
    return d


def penalty_pause(policy: BudgetPolicy, level: int, retry_after: float | None) -> float:
    """The pause a "too many" at penalty ``level`` earns: ``penalty_base * penalty_factor **
    level`` (at most ``penalty_max``), or the provider's longer ``retry_after`` (a negative, NaN
    or infinite one ignored)."""
    try:
        pause = policy.penalty_base * policy.penalty_factor ** level
    except OverflowError:
        pause = math.inf
    pause = min(pause, policy.penalty_max)
    if retry_after is not None and math.isfinite(retry_after) and retry_after > pause:
        pause = float(retry_after)
    return pause


class _KeyState:
    __slots__ = ("grants", "used", "paused_until", "level")

    def __init__(self) -> None:
        self.grants: deque[tuple[float, int]] = deque()  # (granted at, cost), oldest first
        self.used = 0
        self.paused_until = _NEVER
        self.level = 0

    def prune(self, now: float, policy: BudgetPolicy) -> None:
        horizon = policy.horizon
        grants = self.grants
        while grants and grants[0][0] + horizon <= now:
            self.used -= grants.popleft()[1]
        # Offence-free for penalty_decay seconds after the last pause ended: forgive.
        if self.level and now - self.paused_until >= policy.penalty_decay:
            self.level = 0

    def frees_in(self, now: float, need: int, policy: BudgetPolicy) -> float:
        """Seconds until at least ``need`` units of old grants have left the window."""
        freed = 0
        for granted_at, cost in self.grants:
            freed += cost
            if freed >= need:
                return _delay(now, granted_at + policy.horizon)
        raise AssertionError("need exceeds the units in the window")  # pragma: no cover


class MemoryBudgetStore:
    """A :class:`~router.budgets.BudgetStore` in this process; ``clock`` is injected for tests.

    Shares nothing with other processes: use one Redis store when several share a credential.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("budget store is closed")

    async def check(self) -> None:
        """Nothing to reach: an open memory store always answers."""
        self._check_open()

    def _state(self, key: str, now: float, policy: BudgetPolicy) -> _KeyState:
        self._check_open()
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState()
        else:
            state.prune(now, policy)
        return state

    async def try_acquire(self, key: str, cost: int, policy: BudgetPolicy, *,
                          reserved: bool = False) -> Decision:
        """Grant ``cost`` units now, or say why not and for how long (see the module doc).

        ``too_large`` (``retry_after`` infinite) when ``cost`` exceeds what the call may ever use;
        ``rate_limited`` with the rest of the pause while paused; ``budget_exhausted`` with the
        exact delay until enough old grants leave the window.
        """
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise InvalidRequest("cost", f"must be a positive integer, got {cost!r}", ">= 1")
        self._check_open()
        allowed = policy.allowed(reserved=reserved)
        if cost > allowed:
            return Decision(False, math.inf, "too_large")
        with self._lock:
            now = self._clock()
            state = self._state(key, now, policy)
            if now < state.paused_until:
                return Decision(False, _delay(now, state.paused_until), "rate_limited")
            if state.used + cost > allowed:
                wait = state.frees_in(now, state.used + cost - allowed, policy)
                return Decision(False, wait, "budget_exhausted")
            state.grants.append((now, cost))
            state.used += cost
            return Decision(True)

    async def penalize(self, key: str, policy: BudgetPolicy,
                       retry_after: float | None = None) -> float:
        """Pause ``key`` for ``max(retry_after, penalty_base * penalty_factor ** level)`` seconds
        (the second term at most ``penalty_max``), then raise the level by one.

        An earlier pause that ends later is kept; the return value is the pause now in force.
        A ``retry_after`` that is negative, NaN or infinite is ignored.
        """
        with self._lock:
            now = self._clock()
            state = self._state(key, now, policy)
            pause = penalty_pause(policy, state.level, retry_after)
            state.level += 1
            state.paused_until = max(state.paused_until, now + pause)
            return _delay(now, state.paused_until)

    async def usage(self, key: str, policy: BudgetPolicy) -> BudgetUsage:
        """Units used in the current window, the cap, what a normal call may take, the pause."""
        with self._lock:
            now = self._clock()
            state = self._state(key, now, policy)
            return BudgetUsage(
                used=state.used,
                cap=policy.cap,
                available=max(0, policy.allowed() - state.used),
                paused_for=_delay(now, state.paused_until),
                penalty_level=state.level,
            )

    async def aclose(self) -> None:
        """Drop all state; further use raises ``RuntimeError``. Idempotent."""
        self._closed = True
        self._keys.clear()

