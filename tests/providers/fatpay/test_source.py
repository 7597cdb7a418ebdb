"""FaTPaySource on a scripted server: markets, list limits, firm sell and buy quotes, checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.fatpay import FaTPaySource, Observation, plan_fiat
from router.budgets import BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    ConfigError,
    MalformedResponse,
    UnsupportedPair,
)
from router.model import Market
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext
from tests.providers.fatpay.canned import (
    CURRENCIES,
    PARTNER,
    TOKENS,
    Canned,
    FakeFaTPay,
    key_pem,
    ok,
)

BTC = Market("fatpay", "USD", "BTC@BTC", "float", "USD/BTC")
USDT = Market("fatpay", "USD", "USDT@ERC20", "float", "USD/USDT_ERC20")


class Model:
    """A linear on-ramp: gas + platform (percent + fixed), a unit price growing with size."""

    def __init__(self, unit: str = "30000", gas: str = "2.50", pct: str = "0.015",
                 fixed: str = "1.99", slope: str = "0.000001", places: int = 8) -> None:
        self.unit, self.gas = Decimal(unit), Decimal(gas)
        self.pct, self.fixed, self.slope = Decimal(pct), Decimal(fixed), Decimal(slope)
        self.places = places

    def fee(self, amount: Decimal) -> Decimal:
        return (amount * self.pct + self.fixed).quantize(Decimal("0.01"))

    def crypto(self, amount: Decimal) -> Decimal:
        unit = self.unit * (1 + self.slope * amount)
        net = (amount - self.gas - self.fee(amount)) / unit
        return net.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_DOWN)

    def answer(self, request: web.Request) -> Canned:
        amount = Decimal(request.query["currencyAmount"])
        fee = self.fee(amount)
        return Canned(ok({
            "fiatCurrency": request.query["fiatCurrency"], "currencyAmount": float(amount),
            "cryptoCurrencyCode": request.query["cryptoCurrencyCode"],
            "cryptoCurrencyAmount": str(self.crypto(amount)),
            "cryptoCurrencyUnitPrice": str(self.unit), "gasFee": str(self.gas),
            "platformFee": str(fee), "totalFee": str(fee + self.gas),
            "paymentOptions": [{"name": "card", "minAmount": 20, "maxAmount": 5000},
                               {"name": "bank", "minAmount": 50, "maxAmount": 20000}]}))


@pytest.fixture
async def fp() -> AsyncIterator[FakeFaTPay]:
    fake = FakeFaTPay()
    fake.script["token"] = Canned(ok(TOKENS))
    fake.script["currency"] = Canned(ok(CURRENCIES))
    fake.script["price"] = Model().answer
    await fake.server.start_server()
    yield fake
    await fake.server.close()


@pytest.fixture
async def source(fp: FakeFaTPay) -> AsyncIterator[FaTPaySource]:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = FaTPaySource(PARTNER, Secret(key_pem()), base_url=fp.base_url)
        await src.open(SourceContext(session, registry))
        yield src
        await src.aclose()
        await registry.aclose()


async def test_is_a_quote_source(source: FaTPaySource) -> None:
    assert isinstance(source, QuoteSource) and source.name == "fatpay"


async def test_markets_fiat_times_tokens_cached(fp: FakeFaTPay, source: FaTPaySource) -> None:
    markets, again = await asyncio.gather(source.markets(), source.markets())
    await source.markets()
    got = {(m.asset_in, m.asset_out, m.rate_type, m.ref) for m in markets}
    assert got == {(f, a, "float", f"{f}/{c}") for f in ("USD", "EUR")
                   for c, a in (("USDT_ERC20", "USDT@ERC20"), ("BTC", "BTC@BTC"), ("BNB_BSC", "BNB@BSC"))}
    assert list(again) == list(markets)
    assert [r.call for r in fp.requests].count("token") == 1  # single flight, then cached
    assert [r.call for r in fp.requests].count("currency") == 1


async def test_lists_refresh_after_the_ttl(fp: FakeFaTPay) -> None:
    now = [1000.0]
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url, clock=lambda: now[0])
        await src.open(SourceContext(session, registry))
        await src.markets()
        now[0] += 599
        await src.markets()
        assert len(fp.calls("token")) == 1
        now[0] += 2
        await src.markets()
        assert len(fp.calls("token")) == 2 and len(fp.calls("currency")) == 2
        await src.aclose()
        await registry.aclose()


@pytest.mark.parametrize(("market", "amount", "below", "limit"), [
    (USDT, "19.99", True, Decimal(20)),  # the widest option: card's 20
    (USDT, "20000.01", False, Decimal(20000)),  # the widest option: bank's 20000
    (Market("fatpay", "EUR", "BTC@BTC", "float", "EUR/BTC"), "4000.5", False, Decimal(4000)),
])
async def test_indicative_checks_the_widest_option(
        fp: FakeFaTPay, source: FaTPaySource, market: Market, amount: str, below: bool,
        limit: Decimal) -> None:
    with pytest.raises(AmountOutOfRange) as info:
        await source.indicative(market, Decimal(amount), "sell")
    err = info.value
    assert err.below_min is below and err.limit == limit and err.asset == market.asset_in
    assert fp.calls("price") == []


async def test_indicative_in_range_and_buy_side_is_none(fp: FakeFaTPay,
                                                        source: FaTPaySource) -> None:
    assert await source.indicative(USDT, Decimal(20), "sell") is None
    assert await source.indicative(USDT, Decimal(20000), "sell") is None
    assert await source.indicative(USDT, Decimal(10**9), "buy") is None
    assert fp.calls("price") == []


async def test_payment_option_narrows_the_limits(fp: FakeFaTPay) -> None:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url, payment="card")
        await src.open(SourceContext(session, registry))
        with pytest.raises(AmountOutOfRange) as info:
            await src.indicative(USDT, Decimal(6000), "sell")
        assert info.value.limit == Decimal(5000)
        await src.firm(USDT, Decimal(100), "sell")
        assert fp.calls("price")[0].query["payment"] == "card"
        await src.aclose()
        await registry.aclose()


async def test_firm_sell(fp: FakeFaTPay, source: FaTPaySource) -> None:
    quote = await source.firm(BTC, Decimal("1000.129"), "sell")
    assert fp.calls("price")[0].query["currencyAmount"] == "1000.12"  # cut to the precision
    model = Model()
    assert quote.kind == "firm" and quote.rate_type == "float"
    assert (quote.asset_in, quote.asset_out) == ("USD", "BTC@BTC")
    assert quote.amount_in == Decimal("1000.12")
    assert quote.amount_out == model.crypto(Decimal("1000.12"))
    assert {(f.kind, f.amount, f.asset) for f in quote.fees} == {
        ("network", Decimal("2.50"), "USD"), ("provider", model.fee(Decimal("1000.12")), "USD")}
    assert (quote.limit_min, quote.limit_max) == (Decimal(20), Decimal(20000))
    assert quote.expires_at is not None and quote.observed_at is not None
    assert quote.expires_at > quote.observed_at
    assert fp.calls("price")[0].verified


async def test_firm_sell_outside_the_list_limits_spends_no_price_call(
        fp: FakeFaTPay, source: FaTPaySource) -> None:
    with pytest.raises(AmountOutOfRange) as info:
        await source.firm(BTC, Decimal(5), "sell")
    assert info.value.limit == Decimal(20) and info.value.asset == "USD"
    assert fp.calls("price") == []


@pytest.mark.parametrize(("amount", "calls"), [
    # a blind ~632 USD probe first; less fiat needed: the probe's whole fee is taken as percent
    # (optimistic), short by the fixed part, so a third call (now knowing both parts) tops up
    ("0.01", 3),
    # more fiat needed: the all-percent assumption is generous, the second call suffices
    ("0.05", 2),
    # ~9,250 USD: generous fee assumption, but the size-dependent price rises 0.9 % on the way
    ("0.3", 3),
])
async def test_firm_buy_gets_at_least_the_target(
        fp: FakeFaTPay, source: FaTPaySource, amount: str, calls: int) -> None:
    target = Decimal(amount)
    quote = await source.firm(BTC, target, "buy")
    assert quote.amount_out >= target and quote.kind == "firm"
    assert len(fp.calls("price")) == calls
    assert quote.amount_in == Decimal(fp.calls("price")[-1].query["currencyAmount"])
    assert quote.amount_out <= target * Decimal("1.005")  # never far above the target


async def test_firm_buy_learns_the_fee_model(fp: FakeFaTPay, source: FaTPaySource) -> None:
    await source.firm(BTC, Decimal("0.01"), "buy")
    before = len(fp.calls("price"))
    for amount in ("0.02", "0.1", "0.004"):
        target = Decimal(amount)
        quote = await source.firm(BTC, target, "buy")
        assert target <= quote.amount_out <= target * Decimal("1.003")
    assert len(fp.calls("price")) - before <= 6


async def test_firm_buy_limits_carry_the_fiat_figure(fp: FakeFaTPay,
                                                     source: FaTPaySource) -> None:
    with pytest.raises(AmountOutOfRange) as info:
        await source.firm(BTC, Decimal(1), "buy")  # ~30,500 USD: above bank's 20000
    assert info.value.below_min is False and info.value.limit == Decimal(20000)
    assert info.value.asset == "USD"
    with pytest.raises(AmountOutOfRange) as info:
        await source.firm(BTC, Decimal("0.0001"), "buy")  # ~3 USD: below card's 20
    assert info.value.below_min is True and info.value.limit == Decimal(20)
    assert info.value.asset == "USD"


async def test_firm_buy_recovers_when_the_price_moves(fp: FakeFaTPay,
                                                      source: FaTPaySource) -> None:
    models = iter([Model(), Model(unit="30300"), Model(unit="30300")])  # +1 % after the probe
    fp.script["price"] = lambda request: next(models).answer(request)
    target = Decimal("0.05")
    quote = await source.firm(BTC, target, "buy")
    assert quote.amount_out >= target and len(fp.calls("price")) == 3


async def test_firm_buy_falls_back_to_the_sufficient_answer_in_hand(
        fp: FakeFaTPay, source: FaTPaySource) -> None:
    models = iter([Model(), Model(unit="33000"), Model(unit="36000")])  # the price runs away
    fp.script["price"] = lambda request: next(models).answer(request)
    target = Decimal("0.01")
    quote = await source.firm(BTC, target, "buy")
    first = fp.calls("price")[0].query["currencyAmount"]
    assert len(fp.calls("price")) == 3
    assert quote.amount_in == Decimal(first) and quote.amount_out >= target


@pytest.mark.parametrize(("need", "calls"), [("20.50", 3), ("20", 2)])
async def test_firm_buy_just_above_or_at_the_minimum(fp: FakeFaTPay, source: FaTPaySource,
                                                     need: str, calls: int) -> None:
    target = Model().crypto(Decimal(need))  # what ``need`` USD buys; the minimum is 20 USD
    quote = await source.firm(BTC, target, "buy")
    assert quote.amount_out >= target
    assert Decimal(need) <= quote.amount_in <= Decimal(need) + Decimal("0.1")
    assert len(fp.calls("price")) == calls


async def test_firm_buy_below_the_minimum_with_a_known_fee_model(
        fp: FakeFaTPay, source: FaTPaySource) -> None:
    await source.firm(BTC, Decimal("0.01"), "buy")  # learns the fees
    before = len(fp.calls("price"))
    with pytest.raises(AmountOutOfRange) as info:
        await source.firm(BTC, Model().crypto(Decimal(15)), "buy")
    assert info.value.below_min and info.value.limit == Decimal(20)
    assert len(fp.calls("price")) - before == 1  # the plan is exact: no look at the minimum


def _answer(**changes: Any) -> dict[str, Any]:
    base = {"fiatCurrency": "USD", "currencyAmount": 100, "cryptoCurrencyCode": "BTC",
            "cryptoCurrencyAmount": "0.0031", "cryptoCurrencyUnitPrice": 30000, "gasFee": 2.5,
            "platformFee": 3.49, "totalFee": 5.99}
    return {**base, **changes}


@pytest.mark.parametrize("changes", [
    {"currencyAmount": 101},  # not what we asked
    {"cryptoCurrencyAmount": 0},
    {"cryptoCurrencyAmount": "-0.1"},
    {"cryptoCurrencyAmount": "NaN"},
    {"gasFee": "-1"},
    {"platformFee": "Infinity"},
    {"gasFee": 60, "platformFee": 45, "totalFee": 105},  # fees eat everything
    {"totalFee": 50},  # not gas + platform
    {"cryptoCurrencyAmount": "0.5"},  # worth 15,000 for 100 paid
    {"cryptoCurrencyCode": "ETH"},
    {"fiatCurrency": "EUR"},
])
async def test_impossible_answers_are_malformed(fp: FakeFaTPay, source: FaTPaySource,
                                                changes: dict[str, Any]) -> None:
    fp.script["price"] = Canned(ok(_answer(**changes)))
    with pytest.raises(MalformedResponse):
        await source.firm(BTC, Decimal(100), "sell")


async def test_answer_whose_own_options_exclude_the_amount(fp: FakeFaTPay,
                                                           source: FaTPaySource) -> None:
    fp.script["price"] = Canned(ok(_answer(paymentOptions={"name": "card", "minAmount": 150,
                                                           "maxAmount": 5000})))
    with pytest.raises(AmountOutOfRange) as info:
        await source.firm(BTC, Decimal(100), "sell")
    assert info.value.limit == Decimal(150) and info.value.below_min


async def test_answer_without_optional_fields(fp: FakeFaTPay, source: FaTPaySource) -> None:
    answer = _answer()
    del answer["cryptoCurrencyUnitPrice"], answer["totalFee"]
    fp.script["price"] = Canned(ok(answer))
    quote = await source.firm(BTC, Decimal(100), "sell")
    assert quote.amount_out == Decimal("0.0031")
    assert (quote.limit_min, quote.limit_max) == (Decimal(20), Decimal(20000))  # from the list


async def test_unknown_fiat_or_foreign_market(source: FaTPaySource) -> None:
    with pytest.raises(UnsupportedPair):
        await source.firm(Market("fatpay", "JPY", "BTC@BTC", "float", "JPY/BTC"), Decimal(1), "sell")
    with pytest.raises(UnsupportedPair):
        await source.firm(Market("other", "USD", "BTC@BTC", "float", "USD/BTC"), Decimal(1), "sell")


async def test_budget_units_are_spent_per_call(fp: FakeFaTPay) -> None:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url)
        await src.open(SourceContext(session, registry))
        await src.markets()
        await src.firm(BTC, Decimal(100), "sell")
        budget = registry.get("fatpay", Secret(PARTNER).fingerprint, src._policy)  # noqa: SLF001
        usage = await budget.usage()
        assert usage.used == 3 and usage.cap == 54  # 60 less the 10 % margin
        await src.aclose()
        await registry.aclose()


@pytest.mark.parametrize(("args", "field"), [
    (("", "pem"), "fatpay.partner_id"),
    ((PARTNER, ""), "fatpay.private_key_pem"),
    ((PARTNER, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
     "fatpay.private_key_pem"),
])
def test_config_errors_name_the_field(args: tuple[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        FaTPaySource(*args)
    assert info.value.field == field and "AAAA" not in str(info.value)


async def test_lifecycle(fp: FakeFaTPay) -> None:
    src = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url)
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
            await src.firm(BTC, Decimal(100), "sell")
        await registry.aclose()
    assert fp.requests == []


# -- the buy planner, pure --------------------------------------------------------------------
def _observe(amount: Decimal, unit: Decimal, gas: Decimal, pct: Decimal,
             fixed: Decimal) -> Observation:
    platform = amount * pct + fixed
    return Observation(amount, (amount - gas - platform) / unit, gas, platform)


_money = st.decimals(min_value=Decimal("0"), max_value=Decimal("10"), places=2)


@settings(max_examples=200, deadline=None)
@given(unit=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
       gas=_money, fixed=_money,
       pct=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.08"), places=4),
       probe=st.decimals(min_value=Decimal("100"), max_value=Decimal("20000"), places=2),
       need=st.decimals(min_value=Decimal("30"), max_value=Decimal("20000"), places=2))
def test_plan_for_any_linear_fee(unit: Decimal, gas: Decimal, fixed: Decimal, pct: Decimal,
                                 probe: Decimal, need: Decimal) -> None:
    target = (need - gas - need * pct - fixed) / unit  # what ``need`` fiat buys exactly
    if target <= 0:
        return
    first = _observe(probe, unit, gas, pct, fixed)
    one = plan_fiat(target, first, guard=Decimal(0))
    if need >= probe:  # one answer only: generous when more fiat is needed
        assert _observe(one, unit, gas, pct, fixed).crypto >= target * Decimal("0.999999999")
    # two answers far enough apart: the fee model is solved, the plan lands just above
    near = _observe(need * Decimal("1.1"), unit, gas, pct, fixed)
    two = plan_fiat(target, near, [first], guard=Decimal("0.0005"))
    got = _observe(two, unit, gas, pct, fixed).crypto
    if abs(probe - need * Decimal("1.1")) > need * Decimal("0.0111"):
        assert target <= got <= target * Decimal("1.0006")
