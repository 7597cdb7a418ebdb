"""1BitPay's indicative layer: the ``otc/rate`` answer per pair, cached briefly, single-flight.

``otc/rate`` gives ``buyRate``/``sellRate`` for one (coin, fiat) pair, independent of the amount,
for 1 budget unit. One answer prices both directions of the pair, so :class:`RateCache` keeps one
entry per fiat:

* fresh for ``ttl`` seconds (30 by default), then fetched again on the next ``get(fiat)``;
* concurrent callers share one request (a caller's cancellation does not cancel it);
* a permanent refusal (bad key, unknown pair, impossible answer) is remembered for ``ttl`` seconds
  too, so a misconfigured key is not asked again for every quote; a transient failure is not
  remembered (the budget already paces retries after "too many").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from router.errors import PermanentError

from ..cache import KeyedTtlCache, TtlCache
from .constants import RATE_TTL
from .wire import OtcRate

if TYPE_CHECKING:  # pragma: no cover
    from router.sources.bulkstore import Persisted

__all__ = ["RateCache", "RateSnapshot"]


class RateSnapshot(msgspec.Struct, frozen=True):
    """One ``otc/rate`` answer and when it arrived (unix seconds, the cache's clock)."""

    rate: OtcRate
    fetched_at: float


class RateCache(KeyedTtlCache[str, RateSnapshot]):
    """``fetch(fiat)`` results per fiat, reused for ``ttl`` seconds: one
    :class:`~adapters.cache.TtlCache` per fiat with the policy of the module docstring (no stale
    answer ever stands in for a failure). Close cancels fetches."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[OtcRate]],
        *,
        ttl: float = RATE_TTL,
        clock: Callable[[], float] = time.time,
        persist: Callable[[str], Persisted[RateSnapshot] | None] | None = None,
    ) -> None:
        if not ttl >= 0:
            raise ValueError("ttl must be >= 0 seconds")

        def make(fiat: str) -> TtlCache[RateSnapshot]:
            async def snapshot() -> RateSnapshot:
                return RateSnapshot(await fetch(fiat), clock())

            return TtlCache(snapshot, ttl=ttl, retry=ttl, remember=PermanentError, stale=None,
                            clock=clock, persist=persist(fiat) if persist else None)

        super().__init__(make)
