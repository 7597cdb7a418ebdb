"""Firm-quote reuse: a TTL cache with single-flight, so identical concurrent asks cost one call.

A firm quote is reused until the earlier of its ``expires_at`` and ``max_age`` seconds after it was
fetched; an in-flight fetch for the same key is shared by every caller that asks meanwhile. Errors
are not cached (the budget and circuit logic decide what to do with them), but they are shared with
the callers that were waiting on the same flight.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Protocol

from router.model import Quote

__all__ = ["MemoryQuoteCache", "QuoteCache"]


class QuoteCache(Protocol):
    async def get_or_fetch(self, key: Hashable, fetch: Callable[[], Awaitable[Quote]]) -> Quote: ...

    async def aclose(self) -> None: ...


class MemoryQuoteCache:
    """In-process :class:`QuoteCache` bounded to ``max_entries`` (least recently stored dropped)."""

    def __init__(
        self,
        *,
        max_age: float = 10.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_age = max_age
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Quote]] = OrderedDict()
        self._flights: dict[Hashable, asyncio.Future[Quote]] = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0

    def _fresh(self, key: Hashable) -> Quote | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        valid_until, quote = entry
        if self._clock() >= valid_until:
            del self._entries[key]
            return None
        return quote

    async def get_or_fetch(self, key: Hashable, fetch: Callable[[], Awaitable[Quote]]) -> Quote:
        quote = self._fresh(key)
        if quote is not None:
            self.hits += 1
            return quote
        flight = self._flights.get(key)
        if flight is None:
            self.misses += 1
            flight = asyncio.ensure_future(fetch())
            self._flights[key] = flight
            flight.add_done_callback(functools.partial(self._landed, key))
        else:
            self.shared += 1
        # shield: a caller's cancellation (its own deadline) must not cancel the shared flight,
        # which lands in the cache for whoever asks next
        return await asyncio.shield(flight)

    def _landed(self, key: Hashable, flight: asyncio.Future[Quote]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if flight.cancelled():
            return
        if flight.exception() is None:  # also marks an error as retrieved
            self._store(key, flight.result())

    def _store(self, key: Hashable, quote: Quote, limit: float | None = None) -> None:
        """Keep ``quote`` until the earlier of its expiry, ``max_age`` from now and ``limit``
        (the end of its validity elsewhere: a shared cache's entry it came from)."""
        now = self._clock()
        valid_until = now + self._max_age
        if quote.expires_at is not None:
            valid_until = min(valid_until, quote.expires_at)
        if limit is not None:
            valid_until = min(valid_until, limit)
        if valid_until <= now:
            return
        self._entries[key] = (valid_until, quote)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    async def aclose(self) -> None:
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        if flights:
            await asyncio.gather(*flights, return_exceptions=True)
        self._entries.clear()
