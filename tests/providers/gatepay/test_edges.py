"""GatePaySource.edges(): unpriced edges from the pair lists, and indicative() through them."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from adapters.gatepay import GatePaySource
from adapters.gatepay.edges import check_edge, pair_edge, quantum
from adapters.gatepay.feeds import PairLimits
from router.assets import Asset
from router.budgets import BudgetRegistry
from router.errors import AmountOutOfRange, AuthError, ProviderUnavailable
from router.model import Market, Side
from router.snapshot.edges import check_limits
from router.sources.protocol import SourceContext
from tests.providers.gatepay.canned import (
    CLIENT_ID,
    PREFIX,
    SECRET,
    Canned,
    FakeGatePay,
    fail,
    ok,
)
from tests.providers.gatepay.test_on_sandbox import Env, env  # noqa: F401  (fixture)
from tests.providers.gatepay.test_source import NOW, pair_answer, source  # noqa: F401  (fixture)
from tests.providers.gatepay.test_source import market as mk

# ---- canned lists (tests.providers.gatepay.test_source.PAIRS) ------------------------------------------


async def test_edges_are_the_markets(source: GatePaySource) -> None:  # noqa: F811
    markets = await source.markets()
    edges = await source.edges()
    assert len(edges) == len(markets) == 3
    assert [e.market for e in edges] == list(markets)
    assert all(e.market is m for e, m in zip(edges, markets, strict=True))  # the same objects
    for e in edges:
        assert e.rate is None and not e.estimated and e.provider == "gatepay"
        assert e.margin == 0 and e.fee_in == 0 and e.fee_out == 0
        assert e.observed_at == NOW


@pytest.mark.parametrize(("sell", "buy", "min_in", "max_in", "max_out", "q_in", "q_out"), [
    ("BTC", "USDT", "0.0008", "31", "1980000", "1e-8", "1e-6"),
    ("USDT", "BTC", "50", "2000000", "30", "1e-6", "1e-8"),
    ("USDT", "GT", "50", "5000", "220", "1e-6", "1e-8"),
])
async def test_edge_limits_are_gatepays_figures(
        source: GatePaySource, sell: str, buy: str, min_in: str, max_in: str,  # noqa: F811
        max_out: str, q_in: str, q_out: str) -> None:
    edge = {(e.market.asset_in, e.market.asset_out): e for e in await source.edges()}[
        (Asset.of(sell).id, Asset.of(buy).id)]
    assert edge.min_in == Decimal(min_in) and edge.max_in == Decimal(max_in)
    assert edge.max_out == Decimal(max_out)
    assert edge.quantum_in == Decimal(q_in) and edge.quantum_out == Decimal(q_out)


async def test_identity_stable_until_the_lists_are_read_again(
        gp: FakeGatePay, session: aiohttp.ClientSession) -> None:  # noqa: F811
    gp.script[PREFIX + "/currency"] = [Canned(ok({"currency": ["BTC", "USDT"]})),
                                       Canned(ok({"currency": ["BTC", "USDT"]})),
                                       Canned(fail("300000"), status=500)]
    gp.script[PREFIX + "/pair"] = pair_answer
    now = [NOW]
    registry = BudgetRegistry()
    src = GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url, clock=lambda: now[0],
                        lists_ttl=600)
    await src.open(SourceContext(session, registry))
    try:
        first = await src.edges()
        reads = len(gp.requests)
        assert await src.edges() is first and len(gp.requests) == reads  # no more budget
        await src.markets()
        assert await src.edges() is first
        now[0] += 601  # the lists are due: read again
        second = await src.edges()
        assert second is not first and len(gp.requests) > reads
        assert [e.observed_at for e in second] == [NOW + 601] * len(second)
        assert [e.market for e in second] == [e.market for e in first]
        assert all(e.market is m for e, m in zip(second, await src.markets(), strict=True))
        assert await src.edges() is second
        now[0] += 601  # this read fails: the stale lists (and their edges) are kept
        assert await src.edges() is second
        with pytest.raises(ProviderUnavailable):
            await src.client.currencies()
    finally:
        await src.aclose()
        await registry.aclose()


async def test_edges_raise_like_markets(
        gp: FakeGatePay, session: aiohttp.ClientSession) -> None:  # noqa: F811
    gp.script[PREFIX + "/currency"] = Canned(fail("400002", "INVALID_SIGNATURE", "bad"))
    registry = BudgetRegistry()
    src = GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url)
    await src.open(SourceContext(session, registry))
    try:
        with pytest.raises(AuthError):
            await src.edges()
        with pytest.raises(AuthError):
            await src.markets()
    finally:
        await src.aclose()
        await registry.aclose()
    with pytest.raises(RuntimeError):
        await src.edges()


CASES: list[tuple[tuple[str, str], str, Side]] = [
    (("BTC", "USDT"), "0.0001", "sell"), (("BTC", "USDT"), "0.0008", "sell"),
    (("BTC", "USDT"), "0.5", "sell"), (("BTC", "USDT"), "31", "sell"),
    (("BTC", "USDT"), "31.00000001", "sell"), (("BTC", "USDT"), "1000", "buy"),
    (("BTC", "USDT"), "1980001", "buy"), (("USDT", "BTC"), "49.99", "sell"),
    (("USDT", "BTC"), "2", "buy"), (("USDT", "BTC"), "30.1", "buy"),
    (("USDT", "GT"), "6000", "sell"), (("USDT", "GT"), "221", "buy"), (("USDT", "GT"), "5", "buy"),
]


@pytest.mark.parametrize(("mkt", "amount", "side"), CASES)
async def test_indicative_goes_through_the_edge(
        source: GatePaySource, mkt: tuple[str, str], amount: str, side: Side,  # noqa: F811
) -> None:
    """Unpriced edge: indicative() refuses what the edge's limits refuse (same figure, kind and
    asset) and is ``None`` otherwise."""
    edge = {(e.market.asset_in, e.market.asset_out): e for e in await source.edges()}[
        (Asset.of(mkt[0]).id, Asset.of(mkt[1]).id)]
    try:
        check_limits(edge, Decimal(amount), side)
    except AmountOutOfRange as want:
        with pytest.raises(AmountOutOfRange) as got:
            await source.indicative(mk(*mkt), Decimal(amount), side)
        assert (got.value.limit, got.value.asset, got.value.below_min) == \
            (want.limit, want.asset, want.below_min)
    else:
        assert await source.indicative(mk(*mkt), Decimal(amount), side) is None


async def test_buy_minimum_is_still_checked(source: GatePaySource) -> None:  # noqa: F811
    """The edge cannot hold the buy-side minimum; indicative() keeps refusing below it."""
    edge = {(e.market.asset_in, e.market.asset_out): e for e in await source.edges()}[
        ("BTC@BTC", "USDT")]
    check_limits(edge, Decimal("10"), "buy")  # the edge alone lets it through
    with pytest.raises(AmountOutOfRange) as info:
        await source.indicative(mk("BTC", "USDT"), Decimal("10"), "buy")
    assert info.value.below_min and info.value.limit == Decimal("50")
    assert info.value.asset == "USDT"


def test_pair_edge_and_check_edge_are_pure() -> None:
    market = Market("gatepay", "BTC", "USDT", "fixed", "BTC/USDT")
    pair = PairLimits("BTC", "USDT", "BTC", "USDT", Decimal("0.001"), None, Decimal("20"), None)
    edge = pair_edge(market, pair, observed_at=5.0)
    assert (edge.min_in, edge.max_in, edge.max_out, edge.observed_at) == \
        (Decimal("0.001"), None, None, 5.0)
    assert quantum("BTC") == Decimal("1e-8") and quantum("USDT") == Decimal("1e-6")
    check_edge(edge, pair, Decimal("10") ** 9, "sell")  # no maximum stated: nothing refused
    with pytest.raises(AmountOutOfRange) as info:
        check_edge(edge, pair, Decimal("19.99"), "buy")
    assert info.value.limit == Decimal("20") and info.value.asset == "USDT"


# ---- against the emulator --------------------------------------------------------------------


async def test_emulator_edges_carry_the_listed_limits(env: Env) -> None:  # noqa: F811
    edges = await env.source.edges()
    markets = await env.source.markets()
    assert [e.market for e in edges] == list(markets)
    units = (await env.stats())["units"]
    assert await env.source.edges() is edges
    assert (await env.stats())["units"] == units  # edges cost nothing beyond the lists
    # the provider's own figures, asked directly (pair lists of a few currencies)
    by_ref = {e.market.ref: e for e in edges}
    checked = 0
    for currency in ("BTC", "USDT", "ETH"):
        for p in await env.source.client.pairs(currency):
            edge = by_ref.get(f"{p.sellCurrency}/{p.buyCurrency}")
            if edge is None:
                continue
            assert edge.rate is None
            assert edge.min_in == p.sellCurrencyMin and edge.max_in == (p.sellCurrencyMax or None)
            assert edge.max_out == (p.buyCurrencyMax or None)
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize(("src", "dst", "amount", "side"), [
    ("BTC", "USDT", "0.1", "sell"), ("USDT", "ETH", "0.5", "buy"), ("ETH", "USDC", "1", "sell"),
])
async def test_emulator_firm_quotes_fit_the_edge(env: Env, src: str, dst: str,  # noqa: F811
                                                 amount: str, side: Side) -> None:
    """No rate to compare: the firm quote lands inside the edge's limits and precisions."""
    market = await env.market(src, dst)
    edge = next(e for e in await env.source.edges() if e.market is market)
    assert await env.source.indicative(market, Decimal(amount), side) is None
    quote = await env.source.firm(market, Decimal(amount), side)
    assert quote.limit_min == edge.min_in and quote.limit_max == edge.max_in
    assert edge.min_in is not None and quote.amount_in >= edge.min_in
    assert edge.max_in is None or quote.amount_in <= edge.max_in
    assert edge.max_out is None or quote.amount_out <= edge.max_out
    assert quote.amount_in % edge.quantum_in == 0 and quote.amount_out % edge.quantum_out == 0
