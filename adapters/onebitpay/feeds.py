"""1BitPay's indicative layer: the ``otc/rate`` answer per pair, cached briefly, single-flight.

``otc/rate`` gives ``buyRate``/``sellRate`` for one (coin, fiat) pair, independent of the amount,
for 1 budget unit. One answer prices both directions of the pair, so :class:`RateCache` keeps one
entry per fiat:

* fresh for ``ttl`` seconds (30 by default), then fetched again on the next :meth:`~RateCache.get`;
* concurrent callers share one request (a caller's cancellation does not cancel it);
* a permanent refusal (bad key, unknown pair, impossible answer) is remembered for ``ttl`` seconds
  too, so a misconfigured key is not asked again for every quote; a transient failure is not
  remembered (the budget already paces retries after "too many").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import msgspec

from router.errors import PermanentError, ProviderError

from .constants import RATE_TTL
from .wire import OtcRate

__all__ = ["RateCache", "RateSnapshot"]


class RateSnapshot(msgspec.Struct, frozen=True):
    """One ``otc/rate`` answer and when it arrived (unix seconds, the cache's clock)."""

    rate: OtcRate
    fetched_at: float


class _Entry:
    __slots__ = ("error", "expires_at", "snapshot")

    def __init__(self, snapshot: RateSnapshot | None, error: ProviderError | None,
                 expires_at: float) -> None:
        self.snapshot = snapshot
        self.error = error
        self.expires_at = expires_at


class RateCache:
    """``fetch(fiat)`` results per fiat, reused for ``ttl`` seconds. Close cancels fetches."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[OtcRate]],
        *,
        ttl: float = RATE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not ttl >= 0:
            raise ValueError("ttl must be >= 0 seconds")
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._flights: dict[str, asyncio.Task[RateSnapshot]] = {}
        self._closed = False
        self.requests = 0  # fetches started

    def peek(self, fiat: str) -> RateSnapshot | None:
        """The cached rate of ``fiat`` if still fresh; never does I/O."""
        entry = self._entries.get(fiat)
        if entry is not None and entry.snapshot is not None and self._clock() < entry.expires_at:
            return entry.snapshot
        return None

    async def get(self, fiat: str, *, fresh: bool = False) -> RateSnapshot:
        """The rate of ``fiat``: cached if fresh (unless ``fresh``), else fetched; concurrent
        callers share one fetch. Raises the fetch's :class:`ProviderError`."""
        if self._closed:
            raise RuntimeError("RateCache is closed")
        entry = self._entries.get(fiat)
        if not fresh and entry is not None and self._clock() < entry.expires_at:
            if entry.error is not None:
                raise entry.error.with_traceback(None)
            assert entry.snapshot is not None
            return entry.snapshot
        flight = self._flights.get(fiat)
        if flight is None:
            self.requests += 1
            flight = self._flights[fiat] = asyncio.create_task(self._run(fiat))
            flight.add_done_callback(lambda task: self._landed(fiat, task))
        return await asyncio.shield(flight)

    async def aclose(self) -> None:
        """Cancel fetches in flight; idempotent. Later calls raise ``RuntimeError``."""
        self._closed = True
        flights = list(self._flights.values())
        self._flights.clear()
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)

    async def _run(self, fiat: str) -> RateSnapshot:
        rate = await self._fetch(fiat)
        return RateSnapshot(rate, self._clock())

    def _landed(self, fiat: str, flight: asyncio.Task[RateSnapshot]) -> None:
        if self._flights.get(fiat) is flight:
            del self._flights[fiat]
        if flight.cancelled():
            return
        error = flight.exception()
        if error is None:
            snapshot = flight.result()
            self._entries[fiat] = _Entry(snapshot, None, snapshot.fetched_at + self._ttl)
        elif isinstance(error, PermanentError):
            self._entries[fiat] = _Entry(None, error, self._clock() + self._ttl)
        # a transient failure leaves the entry as it was: the next caller tries again
