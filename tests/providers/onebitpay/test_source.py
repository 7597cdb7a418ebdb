"""OneBitPaySource on canned answers: markets, pricing both ways, minimums, cache, single flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.onebitpay import OneBitPaySource
from router.budgets import BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ConfigError,
    ProviderUnavailable,
    UnsupportedPair,
)
from router.model import Fee, Market
from router.sources.protocol import QuoteSource, SourceContext
from tests.providers.onebitpay.canned import (
    KEY,
    MERCHANT,
    SECRET,
    Canned,
    Fake1BitPay,
    ok,
)
from tests.support.vclock import FakeClock

D = Decimal
RATE = ok({"buyRate": "7.25", "sellRate": "7.05"})  # mid 7.15


@pytest.fixture
async def fake() -> AsyncIterator[Fake1BitPay]:
    server = Fake1BitPay()
    await server.server.start_server()
    yield server
    await server.server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
async def source(fake: Fake1BitPay, clock: FakeClock) -> AsyncIterator[OneBitPaySource]:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = OneBitPaySource(MERCHANT, KEY, SECRET, base_url=fake.base_url, clock=clock)
        await src.open(SourceContext(session, registry))
        yield src
        await src.aclose()
        await registry.aclose()


def market(src: str, dst: str) -> Market:
    fiat = dst if src == "USDT@TRC20" else src
    ref = f"USDT/{fiat}" if src == "USDT@TRC20" else f"{fiat}/USDT"
    return Market("onebitpay", src, dst, "float", ref)


async def test_protocol_and_markets(source: OneBitPaySource, fake: Fake1BitPay) -> None:
    assert isinstance(source, QuoteSource) and source.name == "onebitpay"
    assert source.firm_quotes is False
    markets = await source.markets()
    got = {(m.asset_in, m.asset_out, m.rate_type, m.ref) for m in markets}
    expected = set()
    for fiat in ("CNY", "USD", "EUR", "RUB"):
        expected.add((fiat, "USDT@TRC20", "float", f"{fiat}/USDT"))
        expected.add(("USDT@TRC20", fiat, "float", f"USDT/{fiat}"))
    assert got == expected and len(markets) == 8
    assert fake.requests == []  # markets cost nothing


async def test_configurable_fiats_and_minimums(fake: Fake1BitPay) -> None:
    src = OneBitPaySource(MERCHANT, KEY, SECRET, fiats=["cny", "VND"], min_volume={"VND": "500000"})
    assert src.minimum("VND") == D(500000) and src.minimum("CNY") == D(100)
    with pytest.raises(ConfigError):
        OneBitPaySource(MERCHANT, KEY, SECRET, fiats=["YUAN"])
    with pytest.raises(ConfigError):
        OneBitPaySource(MERCHANT, KEY, SECRET, min_volume={"CNY": 100.0})  # float money
    with pytest.raises(ConfigError):
        OneBitPaySource(MERCHANT, KEY, SECRET, rate_ttl=60)  # the cache is capped at 30 s (docs/providers.md)


@pytest.mark.parametrize(("src", "dst", "amount", "side", "amount_in", "amount_out", "fee"), [
    # user pays fiat at buyRate 7.25: 1000 / 7.25 = 137.931034|48 -> down to 6 places
    ("CNY", "USDT@TRC20", "1000", "sell", "1000", "137.931034", "1.929105"),
    # wants 100 USDT: 100 * 7.25 = 725 CNY
    ("CNY", "USDT@TRC20", "100", "buy", "725.00", "100", "1.398601"),
    # wants 100.0000001 USDT: fiat rounded up to the cent
    ("CNY", "USDT@TRC20", "100.0000001", "buy", "725.01", "100.0000001", "1.398621"),
    # user sends 100 USDT at sellRate 7.05: 705 CNY
    ("USDT@TRC20", "CNY", "100", "sell", "100", "705.00", "10.00"),
    # 33.333333 * 7.05 = 234.99999765 -> down to 234.99
    ("USDT@TRC20", "CNY", "33.333333", "sell", "33.333333", "234.99", "3.33"),
    # wants 1000 CNY: 1000 / 7.05 = 141.843971|6 -> up to 141.843972 USDT
    ("USDT@TRC20", "CNY", "1000", "buy", "141.843972", "1000", "14.18"),
])
async def test_pricing_both_directions_both_sides(
        source: OneBitPaySource, fake: Fake1BitPay, clock: FakeClock, src: str, dst: str,
        amount: str, side: Any, amount_in: str, amount_out: str, fee: str) -> None:
    fake.script["rate"] = Canned(RATE)
    quote = await source.indicative(market(src, dst), D(amount), side)
    assert quote is not None and quote.kind == "indicative" and quote.rate_type == "float"
    assert (quote.asset_in, quote.asset_out) == (src, dst)
    assert quote.amount_in == D(amount_in) and quote.amount_out == D(amount_out)
    assert str(quote.amount_in) == amount_in and str(quote.amount_out) == amount_out
    assert quote.observed_at == clock.now
    assert quote.fees == (Fee("spread", D(fee), dst),)
    assert quote.limit_min == (D(100) if src == "CNY" else D("14.184398"))  # 100 / 7.05, up


async def test_no_spread_fee_when_buy_rate_is_below_sell_rate(
        source: OneBitPaySource, fake: Fake1BitPay) -> None:
    fake.script["rate"] = Canned(ok({"buyRate": "6.47", "sellRate": "6.9"}))  # the doc's example
    quote = await source.indicative(market("CNY", "USDT@TRC20"), D(1000), "sell")
    assert quote.amount_out == D("154.559505") and quote.fees == ()


@pytest.mark.parametrize(("src", "dst", "amount", "side", "spends"), [
    ("CNY", "USDT@TRC20", "99.99", "sell", False),  # fiat in known: no unit spent
    ("USDT@TRC20", "CNY", "50", "buy", False),  # fiat out known
    ("CNY", "USDT@TRC20", "13.7", "buy", True),  # 13.7 * 7.25 = 99.33 CNY
    ("USDT@TRC20", "CNY", "14", "sell", True),  # 14 * 7.05 = 98.70 CNY
])
async def test_below_minimum_carries_the_figure_in_fiat(
        source: OneBitPaySource, fake: Fake1BitPay, src: str, dst: str, amount: str,
        side: Any, spends: bool) -> None:
    fake.script["rate"] = Canned(RATE)
    with pytest.raises(AmountOutOfRange) as info:
        await source.indicative(market(src, dst), D(amount), side)
    err = info.value
    assert err.below_min and err.reason == "limit_min"
    assert err.limit == D(100) and err.asset == "CNY"
    assert len(fake.requests) == (1 if spends else 0)


async def test_other_fiat_minimum(source: OneBitPaySource, fake: Fake1BitPay) -> None:
    fake.script["rate"] = Canned(ok({"buyRate": "92.5", "sellRate": "90.1"}))
    with pytest.raises(AmountOutOfRange) as info:
        await source.indicative(market("RUB", "USDT@TRC20"), D(1299), "sell")
    assert (info.value.limit, info.value.asset) == (D(1300), "RUB")
    quote = await source.indicative(market("RUB", "USDT@TRC20"), D(1300), "sell")
    assert quote.amount_out == D("14.054054")
    assert fake.requests[0][1] == b'{"cryptoCurrency":"USDT","legalCurrency":"RUB"}'


async def test_cache_30s_shared_by_both_directions(
        source: OneBitPaySource, fake: Fake1BitPay, clock: FakeClock) -> None:
    fake.script["rate"] = Canned(RATE)
    first = await source.indicative(market("CNY", "USDT@TRC20"), D(1000), "sell")
    clock.now += 29
    await source.indicative(market("USDT@TRC20", "CNY"), D(100), "sell")
    assert len(fake.requests) == 1
    fake.script["rate"] = Canned(ok({"buyRate": "7.5", "sellRate": "7.0"}))
    clock.now += 1.5
    again = await source.indicative(market("CNY", "USDT@TRC20"), D(1000), "sell")
    assert len(fake.requests) == 2
    assert again.observed_at == first.observed_at + 30.5  # type: ignore[operator]
    assert again.amount_out == D("133.333333")
    await source.indicative(market("USD", "USDT@TRC20"), D(100), "sell")  # another pair
    assert len(fake.requests) == 3


async def test_single_flight_per_pair(source: OneBitPaySource, fake: Fake1BitPay) -> None:
    fake.script["rate"] = Canned(RATE, delay=0.1)
    m_buy, m_sell = market("CNY", "USDT@TRC20"), market("USDT@TRC20", "CNY")
    quotes = await asyncio.gather(*(source.indicative(m, D(1000), "sell")
                                    for m in (m_buy, m_sell) * 5))
    assert len(fake.requests) == 1 and len(quotes) == 10


async def test_cancelled_caller_does_not_cancel_the_shared_fetch(
        source: OneBitPaySource, fake: Fake1BitPay) -> None:
    fake.script["rate"] = Canned(RATE, delay=0.1)
    m = market("CNY", "USDT@TRC20")
    first = asyncio.create_task(source.indicative(m, D(1000), "sell"))
    second = asyncio.create_task(source.indicative(m, D(1000), "sell"))
    await asyncio.sleep(0.02)
    first.cancel()
    assert (await second).amount_out == D("137.931034")
    assert len(fake.requests) == 1


async def test_permanent_errors_remembered_transient_not(
        source: OneBitPaySource, fake: Fake1BitPay, clock: FakeClock) -> None:
    m = market("CNY", "USDT@TRC20")
    fake.script["rate"] = Canned({"code": 150025, "message": "sign error", "data": None})
    for _ in range(2):
        with pytest.raises(AuthError):
            await source.indicative(m, D(1000), "sell")
    assert len(fake.requests) == 2  # the first bad signature is retried in the other key order
    clock.now += 31
    fake.script["rate"] = Canned("<html>bad gateway</html>", status=502)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await source.indicative(m, D(1000), "sell")
    assert len(fake.requests) == 4
    fake.script["rate"] = Canned(RATE)
    assert (await source.indicative(m, D(1000), "sell")).amount_out == D("137.931034")


async def test_firm_rereads_the_rate_and_stays_indicative(
        source: OneBitPaySource, fake: Fake1BitPay) -> None:
    fake.script["rate"] = Canned(RATE)
    m = market("USDT@TRC20", "CNY")
    await source.indicative(m, D(100), "sell")
    fake.script["rate"] = Canned(ok({"buyRate": "7.3", "sellRate": "7.1"}))
    quote = await source.firm(m, D(100), "sell")
    assert quote.kind == "indicative" and quote.amount_out == D("710.00")
    assert len(fake.requests) == 2


@pytest.mark.parametrize("m", [
    Market("fixedfloat", "CNY", "USDT@TRC20", "float", "CNY/USDT"),
    Market("onebitpay", "GBP", "USDT@TRC20", "float", "GBP/USDT"),
    Market("onebitpay", "CNY", "USDT@TRC20", "fixed", "CNY/USDT"),
    Market("onebitpay", "CNY", "USDT@ERC20", "float", "CNY/USDT"),
])
async def test_foreign_markets_are_unsupported(source: OneBitPaySource, fake: Fake1BitPay,
                                               m: Market) -> None:
    with pytest.raises(UnsupportedPair):
        await source.indicative(m, D(1000), "sell")
    assert fake.requests == []


async def test_lifecycle(fake: Fake1BitPay) -> None:
    src = OneBitPaySource(MERCHANT, KEY, SECRET, base_url=fake.base_url)
    with pytest.raises(RuntimeError):
        await src.markets()
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        await src.open(SourceContext(session, registry))
        with pytest.raises(RuntimeError):
            await src.open(SourceContext(session, registry))
        await src.aclose()
        await src.aclose()
        with pytest.raises(RuntimeError):
            await src.indicative(market("CNY", "USDT@TRC20"), D(1000), "sell")
        await registry.aclose()
