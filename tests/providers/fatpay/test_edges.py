"""FaTPaySource.edges(): one edge per market, the lists' limits, a stable identity, indicative()
through the edge, and prices learnt from ``price`` answers (scripted server and emulator)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.fatpay import FaTPaySource
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ProviderError,
    ProviderUnavailable,
    UnsupportedPair,
)
from router.model import Market, Side
from router.snapshot.edges import Edge, check_limits, edge_quote, price_backward
from router.sources.protocol import SourceContext
from tests.providers.fatpay.canned import (
    CURRENCIES,
    PARTNER,
    TOKENS,
    Canned,
    FakeFaTPay,
    key_pem,
    ok,
)
from tests.providers.fatpay.test_source import BTC, USDT, Model
from tests.support.ids import concrete
from tests.support.vclock import FakeClock

EUR_BTC = Market("fatpay", "EUR", "BTC@BTC", "float", "EUR/BTC")
#: The scripted lists' figures, read off CURRENCIES/TOKENS by hand.
LIMITS = {"USD": (Decimal(20), Decimal(20000)), "EUR": (Decimal(25), Decimal(4000))}
COIN_QUANTUM = {"USDT@ERC20": Decimal("1e-6"), "BTC@BTC": Decimal("1e-8"), "BNB@BSC": Decimal("1e-8")}


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
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
async def source(fp: FakeFaTPay, clock: FakeClock) -> AsyncIterator[FaTPaySource]:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url, clock=clock)
        await src.open(SourceContext(session, registry))
        yield src
        await src.aclose()
        await registry.aclose()


def _edge(edges: Any, market: Market) -> Edge:
    return next(e for e in edges if e.market == market)


async def test_edges_are_exactly_the_markets(source: FaTPaySource) -> None:
    edges = await source.edges()
    markets = await source.markets()
    assert len(edges) == len(markets) == 6
    assert all(e.market is m for e, m in zip(edges, markets, strict=True))


async def test_list_edges_carry_the_lists_figures(fp: FakeFaTPay, clock: FakeClock,
                                                  source: FaTPaySource) -> None:
    fetched = clock.now
    await source.markets()
    clock.now += 5
    for e in await source.edges():
        assert e.rate is None and not e.estimated and e.provider == "fatpay"
        assert (e.margin, e.fee_in, e.fee_out, e.max_out) == (0, 0, 0, None)
        assert (e.min_in, e.max_in) == LIMITS[e.market.asset_in]  # the widest option
        assert e.quantum_in == Decimal("0.01") and e.quantum_out == COIN_QUANTUM[e.market.asset_out]
        assert e.observed_at == fetched  # when the lists were fetched, not when edges() ran
    assert fp.calls("price") == []


async def test_payment_option_narrows_the_edge(fp: FakeFaTPay) -> None:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url, payment="bank")
        await src.open(SourceContext(session, registry))
        edge = _edge(await src.edges(), BTC)
        assert (edge.min_in, edge.max_in) == (Decimal(50), Decimal(20000))
        await src.aclose()
        await registry.aclose()


async def test_odd_lists_precision_and_open_limits(fp: FakeFaTPay, source: FaTPaySource) -> None:
    fp.script["token"] = Canned(ok([{"cryptoCurrencyCode": "TRX_TRC20"}]))  # no precision
    fp.script["currency"] = Canned(ok([{"fiatCurrency": "JPY", "precision": 0, "paymentOptions": [
        {"name": "card", "minAmount": 3000}, {"name": "bank", "minAmount": 5000,
                                              "maxAmount": 900000}]}]))
    (edge,) = await source.edges()
    assert (edge.market.asset_in, edge.market.asset_out) == ("JPY", "TRX@TRC20")
    assert (edge.min_in, edge.max_in) == (Decimal(3000), None)  # card leaves the maximum open
    assert edge.quantum_in == Decimal(1) and edge.quantum_out == Decimal("1e-8")


async def test_identity_is_stable_until_the_lists_refresh(fp: FakeFaTPay, clock: FakeClock,
                                                          source: FaTPaySource) -> None:
    first, again = await asyncio.gather(source.edges(), source.edges())
    assert first is again and await source.edges() is first
    await source.indicative(BTC, Decimal(100), "sell")
    clock.now += 599
    assert await source.edges() is first
    clock.now += 2  # past the 10 min list TTL: both lists are fetched again
    fresh = await source.edges()
    assert fresh is not first and len(fp.calls("currency")) == 2
    assert [e.market for e in fresh] == [e.market for e in first]
    assert all(e.market is m for e, m in zip(fresh, await source.markets(), strict=True))
    assert {e.observed_at for e in fresh} == {clock.now}
    assert await source.edges() is fresh


async def test_one_answer_alone_teaches_nothing_and_keeps_the_identity(
        source: FaTPaySource) -> None:
    edges = await source.edges()
    await source.firm(BTC, Decimal(1000), "sell")  # one answer: fee parts unknown
    assert await source.edges() is edges
    assert _edge(edges, BTC).rate is None


def _outcome(call: Any) -> tuple[str, object]:
    try:
        return ("ok", call())
    except AmountOutOfRange as exc:
        return ("out", (exc.below_min, exc.limit, exc.asset))


CASES: list[tuple[Market, str, Side]] = [
    (USDT, "19.99", "sell"), (USDT, "20", "sell"), (USDT, "1000", "sell"),
    (USDT, "20000", "sell"), (USDT, "20000.01", "sell"), (EUR_BTC, "24.99", "sell"),
    (EUR_BTC, "4000.01", "sell"), (BTC, "0.5", "buy"), (EUR_BTC, "1000000", "buy"),
]


@pytest.mark.parametrize(("market", "amount", "side"), CASES)
async def test_indicative_is_the_edge_limit_check(fp: FakeFaTPay, source: FaTPaySource,
                                                  market: Market, amount: str,
                                                  side: Side) -> None:
    edge = _edge(await source.edges(), market)
    value = Decimal(amount)
    by_edge = _outcome(lambda: check_limits(edge, value, side))
    try:
        got: tuple[str, object] = ("ok", await source.indicative(market, value, side))
    except AmountOutOfRange as exc:
        got = ("out", (exc.below_min, exc.limit, exc.asset))
    assert got == by_edge
    low, high = LIMITS[market.asset_in]
    if side == "sell" and value < low:
        assert got == ("out", (True, low, market.asset_in))  # FaTPay's own figure, fiat units
    elif side == "sell" and value > high:
        assert got == ("out", (False, high, market.asset_in))
    else:
        assert got == ("ok", None)
    assert fp.calls("price") == []


async def test_edges_raise_provider_errors(fp: FakeFaTPay, source: FaTPaySource) -> None:
    fp.script["currency"] = Canned(ok(None, code=10003))
    with pytest.raises(AuthError):
        await source.edges()
    assert await source.indicative(BTC, Decimal(1), "sell") is None  # nothing to check against


async def test_edges_unavailable(fp: FakeFaTPay, source: FaTPaySource) -> None:
    fp.script["token"] = Canned("oops", status=503)
    with pytest.raises(ProviderUnavailable) as info:
        await source.edges()
    assert isinstance(info.value, ProviderError)


async def test_unlisted_market_is_unsupported(source: FaTPaySource) -> None:
    with pytest.raises(UnsupportedPair):
        await source.indicative(Market("fatpay", "USD", "ETH@ERC20", "float", "USD/ETH"), Decimal(100),
                                "sell")


# -- learnt prices ------------------------------------------------------------------------------
async def test_two_answers_price_the_edge(fp: FakeFaTPay, clock: FakeClock,
                                          source: FaTPaySource) -> None:
    model = Model()
    before = await source.edges()
    await source.firm(BTC, Decimal(1000), "sell")
    clock.now += 7
    answered = clock.now
    await source.firm(BTC, Decimal(2000), "sell")
    clock.now += 3
    edges = await source.edges()
    assert edges is not before and await source.edges() is edges
    edge = _edge(edges, BTC)
    assert edge.rate is not None and edge.observed_at == answered and not edge.estimated
    assert edge.margin == model.pct  # the platform fee's percent part, solved from the two
    assert edge.fee_in == Decimal("2.03")  # its fixed part 1.99 / (1 - 0.015), up to the cent
    unit = model.unit * (1 + model.slope * 2000)  # the newest answer's effective unit price
    assert abs(edge.fee_out * unit - model.gas) < Decimal("0.001")  # the gas fee, in coin
    assert (edge.min_in, edge.max_in) == LIMITS["USD"] and edge.quantum_out == Decimal("1e-8")
    assert all(e.rate is None for e in edges if e.market != BTC)
    assert await source.indicative(BTC, Decimal(500), "sell") is None  # still limits only
    for amount in ("20", "100", "1000", "2000", "5000", "20000"):
        fiat = Decimal(amount)
        quote = edge_quote(edge, fiat, "sell")
        assert quote.amount_in == fiat and quote.kind == "indicative"
        # the model's unit price grows with the size; the edge took it at 2000 USD
        drift = model.slope * abs(fiat - 2000) * fiat + Decimal("0.03")  # fiat, + cent roundings
        assert abs(quote.amount_out - model.crypto(fiat)) * unit <= drift
    target = Decimal("0.02")
    need = price_backward(edge, target)
    assert abs(model.crypto(need) - target) * unit <= model.slope * abs(need - 2000) * need + 1


async def test_learnt_price_ages_out(clock: FakeClock, source: FaTPaySource) -> None:
    await source.firm(BTC, Decimal(1000), "sell")
    await source.firm(BTC, Decimal(3000), "sell")
    priced = await source.edges()
    assert _edge(priced, BTC).rate is not None
    clock.now += 299
    assert await source.edges() is priced
    clock.now += 2  # past the 5 min learnt TTL (the lists, 10 min, are still fresh)
    aged = await source.edges()
    assert aged is not priced and _edge(aged, BTC).rate is None
    assert await source.edges() is aged


async def test_buy_quotes_teach_the_edge(source: FaTPaySource) -> None:
    quote = await source.firm(BTC, Decimal("0.01"), "buy")  # a probe, then the confirming calls
    edge = _edge(await source.edges(), BTC)
    assert edge.rate is not None
    estimate = edge_quote(edge, quote.amount_in, "sell").amount_out
    assert abs(estimate - quote.amount_out) <= quote.amount_out * Decimal("0.002")


# -- against the emulator ---------------------------------------------------------------------
emulator = pytest.importorskip("bench.emulators.fatpay")


async def test_emulator_edges_carry_its_limits_and_precisions() -> None:
    from tests.providers.fatpay.test_on_sandbox import serve

    async with serve() as sb, sb.source() as src:
        edges, markets = await src.edges(), await src.markets()
        pricer = emulator.Pricer(sb.world, sb.world.profile("fatpay"))
        assert all(e.market is m for e, m in zip(edges, markets, strict=True))
        assert len(edges) == len(markets) == 60
        precision = {concrete(t.asset): Decimal(1).scaleb(-t.precision) for t in emulator.TOKENS}
        for e in edges:
            options = pricer.limits(e.market.asset_in)
            assert e.rate is None
            assert e.min_in == min(o.min for o in options)
            assert e.max_in == max(o.max for o in options)
            assert e.quantum_in == Decimal("0.01")
            assert e.quantum_out == precision[e.market.asset_out]
        stats = await sb.stats()
    assert stats["units"] == 2  # the two lists, nothing more


@pytest.mark.parametrize(("fiat", "asset", "learn"), [
    ("USD", "BTC", ("300", "3000")), ("EUR", "USDT@TRC20", ("200", "1500"))])
async def test_emulator_learnt_edge_is_close_to_firm(fiat: str, asset: str,
                                                     learn: tuple[str, str]) -> None:
    from tests.providers.fatpay.test_on_sandbox import serve

    async with serve() as sb, sb.source(budget_policy=BudgetPolicy(limit=60, margin=0.0)) as src:
        market = next(m for m in await src.markets()
                      if (m.asset_in, m.asset_out) == (fiat, concrete(asset)))
        for amount in learn:
            await src.firm(market, Decimal(amount), "sell")
        edge = _edge(await src.edges(), market)
        assert edge.rate is not None
        profile = sb.world.profile("fatpay")
        usd = sb.world.usd(fiat)
        latest = Decimal(learn[-1])
        assert edge.min_in is not None and edge.max_in is not None
        for amount in (edge.min_in * 2, Decimal(100), Decimal(1000), edge.max_in / 2):
            amount = amount.quantize(Decimal("0.01"))
            firm = await src.firm(market, amount, "sell")
            est = edge_quote(edge, amount, "sell")
            # the emulator's unit price moves with the ticket: spread_slope per depth_usd
            spread = profile.spread_slope * abs(amount - latest) * usd / profile.depth_usd
            net = amount - sum((f.amount for f in firm.fees), Decimal(0))
            tolerance = spread + Decimal("0.03") / net + Decimal("1e-6")
            assert abs(est.amount_out - firm.amount_out) <= firm.amount_out * tolerance
        stats = await sb.stats()
    assert stats["errors"] == 0
