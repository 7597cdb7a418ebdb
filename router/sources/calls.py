"""Every call the router makes to a source, under one quote's deadline.

A :class:`Calls` belongs to one quote (or one batch) and is how the engine reaches its sources:

* **Prompt cancellation.** Each source call runs as its own task, tracked by the router's
  :class:`TaskSet`; the quote waits on it without owning it, so when the deadline strikes the quote
  is done at once even if a source is slow to unwind (or never does). Nothing is left pending when
  the router closes, and no exception goes unretrieved.
* **Health.** Every outcome is recorded on the provider's circuit breaker (:mod:`router.sources.health`).
  A provider whose circuit is open is not called: :class:`ProviderUnhealthy`.
* **Validation.** Every quote is checked (:mod:`router.snapshot.screening`) before anyone sees it; an
  implausible one is an error, never cached, and a failure for the breaker.
* **Hedging** (firm quotes only; they are idempotent reads, never orders): when a call has not
  answered after the hedge delay (``max(0.3 s, deadline / 3)``), or failed with a transient error,
  and the deadline leaves room, the circuit is closed and the provider's budget has headroom, one
  duplicate is sent; the first good answer wins and the other is cancelled. The duplicate never
  waits for budget. A permanent answer (a limit, an unsupported pair, a lie) is believed at once.
  The hedge runs inside the firm-quote cache's flight, so identical asks still share one flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from router.budgets import BudgetRegistry, budget_deadline
from router.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnhealthy,
    RateLimited,
    TransientError,
)
from router.model import Market, Quote, Side, Unavailable
from router.pricing.collect import Collector
from router.snapshot.edges import Edge
from router.snapshot.screening import Plausibility, check_quote, reference_rate
from router.sources.firmcache import QuoteCache
from router.sources.health import Health
from router.sources.protocol import QuoteSource
from router.sources.tasks import TaskSet, wait_for_task

__all__ = ["CallStats", "Calls", "References"]

log = logging.getLogger("bestrate.router")
T = TypeVar("T")

#: The shortest hedge delay, and the least time a duplicate must have left to be worth sending.
HEDGE_MIN_DELAY = 0.3
HEDGE_MIN_LEFT = 0.05


@dataclass
class CallStats:
    """What the router's calls did, since it opened (for reports and the chaos test)."""

    calls: int = 0
    hedged: int = 0
    hedge_won: int = 0
    retried: int = 0
    implausible: int = 0
    skipped_unhealthy: int = 0
    by_provider: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class References:
    """What validation compares with: coin values (the graph's reference mids) and each market's
    precision."""

    values: dict[str, Decimal]
    quanta: dict[Market, tuple[Decimal, Decimal]]

    @staticmethod
    def empty() -> References:
        return References({}, {})


def retryable(exc: BaseException) -> bool:
    """Worth one more try at once: a transient failure that is not about budgets or health."""
    return isinstance(exc, TransientError) and not isinstance(exc, (RateLimited, ProviderUnhealthy))


class Calls:
    """The calls of one quote (``until``: absolute loop time, ``None`` for a batch)."""

    def __init__(self, *, tasks: TaskSet, health: Health | None, budgets: BudgetRegistry,
                 cache: QuoteCache | None, refs: Callable[[], References], stats: CallStats,
                 col: Collector, until: float | None, total: float | None, hedge: bool,
                 hedge_delay: float | None, plausibility: Plausibility) -> None:
        self._tasks, self._health, self._budgets, self._cache = tasks, health, budgets, cache
        self._refs, self.stats, self.col = refs, stats, col
        self.until, self.total = until, total
        self._hedge = hedge and until is not None and total is not None
        self._hedge_delay = hedge_delay if hedge_delay is not None else (
            max(HEDGE_MIN_DELAY, total / 3) if total else HEDGE_MIN_DELAY)
        self._plausibility = plausibility
        self.started = self._now()  # on the breakers' clock
        self.closed = False

    # -- plumbing ------------------------------------------------------------------------------
    def _now(self) -> float | None:
        return self._health.now() if self._health is not None else None

    def _record(self, provider: str, exc: BaseException | None, started: float | None) -> None:
        if exc is not None and log.isEnabledFor(logging.DEBUG):
            log.debug("%s call failed: %r", provider, exc, exc_info=exc)
        if self._health is not None:
            self._health.breaker(provider).record(exc, started)

    def _gate(self, provider: str) -> None:
        if self.closed:
            raise ProviderTimeout(provider, "the quote's deadline has passed")
        if self._health is not None:
            admission = self._health.breaker(provider).state
            if admission == "open":
                self.stats.skipped_unhealthy += 1
                wait = self._health.breaker(provider).admit().retry_after
                raise ProviderUnhealthy(provider, "circuit open after repeated failures",
                                        retry_after=wait)

    async def _run(self, provider: str, coro: Coroutine[Any, Any, T], *,
                   record_success: bool = True) -> T:
        """Run one source call as a tracked task, recording its outcome on the breaker."""
        started = self._now()

        async def tracked() -> T:
            try:
                result = await coro
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self._record(provider, exc, started)
                raise
            if record_success:
                self._record(provider, None, started)
            return result

        self.stats.calls += 1
        self.stats.by_provider[provider] = self.stats.by_provider.get(provider, 0) + 1
        return await wait_for_task(self._tasks.spawn(tracked()))

    # -- bulk data and indicative prices -----------------------------------------------------------
    def edges(self, source: QuoteSource) -> asyncio.Task[Sequence[Edge]]:
        """``source.edges()`` as a tracked task (the caller decides how long to wait for it)."""
        firm = source.firm_quotes
        started = self._now()

        async def call() -> Sequence[Edge]:
            try:
                edges = await source.edges()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self._record(source.name, exc, started)
                raise
            if not firm:  # for a source without firm quotes this is its only real call
                self._record(source.name, None, started)
            return edges

        return self._tasks.spawn(call())

    def settle_edges(self, tasks: dict[str, asyncio.Task[Sequence[Edge]]],
                     cols: Sequence[Collector]) -> dict[str, Sequence[Edge]]:
        """The edges of the :meth:`edges` tasks that arrived. A source still working is cancelled,
        noted as ``timeout`` and counted against its breaker; one that failed or raised is noted
        with its reason; every note goes into each of ``cols`` (one quote's, or a batch's)."""
        out: dict[str, Sequence[Edge]] = {}
        for name, task in tasks.items():
            entry: Unavailable | None = None
            error: ProviderError | None = None
            if not task.done() or task.cancelled():
                task.cancel()  # sources share their bulk fetches: those go on, warming caches
                self.timed_out(name)
                entry = Unavailable(provider=name, reason="timeout",
                                    detail="bulk data did not arrive in time")
            elif isinstance(exc := task.exception(), ProviderError):
                error = exc
            elif exc is not None:
                log.error("source %s raised %r", name, type(exc).__name__)
                entry = Unavailable(provider=name, reason="provider_error",
                                    detail=f"internal error {type(exc).__name__}")
            else:
                out[name] = task.result()
            for col in cols:
                if error is not None:
                    col.fail(name, error)
                elif entry is not None:
                    col.note(entry)
        return out

    def timed_out(self, provider: str) -> None:
        """``provider`` still had a call out when time ran out: a failure for its breaker."""
        self._record(provider, ProviderTimeout(provider, "no answer in time"), self.started)

    async def indicative(self, source: QuoteSource, market: Market, amount: Decimal,
                         side: Side) -> Quote | None:
        self._gate(source.name)
        firm = source.firm_quotes

        async def call() -> Quote | None:
            quote = await source.indicative(market, amount, side)
            if quote is not None:
                self._check(quote, market, amount, side)
            return quote

        return await self._run(source.name, call(), record_success=not firm)

    # -- firm quotes ---------------------------------------------------------------------------
    async def firm(self, source: QuoteSource, market: Market, amount: Decimal, side: Side) -> Quote:
        """The firm-quote call of one quote: gated, cached and coalesced, hedged, validated,
        tracked as pending in the collector (so the deadline can report it)."""
        name = source.name
        self._gate(name)
        token = object()
        self.col.start(name, token)
        try:
            if self._cache is not None:
                key = (name, market, amount, side)
                quote = await self._cache.get_or_fetch(
                    key, lambda: self._flight(source, market, amount, side))
            else:
                quote = await self._flight(source, market, amount, side)
        except asyncio.CancelledError:
            raise  # the deadline struck: stays pending, reported as timeout
        except BaseException:
            self.col.finish(name, token)
            raise
        self.col.finish(name, token)
        return quote

    def _check(self, quote: Quote, market: Market, amount: Decimal, side: Side) -> None:
        refs = self._refs()
        ref = reference_rate(refs.values, market.asset_in, market.asset_out)
        q_in, q_out = refs.quanta.get(market, (None, None))
        try:
            check_quote(quote, market, amount, side, reference=ref, quantum_in=q_in,
                        quantum_out=q_out, policy=self._plausibility)
        except Exception:
            self.stats.implausible += 1
            raise

    def _attempt(self, source: QuoteSource, market: Market, amount: Decimal, side: Side, *,
                 duplicate: bool = False) -> asyncio.Task[Quote]:
        name = source.name
        loop = asyncio.get_running_loop()

        started = self._now()

        async def call() -> Quote:
            if duplicate:  # a hedge never waits for budget: it goes now or not at all
                budget_deadline.set(loop.time())
            try:
                quote = await source.firm(market, amount, side)
                self._check(quote, market, amount, side)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self._record(name, exc, started)
                raise
            self._record(name, None, started)
            return quote

        self.stats.calls += 1
        self.stats.by_provider[name] = self.stats.by_provider.get(name, 0) + 1
        return self._tasks.spawn(call())

    async def _may_duplicate(self, provider: str) -> bool:
        if not self._hedge or self.closed or self.until is None:
            return False
        left = self.until - asyncio.get_running_loop().time()
        if left < max(HEDGE_MIN_LEFT, (self.total or 0) * 0.1):
            return False
        if self._health is not None and self._health.breaker(provider).state != "closed":
            return False
        for budget in self._budgets.of(provider):
            usage = await budget.usage()
            if usage.paused_for > 0 or usage.available < max(2, usage.cap // 5):
                return False
        return True

    async def _flight(self, source: QuoteSource, market: Market, amount: Decimal,
                      side: Side) -> Quote:
        """One firm quote, hedged (see the module docstring)."""
        first = self._attempt(source, market, amount, side)
        second: asyncio.Task[Quote] | None = None
        try:
            if not self._hedge:
                return await wait_for_task(first)
            await asyncio.wait({first}, timeout=self._hedge_delay)
            if first.done():
                exc = first.exception()
                if exc is None:
                    return first.result()
                if not retryable(exc) or not await self._may_duplicate(source.name):
                    raise exc
                self.stats.retried += 1
                second = self._attempt(source, market, amount, side, duplicate=True)
                return await wait_for_task(second)
            if not await self._may_duplicate(source.name):
                return await wait_for_task(first)
            self.stats.hedged += 1
            second = self._attempt(source, market, amount, side, duplicate=True)
            quote, winner = await _first_good(first, second)
            if winner is second:
                self.stats.hedge_won += 1
            return quote
        finally:
            for task in (first, second):
                if task is not None and not task.done():
                    task.cancel()


async def _first_good(*tasks: asyncio.Task[Quote]) -> tuple[Quote, asyncio.Task[Quote]]:
    """The first quote any of ``tasks`` gives; a permanent error is believed at once; when all
    fail transiently, the first failure."""
    pending: set[asyncio.Task[Quote]] = set(tasks)
    failures: list[BaseException] = []
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in sorted(done, key=tasks.index):
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is None:
                return task.result(), task
            if not retryable(exc):
                raise exc
            failures.append(exc)
    if failures:
        raise failures[0]
    raise asyncio.CancelledError()

