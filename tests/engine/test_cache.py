"""The firm-quote cache (``router/sources/firmcache.py``): a quote is stored, reused until the earlier of its
expiry and ``max_age``, then fetched again; errors are never stored."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from router import Router
from router.errors import ProviderUnavailable
from router.model import Quote
from router.sources.firmcache import MemoryQuoteCache
from tests.support.fakes import FakeSource
from tests.support.vclock import FakeClock, virtual_time

D = Decimal
BTC_USDT = [("BTC", "USDT@TRC20")]
QUOTE = Quote(provider="a", asset_in="BTC", asset_out="USDT@TRC20", amount_in=D(1),
              amount_out=D(60000), rate_type="fixed", kind="firm")


class Fetches:
    def __init__(self, quote: Quote) -> None:
        self.quote, self.calls = quote, 0

    async def __call__(self) -> Quote:
        self.calls += 1
        return self.quote


@virtual_time
async def test_a_stored_quote_is_reused_until_max_age_then_fetched_again() -> None:
    clock = FakeClock(1_000.0)
    cache = MemoryQuoteCache(max_age=10.0, clock=clock)
    fetch = Fetches(QUOTE)
    assert await cache.get_or_fetch("k", fetch) is QUOTE
    clock.advance(9.9)
    assert await cache.get_or_fetch("k", fetch) is QUOTE
    assert fetch.calls == 1 and cache.hits == 1 and cache.misses == 1  # stored, then served
    clock.advance(0.1)
    await cache.get_or_fetch("k", fetch)
    assert fetch.calls == 2  # max_age reached: asked again


@virtual_time
async def test_a_quote_is_never_served_past_its_own_expiry() -> None:
    clock = FakeClock(1_000.0)
    cache = MemoryQuoteCache(max_age=10.0, clock=clock)
    fetch = Fetches(msgspec.structs.replace(QUOTE, expires_at=1_003.0))
    await cache.get_or_fetch("k", fetch)
    clock.advance(2.9)
    await cache.get_or_fetch("k", fetch)
    assert fetch.calls == 1
    clock.advance(0.1)  # at expires_at: gone, although max_age is 10 s
    await cache.get_or_fetch("k", fetch)
    assert fetch.calls == 2
    expired = Fetches(msgspec.structs.replace(QUOTE, expires_at=clock.now - 1))
    for _ in range(2):  # already expired on arrival: used once, never stored
        await cache.get_or_fetch("old", expired)
    assert expired.calls == 2


@virtual_time
async def test_errors_are_not_stored_and_keys_are_apart() -> None:
    cache = MemoryQuoteCache(clock=FakeClock())
    calls = 0

    async def failing() -> Quote:
        nonlocal calls
        calls += 1
        raise ProviderUnavailable("a", "down", status=503)

    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await cache.get_or_fetch("k", failing)
    assert calls == 2
    fetch = Fetches(QUOTE)
    await cache.get_or_fetch("k1", fetch)
    await cache.get_or_fetch("k2", fetch)
    assert fetch.calls == 2


@virtual_time
async def test_the_router_reuses_a_firm_quote_for_the_same_market_amount_and_side() -> None:
    cached = FakeSource("a", BTC_USDT, D("60000"))
    async with Router([cached]) as r:
        first = await r.quote("BTC", "USDT", "1")
        second = await r.quote("BTC", "USDT", "1")
        assert cached.firm_calls == 1  # one after the other, not in flight together
        assert second.best == first.best and second.best is not None
        await r.quote("BTC", "USDT", "2")
        await r.quote("BTC", "USDT", "1", side="buy")
        assert cached.firm_calls == 3  # another amount, another side: asked
    uncached = FakeSource("a", BTC_USDT, D("60000"))
    async with Router([uncached], cache=False) as r:
        await r.quote("BTC", "USDT", "1")
        await r.quote("BTC", "USDT", "1")
    assert uncached.firm_calls == 2

