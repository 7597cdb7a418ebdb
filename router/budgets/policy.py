"""What a budget allows (:class:`BudgetPolicy`), what a store answers, and the store interface.

Units are integers (provider "weight" or request counts), never money. Times are seconds as
floats: they are durations and clock readings, not amounts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from router.errors import ConfigError

__all__ = ["BudgetPolicy", "BudgetStore", "BudgetUsage", "Decision", "DecisionReason"]

#: Why :meth:`BudgetStore.try_acquire` said no ("" when it said yes).
DecisionReason = Literal["", "budget_exhausted", "rate_limited", "too_large"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)  # type: ignore[arg-type]


@lru_cache(maxsize=256)
def _cap(limit: int, margin: float) -> int:
    # Exact: Fraction(str(0.07)) is 7/100, where 100 * 0.07 is 7.000000000000001 in floats.
    return limit - math.ceil(limit * Fraction(str(margin)))


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """The limit of one provider credential and how conservatively we use it.

    ``cap = limit - ceil(limit * margin)`` units may be spent in any window of ``window +
    window_slack`` seconds; the last ``reserve`` units of the cap are kept for ``reserved=True``
    calls (order creation). After the provider says "too many", calls pause for
    ``penalty_base * penalty_factor ** level`` seconds (at most ``penalty_max``); the level
    returns to 0 after ``penalty_decay`` seconds without an offence, counted from the end of the
    last pause.
    """

    limit: int
    window: float = 60.0
    margin: float = 0.05
    reserve: int = 0
    window_slack: float = 1.0
    penalty_base: float = 5.0
    penalty_factor: float = 2.0
    penalty_max: float = 900.0
    penalty_decay: float = 600.0

    def __post_init__(self) -> None:
        if not _is_int(self.limit) or self.limit <= 0:
            raise ConfigError("limit", f"must be a positive integer, got {self.limit!r}", ">= 1")
        self._check_real("window", lambda v: v > 0, "> 0 seconds")
        self._check_real("margin", lambda v: 0 <= v < 1, "0 <= margin < 1")
        self._check_real("window_slack", lambda v: v >= 0, ">= 0 seconds")
        self._check_real("penalty_base", lambda v: v > 0, "> 0 seconds")
        self._check_real("penalty_factor", lambda v: v >= 1, ">= 1")
        self._check_real("penalty_max", lambda v: v >= self.penalty_base, ">= penalty_base")
        self._check_real("penalty_decay", lambda v: v >= 0, ">= 0 seconds")
        cap = _cap(self.limit, self.margin)
        if cap < 1:
            raise ConfigError("margin", f"leaves no usable unit of limit {self.limit}",
                              "a margin below 1 - 1/limit")
        if not _is_int(self.reserve) or not 0 <= self.reserve < cap:
            raise ConfigError("reserve", f"must be an integer below the cap {cap}, got "
                              f"{self.reserve!r}", f"0 <= reserve < {cap}")

    def _check_real(self, name: str, ok: Callable[[float], bool], allowed: str) -> None:
        value = getattr(self, name)
        if not _is_real(value) or not ok(value):
            raise ConfigError(name, f"got {value!r}", allowed)

    @property
    def cap(self) -> int:
        """Units that may be spent in one window: the limit less the margin."""
        return _cap(self.limit, self.margin)

    @property
    def horizon(self) -> float:
        """The counting window in seconds: ``window + window_slack``."""
        return self.window + self.window_slack

    def allowed(self, *, reserved: bool = False) -> int:
        """The most units a call may bring the window to: ``cap``, or ``cap - reserve``."""
        cap = _cap(self.limit, self.margin)
        return cap if reserved else cap - self.reserve


class Decision(NamedTuple):
    """A store's answer: granted, or how long until the same request could be."""

    ok: bool
    retry_after: float = 0.0
    reason: DecisionReason = ""


class BudgetUsage(NamedTuple):
    """A snapshot of one key: ``available`` counts what a normal call may still take now
    (the budget only; ``paused_for`` says whether calls are paused anyway)."""

    used: int
    cap: int
    available: int
    paused_for: float
    penalty_level: int


@runtime_checkable
class BudgetStore(Protocol):
    """Where budget state lives. Every method is one atomic operation on one key.

    The store owns the clock, so every duration it returns is relative (seconds from now).
    """

    async def try_acquire(self, key: str, cost: int, policy: BudgetPolicy, *,
                          reserved: bool = False) -> Decision:
        """Check and book ``cost`` units in one step (see :class:`MemoryBudgetStore`)."""
        ...

    async def penalize(self, key: str, policy: BudgetPolicy,
                       retry_after: float | None = None) -> float:
        """Record a "too many" from the provider; return the seconds calls are now paused."""
        ...

    async def usage(self, key: str, policy: BudgetPolicy) -> BudgetUsage:
        """Report the state of ``key`` without changing it."""
        ...

    async def aclose(self) -> None:
        """Release resources; idempotent. The store refuses use afterwards."""
        ...
