"""FlyPaySource and its payways cache against canned, signed answers (no emulator)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

import aiohttp
import pytest

from adapters.flypay import FlyPayClient, FlyPaySource, PaywaysCache
from router.budgets import BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ProviderError,
    Rejected,
    SignatureInvalid,
    UnsupportedPair,
)
from router.model import Fee, Market
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext
from tests.providers.flypay.canned import (
    KEY,
    SECRET,
    Canned,
    FakeFlyPay,
    RecordingBudget,
    error,
    ok,
)
from tests.support.vclock import FakeClock

D = Decimal
RATE = D("60000")


def way(symbol: str, name: str) -> dict[str, Any]:
    return {"symbol": symbol, "payway": name, "is_crypto": True, "min_amount": 1,
            "max_amount": 1000, "percent_fee": 1, "amount_fee": 1}


PAYWAYS: dict[str, Any] = {
    "payin": {"btc": {"btc": way("btc", "btc")},
              "usdt": {"trc20": way("usdt", "trc20"), "erc20": way("usdt", "erc20")}},
    "payout": {"btc": {"btc": way("btc", "btc")}, "usdt": {"trc20": way("usdt", "trc20")}},
    "exchange_payin": [],
    "exchange_payout": [],
    "exchange": {
        "btc_usdt": {"currency_from": "btc", "currency_to": "usdt",
                     "currency_from_precision": 8, "currency_to_precision": 2,
                     "exchange_rate": "60000", "min_amount": "0.001", "max_amount": "5",
                     "percent_fee": "0.5", "amount_fee": "1", "currency_fee": "usdt"},
        "usdt_btc": {"currency_from": "usdt", "currency_to": "btc",
                     "currency_from_precision": 2, "currency_to_precision": 8,
                     "exchange_rate": "0.0000165", "min_amount": 10, "max_amount": 100000,
                     "percent_fee": 1, "amount_fee": 0.5, "currency_fee": "usdt"},
    },
}
BTC_USDT = Market("flypay", "BTC@BTC", "USDT@TRC20", "float", "btc_usdt")


def firm_estimate(body: dict[str, Any]) -> Canned:
    """btc→usdt priced like the model less a size-dependent spread (0.1 % per BTC)."""
    amount = D(str(body["amount"]))
    gross = amount * RATE
    spread = amount * D("0.001")
    out = (gross * (1 - D("0.005") - spread) - 1).quantize(D("0.01"), ROUND_DOWN)
    return Canned(ok({"currency_from": body["currency_from"], "currency_to": body["currency_to"],
                      "amount_from": str(amount), "amount_to": str(out)}))


class Opened:
    """An opened FlyPaySource on the fake server."""

    def __init__(self, fly: FakeFlyPay, session: aiohttp.ClientSession, **kw: Any) -> None:
        self.source = FlyPaySource(KEY, SECRET, base_url=fly.base_url, **kw)
        self.registry = BudgetRegistry()
        self.session = session

    async def __aenter__(self) -> FlyPaySource:
        await self.source.open(SourceContext(self.session, self.registry))
        return self.source

    async def __aexit__(self, *exc: object) -> None:
        await self.source.aclose()
        await self.registry.aclose()


@pytest.fixture
async def fly() -> AsyncIterator[FakeFlyPay]:
    fake = FakeFlyPay()
    fake.script["payways"] = Canned(ok(PAYWAYS))
    fake.script["exchange/estimated_amount"] = firm_estimate
    await fake.server.start_server()
    yield fake
    await fake.server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_markets_from_payways(fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:
    async with Opened(fly, session) as source:
        assert isinstance(source, QuoteSource) and source.name == "flypay"
        markets = await source.markets()
        again = await source.markets()
    assert again is markets
    assert {(m.asset_in, m.asset_out, m.ref, m.rate_type) for m in markets} == {
        ("BTC@BTC", "USDT@TRC20", "btc_usdt", "float"),  # usdt pays out on trc20 only
        ("USDT@TRC20", "BTC@BTC", "usdt_btc", "float"),  # usdt pays in on trc20 and erc20
        ("USDT@ERC20", "BTC@BTC", "usdt_btc", "float"),
    }
    assert fly.methods() == ["payways"]  # one call, cached


async def test_indicative_costs_nothing_after_the_model(fly: FakeFlyPay,
                                                        session: aiohttp.ClientSession) -> None:
    async with Opened(fly, session, clock=lambda: 1000.0) as source:
        sell = await source.indicative(BTC_USDT, D("0.1"), "sell")
        buy = await source.indicative(BTC_USDT, D("500"), "buy")
        with pytest.raises(AmountOutOfRange) as low:
            await source.indicative(BTC_USDT, D("0.0001"), "sell")
        with pytest.raises(AmountOutOfRange) as high:
            await source.indicative(BTC_USDT, D("6"), "sell")
    assert fly.methods() == ["payways"]
    assert sell is not None and buy is not None
    assert sell.kind == "indicative" and sell.amount_out == D("5969.00")  # 6000 - 30 - 1
    assert sell.observed_at == 1000.0 and sell.limit_min == D("0.001")
    assert buy.amount_out >= D("500") and buy.amount_in == D("0.00839196")
    assert (low.value.limit, low.value.asset, low.value.below_min) == (D("0.001"), "BTC@BTC", True)
    assert (high.value.limit, high.value.below_min) == (D("5"), False)


async def test_firm_sell(fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:
    async with Opened(fly, session, clock=lambda: 1000.0) as source:
        quote = await source.firm(BTC_USDT, D("0.1"), "sell")
    assert fly.methods() == ["payways", "exchange/estimated_amount"]
    assert quote.kind == "firm" and quote.rate_type == "float"
    assert quote.amount_in == D("0.1") and quote.amount_out == D("5968.40")  # 0.01 % spread
    assert (quote.observed_at, quote.expires_at) == (1000.0, 1030.0)
    assert quote.fees == (Fee("provider", D("30.00"), "USDT@TRC20"),
                          Fee("provider", D("1"), "USDT@TRC20"),
                          Fee("spread", D("0.60"), "USDT@TRC20"))
    assert (quote.limit_min, quote.limit_max) == (D("0.001"), D("5"))


async def test_firm_buy_confirms_and_learns_the_spread(fly: FakeFlyPay,
                                                       session: aiohttp.ClientSession) -> None:
    async with Opened(fly, session) as source:
        first = await source.firm(BTC_USDT, D("100000"), "buy")
        calls = fly.methods().count("exchange/estimated_amount")
        second = await source.firm(BTC_USDT, D("100000"), "buy")
    assert 2 <= calls <= 3  # the model alone misses the size-dependent spread
    assert fly.methods().count("exchange/estimated_amount") - calls == 1  # spread learnt
    for quote in (first, second):
        assert quote.kind == "firm" and quote.amount_out >= D("100000")
        assert quote.amount_out < D("100000") * D("1.001")  # not much more than asked
        assert quote.amount_in > D("100000") / RATE


async def test_identical_asks_share_one_call(fly: FakeFlyPay,
                                             session: aiohttp.ClientSession) -> None:
    bsc = Market("flypay", "BTC@BTC", "USDT@BSC", "float", "btc_usdt")  # same exchange, other payout
    async with Opened(fly, session) as source:
        a, b = await asyncio.gather(source.firm(BTC_USDT, D("0.1"), "sell"),
                                    source.firm(bsc, D("0.1"), "sell"))
        c = await source.firm(BTC_USDT, D("0.10"), "sell")  # within estimate_ttl
        assert fly.methods().count("exchange/estimated_amount") == 1
        await source.firm(BTC_USDT, D("0.2"), "sell")
    assert fly.methods().count("exchange/estimated_amount") == 2
    assert a.amount_out == b.amount_out == c.amount_out
    assert (a.asset_out, b.asset_out) == ("USDT@TRC20", "USDT@BSC")


async def test_failed_asks_are_not_kept(fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:
    fly.script["exchange/estimated_amount"] = Canned(error(), status=500)
    async with Opened(fly, session) as source:
        for _ in range(2):
            with pytest.raises(ProviderError):
                await source.firm(BTC_USDT, D("0.1"), "sell")
        fly.script["exchange/estimated_amount"] = firm_estimate
        assert (await source.firm(BTC_USDT, D("0.1"), "sell")).amount_out > 0
    assert fly.methods().count("exchange/estimated_amount") == 3


async def test_firm_checks_limits_before_spending(fly: FakeFlyPay,
                                                  session: aiohttp.ClientSession) -> None:
    async with Opened(fly, session) as source:
        with pytest.raises(AmountOutOfRange) as low:
            await source.firm(BTC_USDT, D("0.0001"), "sell")
        with pytest.raises(AmountOutOfRange) as high:
            await source.firm(BTC_USDT, D("1000000"), "buy")
        with pytest.raises(AmountOutOfRange):
            await source.firm(BTC_USDT, D("0.000000001"), "sell")  # rounds to zero
    assert fly.methods() == ["payways"]
    assert low.value.limit == D("0.001") and high.value.limit == D("5")
    assert high.value.asset == "BTC@BTC" and not high.value.below_min


async def test_unknown_market_is_unsupported(fly: FakeFlyPay,
                                             session: aiohttp.ClientSession) -> None:
    async with Opened(fly, session) as source:
        with pytest.raises(UnsupportedPair):
            await source.firm(Market("flypay", "ETH@ERC20", "BTC@BTC", "float", "eth_btc"), D(1), "sell")
        assert await source.indicative(Market("flypay", "ETH@ERC20", "BTC@BTC", "float", "eth_btc"),
                                       D(1), "sell") is None
    assert fly.methods() == ["payways"]


async def test_provider_refusal_passes_through(fly: FakeFlyPay,
                                               session: aiohttp.ClientSession) -> None:
    fly.script["exchange/estimated_amount"] = Canned(error("Pair disabled"), status=400)
    async with Opened(fly, session) as source:
        with pytest.raises(Rejected):
            await source.firm(BTC_USDT, D("0.1"), "sell")


async def test_bad_payways_signature_is_never_used(fly: FakeFlyPay,
                                                   session: aiohttp.ClientSession) -> None:
    fly.script["payways"] = Canned(ok(PAYWAYS), signing="bad")
    async with Opened(fly, session) as source:
        with pytest.raises(SignatureInvalid):
            await source.markets()
        assert await source.indicative(BTC_USDT, D("0.1"), "sell") is None
        with pytest.raises(SignatureInvalid):  # remembered: FlyPay is not asked again yet
            await source.firm(BTC_USDT, D("0.1"), "sell")
    assert fly.methods() == ["payways"]


async def test_lifecycle(fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:
    opened = Opened(fly, session)
    source = await opened.__aenter__()
    await opened.__aexit__()
    await source.aclose()  # idempotent
    for call in (source.markets(), source.indicative(BTC_USDT, D(1), "sell"),
                 source.firm(BTC_USDT, D(1), "sell"),
                 source.open(SourceContext(session, BudgetRegistry()))):
        with pytest.raises(RuntimeError):
            await call


# -- the cache ----------------------------------------------------------------------------------


@pytest.fixture
def client(fly: FakeFlyPay, session: aiohttp.ClientSession) -> FlyPayClient:
    return FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                        budget=RecordingBudget(), base_url=fly.base_url)  # type: ignore[arg-type]


async def test_cache_single_flight_and_once_a_minute(fly: FakeFlyPay,
                                                     client: FlyPayClient) -> None:
    clock = FakeClock(0.0)
    cache = PaywaysCache(client.payways, clock=clock)
    models = await asyncio.gather(*(cache.get() for _ in range(10)))
    assert fly.methods() == ["payways"] and all(m is models[0] for m in models)
    clock.now = 59.0
    assert await cache.get() is models[0]
    assert fly.methods() == ["payways"]
    clock.now = 61.0  # due: served at once, refreshed in the background
    assert await cache.get() is models[0]
    await cache.refresh()  # joins the background fetch
    assert fly.methods() == ["payways"] * 2
    assert await cache.get() is not models[0]
    await cache.aclose()


async def test_cache_keeps_verified_data_when_a_refresh_fails_verification(
        fly: FakeFlyPay, client: FlyPayClient) -> None:
    clock = FakeClock(0.0)
    cache = PaywaysCache(client.payways, clock=clock)
    good = await cache.get()
    tampered = {**PAYWAYS, "exchange": {"btc_usdt": {**PAYWAYS["exchange"]["btc_usdt"],
                                                     "exchange_rate": "99999999"}}}
    fly.script["payways"] = Canned(ok(tampered), signing="bad")
    clock.now = 61.0
    await cache.get()
    await cache.refresh()  # joins the background fetch
    assert len(fly.requests) == 2
    model = await cache.get()
    assert model is good and model.pairs["btc_usdt"].rate == RATE  # never the tampered rate
    clock.now = 1000.0  # older than max_age: the error, not stale data
    with pytest.raises(SignatureInvalid):
        await cache.get()
    await cache.aclose()


async def test_cache_remembers_a_failure_for_the_retry_interval(
        fly: FakeFlyPay, client: FlyPayClient) -> None:
    clock = FakeClock(0.0)
    fly.script["payways"] = Canned(error(), status=401)
    cache = PaywaysCache(client.payways, clock=clock, retry_interval=30.0)
    for _ in range(3):
        with pytest.raises(AuthError):
            await cache.get()
    assert len(fly.requests) == 1
    fly.script["payways"] = Canned(ok(PAYWAYS))
    clock.now = 31.0
    assert "btc_usdt" in (await cache.get()).pairs
    assert len(fly.requests) == 2
    await cache.aclose()
    with pytest.raises(RuntimeError):
        await cache.get()


async def test_cache_error_propagates_to_all_waiters(fly: FakeFlyPay,
                                                     client: FlyPayClient) -> None:
    fly.script["payways"] = Canned(ok(PAYWAYS), signing="none")
    cache = PaywaysCache(client.payways)
    results = await asyncio.gather(*(cache.get() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, SignatureInvalid) for r in results)
    assert all(isinstance(r, ProviderError) for r in results) and len(fly.requests) == 1
    await cache.aclose()
