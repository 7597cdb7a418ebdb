"""The budget strategy for one provider credential, and the registry that hands them out.

:meth:`Budget.acquire` asks the store; when refused it waits only as long as allowed: the
``timeout`` argument, else what is left until :data:`budget_deadline` (an absolute
``loop.time()`` the router sets for the current quote), else not at all. Waiting is timer-based:
a heap of ``(wake_at, seq, future)`` and one ``loop.call_at`` timer for the earliest entry, never
a polling loop. A woken waiter asks the store again and queues anew if still refused.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from contextvars import ContextVar

from router.budgets.memory import MemoryBudgetStore
from router.budgets.policy import BudgetPolicy, BudgetStore, BudgetUsage
from router.errors import (
    BudgetExhausted,
    BudgetStoreUnavailable,
    ConfigError,
    InvalidRequest,
    RateLimited,
)

log = logging.getLogger("bestrate.budgets")

__all__ = ["Budget", "BudgetRegistry", "budget_deadline"]

#: Absolute ``loop.time()`` by which the current quote must be done; ``None`` outside a quote.
budget_deadline: ContextVar[float | None] = ContextVar("budget_deadline", default=None)

#: Never re-ask the store sooner than this, even if a store rounds a refusal's delay to 0.
_MIN_WAIT = 0.001

_Entry = tuple[float, int, "asyncio.Future[None]"]


class Budget:
    """Spends the budget of ``provider`` under one credential (``credential`` is a fingerprint,
    never the secret; it appears only in :attr:`key`, never in messages)."""

    def __init__(self, store: BudgetStore, provider: str, credential: str,
                 policy: BudgetPolicy) -> None:
        self.store = store
        self.provider = provider
        self.policy = policy
        self.key = f"{provider}:{credential}"
        self.spent = 0  # units this process has been granted, ever (for reports)
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Budget({self.provider!r}, cap={self.policy.cap}, waiting={self.waiting})"

    @property
    def waiting(self) -> int:
        """How many :meth:`acquire` calls are queued for a retry right now."""
        return len(self._heap)

    async def acquire(self, cost: int = 1, *, reserved: bool = False,
                      timeout: float | None = None) -> None:
        """Take ``cost`` units, waiting for them while the allowed wait permits.

        Raises :class:`BudgetExhausted` when our budget will not free up in time (``retry_after``
        is ``None`` when ``cost`` can never fit), :class:`RateLimited` while paused after the
        provider said "too many" and the pause outlasts the allowed wait.
        """
        loop = asyncio.get_running_loop()
        deadline = self._deadline(loop, timeout)
        while True:
            try:
                decision = await self.store.try_acquire(self.key, cost, self.policy,
                                                        reserved=reserved)
            except (InvalidRequest, asyncio.CancelledError):
                raise
            except Exception as exc:  # the store's own failure: never the provider's
                raise store_unavailable(self.provider, exc) from None
            if decision.ok:
                self.spent += cost
                return
            if decision.reason == "too_large":
                room = self.policy.allowed(reserved=reserved)
                raise BudgetExhausted(
                    self.provider, f"{cost} units exceed the {room} one window allows")
            wait = max(decision.retry_after, _MIN_WAIT)
            wake_at = loop.time() + wait
            if wake_at > deadline:
                if decision.reason == "rate_limited":
                    raise RateLimited(self.provider, f"paused for {wait:.3f} s after the "
                                      "provider said too many", retry_after=wait)
                raise BudgetExhausted(self.provider, f"{cost} units free up in {wait:.3f} s",
                                      retry_after=wait)
            await self._sleep_until(loop, wake_at)

    async def penalize(self, retry_after: float | None = None) -> float:
        """Record that the provider said "too many"; return the seconds calls now pause. A store
        that cannot record it is logged (the next grant will report the store as unavailable)."""
        try:
            return await self.store.penalize(self.key, self.policy, retry_after)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported, and the provider's answer stands
            log.warning("budget store could not record a pause for %s: %s", self.provider,
                        type(exc).__name__)
            return retry_after if retry_after is not None and retry_after > 0 else 0.0

    async def usage(self) -> BudgetUsage:
        """The store's snapshot of this key."""
        return await self.store.usage(self.key, self.policy)

    @staticmethod
    def _deadline(loop: asyncio.AbstractEventLoop, timeout: float | None) -> float:
        if timeout is not None:
            if math.isnan(timeout):
                raise InvalidRequest("timeout", "is NaN", "seconds >= 0, or None")
            return loop.time() + max(0.0, timeout)
        deadline = budget_deadline.get()
        return loop.time() if deadline is None else deadline

    async def _sleep_until(self, loop: asyncio.AbstractEventLoop, wake_at: float) -> None:
        if self._heap and self._loop is not loop:
            raise RuntimeError("a Budget cannot have waiters on two event loops at once")
        self._loop = loop
        entry: _Entry = (wake_at, next(self._seq), loop.create_future())
        heapq.heappush(self._heap, entry)
        self._arm()
        try:
            await entry[2]
        except asyncio.CancelledError:
            self._discard(entry)
            raise

    def _discard(self, entry: _Entry) -> None:
        """Forget a cancelled waiter (a no-op if the timer already woke it)."""
        try:
            self._heap.remove(entry)
        except ValueError:
            return
        heapq.heapify(self._heap)
        self._arm()

    def _arm(self) -> None:
        """Keep exactly one timer, due at the earliest queued wake-up (none if nobody waits)."""
        timer = self._timer
        if not self._heap:
            if timer is not None:
                timer.cancel()
                self._timer = None
            return
        head = self._heap[0][0]
        if timer is not None:
            if timer.when() == head:
                return
            timer.cancel()
        assert self._loop is not None
        self._timer = self._loop.call_at(head, self._fire, head)

    def _fire(self, due: float) -> None:
        """Timer callback: wake every waiter due by now (or by the time the timer was set for,
        since the loop may run a timer up to its clock resolution early)."""
        self._timer = None
        assert self._loop is not None
        due = max(due, self._loop.time())
        while self._heap and self._heap[0][0] <= due:
            future = heapq.heappop(self._heap)[2]
            if not future.done():
                future.set_result(None)
        self._arm()


class BudgetRegistry:
    """One :class:`Budget` per provider credential, all on one store (in-memory by default).

    ``aclose()`` closes the store, including one passed in.
    """

    def __init__(self, store: BudgetStore | None = None) -> None:
        self._store: BudgetStore = MemoryBudgetStore() if store is None else store
        self._budgets: dict[str, Budget] = {}
        self._closed = False

    @property
    def store(self) -> BudgetStore:
        return self._store

    def spent(self) -> dict[str, int]:
        """Units granted so far in this process, per provider (summed over credentials)."""
        out: dict[str, int] = {}
        for budget in self._budgets.values():
            out[budget.provider] = out.get(budget.provider, 0) + budget.spent
        return out

    def of(self, provider: str) -> tuple[Budget, ...]:
        """Every budget handed out for ``provider`` (one per credential in use)."""
        return tuple(b for b in self._budgets.values() if b.provider == provider)

    def get(self, provider: str, credential: str, policy: BudgetPolicy) -> Budget:
        """The budget for ``provider`` under ``credential`` (a fingerprint); the same object for
        the same pair. Asking again with a different policy is a configuration error."""
        if self._closed:
            raise RuntimeError("budget registry is closed")
        key = f"{provider}:{credential}"
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = Budget(self._store, provider, credential, policy)
        elif budget.policy != policy:
            raise ConfigError(f"budgets.{provider}", "a different policy is already in use for "
                              "this credential", "one policy per provider credential")
        return budget

    async def aclose(self) -> None:
        """Close the store; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._budgets.clear()
        await self._store.aclose()


def store_unavailable(provider: str, exc: BaseException) -> BudgetStoreUnavailable:
    """The error a call gets when the budget store fails: the store's kind of failure, never
    its text (a Redis error may quote the URL, with its password)."""
    return BudgetStoreUnavailable(provider, f"budget store unavailable ({type(exc).__name__}); "
                                            "no call was made")
