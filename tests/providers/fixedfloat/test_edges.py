"""FixedFloatSource.edges(): the rates exports as linear edges, against the FixedFloat emulator.

The edges list exactly the markets, keep their identity while the data is unchanged, price as
``indicative()`` does (one pricing path), stay within the emulator's size-dependent spread of the
firm quote, and carry FixedFloat's own limits, reserves, fees and precisions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

import aiohttp
import pytest
from aiohttp import web

from adapters.fixedfloat import SERVICE_MARGIN, FeedItem, FixedFloatSource, parse_rates
from bench.emulators.fixedfloat import create_app
from bench.sandbox import Sandbox
from bench.world import World
from router.errors import AmountOutOfRange, ProviderError
from router.model import Market, Side
from router.snapshot.edges import Edge, edge_quote, price_forward
from tests.providers.harness import opened
from tests.support.ids import concrete

#: (asset_in, asset_out, rate_type) of markets whose export item carries ``tofee``.
PRICED = [
    ("BTC@BTC", "USDT@ERC20", "float"),
    ("BTC@BTC", "ETH@ARBITRUM", "fixed"),
    ("USDT@ERC20", "BTC@BTC", "fixed"),
    ("ETH", "BTC", "float"),
    ("LTC@LTC", "USDT@ERC20", "float"),
    ("XRP@XRP", "BTC@LN", "fixed"),
]


@dataclass
class Env:
    source: FixedFloatSource
    session: aiohttp.ClientSession
    base_url: str
    world: World
    credentials: tuple[str, str]

    async def export(self, rate_type: str) -> dict[tuple[str, str], FeedItem]:
        """The export as FixedFloat serves it, parsed independently of the source."""
        async with self.session.get(f"{self.base_url}/rates/{rate_type}.xml") as resp:
            items, _ = parse_rates(await resp.read())
        return items

    async def units(self) -> int:
        async with self.session.get(self.base_url + "/_sandbox/stats") as resp:
            return int((await resp.json())["units"])

    async def edge(self, asset_in: str, asset_out: str, rate_type: str) -> Edge:
        for e in await self.source.edges():
            m = e.market
            if (m.asset_in, m.asset_out, m.rate_type) == (concrete(asset_in), concrete(asset_out),
                                                         rate_type):
                return e
        raise AssertionError(f"no edge {asset_in}->{asset_out} {rate_type}")


def _source(session: aiohttp.ClientSession, base_url: str, key: str, secret: str,
            **options: float) -> AbstractAsyncContextManager[FixedFloatSource]:
    return opened(FixedFloatSource(key, secret, base_url=base_url, **options), session)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with Sandbox(seed=1, frozen=True) as sb, aiohttp.ClientSession() as session:
        block = sb.providers["fixedfloat"]
        async with _source(session, block["base_url"], block["api_key"],
                           block["api_secret"]) as source:
            yield Env(source, session, block["base_url"], sb.world,
                      (block["api_key"], block["api_secret"]))


def _ref(market: Market) -> tuple[str, str]:
    src, _, dst = market.ref.partition("/")
    return src, dst


def _down(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_DOWN)


async def test_edges_list_exactly_the_markets(env: Env) -> None:
    edges = await env.source.edges()
    markets = await env.source.markets()
    assert [e.market for e in edges] == list(markets)
    assert len(edges) > 100
    for e in edges:  # every market is in the exports here: all priced, none estimated
        assert e.rate is not None and e.rate > 0 and not e.estimated
        assert e.margin == SERVICE_MARGIN[e.market.rate_type] and e.fee_in == 0
        assert e.observed_at is not None and e.provider == "fixedfloat"


async def test_identity_is_stable_and_costs_nothing(env: Env) -> None:
    first = await env.source.edges()
    units = await env.units()
    assert units == 1  # the ccies call; the exports cost nothing
    second = await env.source.edges()
    await env.source.indicative(first[0].market, first[0].min_in or Decimal(1), "sell")
    assert second is first and await env.source.edges() is first
    assert await env.units() == units


async def test_limits_reserve_fee_and_precision_are_the_exports(env: Env) -> None:
    exports = {t: await env.export(t) for t in ("fixed", "float")}
    for e in await env.source.edges():
        item = exports[e.market.rate_type][_ref(e.market)]
        assert e.rate == item.out / item.in_
        assert (e.min_in, e.max_in, e.max_out) == (item.min, item.max, item.reserve)
        assert e.fee_out == (item.tofee if item.tofee is not None else 0)  # nothing learnt yet


async def test_quanta_are_fixedfloats_precisions(env: Env) -> None:
    for asset_in, asset_out, rate_type in PRICED:
        edge = await env.edge(asset_in, asset_out, rate_type)
        assert edge.min_in is not None
        data = await env.source.client.price(rate_type, *_ref(edge.market), "from",  # type: ignore[arg-type]
                                             edge.min_in * 2)
        assert data.from_.precision is not None and data.to.precision is not None
        assert edge.quantum_in == Decimal(1).scaleb(-data.from_.precision)
        assert edge.quantum_out == Decimal(1).scaleb(-data.to.precision)
    assert {(await env.edge(a, b, t)).quantum_out for a, b, t in PRICED} == {
        Decimal("1e-8"), Decimal("1e-6")}  # BTC and ETH vs USDT


async def test_limits_equal_the_firm_answers(env: Env) -> None:
    for asset_in, asset_out, rate_type in PRICED[:3]:
        edge = await env.edge(asset_in, asset_out, rate_type)
        assert edge.min_in is not None and edge.max_in is not None
        firm = await env.source.firm(edge.market, _down(edge.min_in * 4, edge.quantum_in), "sell")
        assert (edge.min_in, edge.max_in) == (firm.limit_min, firm.limit_max)
        with pytest.raises(AmountOutOfRange) as below:
            edge_quote(edge, edge.min_in / 2, "sell")
        with pytest.raises(AmountOutOfRange) as indicative:
            await env.source.indicative(edge.market, edge.min_in / 2, "sell")
        assert below.value.limit == indicative.value.limit == firm.limit_min
        assert below.value.asset == indicative.value.asset == asset_in
        with pytest.raises(AmountOutOfRange) as above:
            await env.source.indicative(edge.market, edge.max_in * 2, "sell")
        assert above.value.limit == firm.limit_max and not above.value.below_min


def _amounts(edge: Edge) -> list[Decimal]:
    """Sell amounts from just above the minimum to just below the maximum."""
    assert edge.min_in is not None and edge.max_in is not None
    lo, hi = edge.min_in, edge.max_in
    picks = [lo * Decimal("1.5"), (lo * hi).sqrt(), hi * Decimal("0.9")]
    return [_down(a, edge.quantum_in) for a in picks]


@pytest.mark.parametrize(("asset_in", "asset_out", "rate_type"), PRICED)
async def test_edge_quote_is_indicative(env: Env, asset_in: str, asset_out: str,
                                        rate_type: str) -> None:
    edge = await env.edge(asset_in, asset_out, rate_type)
    for amount in _amounts(edge):
        out = price_forward(edge, amount)
        cases: list[tuple[Decimal, Side]] = [(amount, "sell"), (out, "buy"), (out * Decimal("0.997"), "buy")]
        for value, side in cases:
            value = _down(value, edge.quantum_out if side == "buy" else edge.quantum_in)
            indicative = await env.source.indicative(edge.market, value, side)
            assert indicative is not None and indicative.kind == "indicative"
            assert indicative == edge_quote(edge, value, side)  # amounts, fees, limits, time
            assert indicative.observed_at == edge.observed_at


@pytest.mark.parametrize(("asset_in", "asset_out", "rate_type"), PRICED[::2])
async def test_edge_is_within_the_emulators_spread_of_firm(env: Env, asset_in: str,
                                                          asset_out: str, rate_type: str) -> None:
    """The export rate is FixedFloat's nominal-size rate; a firm answer for ``size_usd`` takes
    ``spread(size) - spread(0)`` more, and cuts its rate to 8 significant digits."""
    profile = env.world.profile("fixedfloat")
    edge = await env.edge(asset_in, asset_out, rate_type)
    for amount in _amounts(edge)[:2]:
        extra = profile.spread(amount * env.world.usd(asset_in)) - profile.spread(Decimal(0))
        tolerance = extra * Decimal("1.05") + Decimal("2e-7")
        sell, firm = edge_quote(edge, amount, "sell"), await env.source.firm(
            edge.market, amount, "sell")
        gross = sell.amount_out + edge.fee_out
        assert firm.amount_out <= sell.amount_out + edge.quantum_out
        assert sell.amount_out - firm.amount_out <= gross * tolerance + 2 * edge.quantum_out
        want = _down(sell.amount_out, edge.quantum_out)
        extra = profile.spread(want * env.world.usd(asset_out)) - profile.spread(Decimal(0))
        tolerance = extra * Decimal("1.05") + Decimal("2e-7")
        buy, firm = edge_quote(edge, want, "buy"), await env.source.firm(edge.market, want, "buy")
        assert firm.amount_in >= buy.amount_in - edge.quantum_in
        assert firm.amount_in - buy.amount_in <= buy.amount_in * tolerance + 2 * edge.quantum_in


async def test_a_learnt_payout_fee_rebuilds_the_edges(env: Env) -> None:
    """USDTTRC has no ``tofee`` in the export; the ``price`` answer reveals it."""
    before = await env.source.edges()
    edge = await env.edge("BTC@BTC", "USDT@TRC20", "float")
    assert edge.fee_out == 0
    firm = await env.source.firm(edge.market, Decimal("0.1"), "sell")
    network = [f.amount for f in firm.fees if f.kind == "network"]
    assert network and network[0] > 0
    after = await env.source.edges()
    assert after is not before and await env.source.edges() is after
    for rate_type in ("fixed", "float"):  # the payout fee is the currency's, whatever the rate
        learnt = await env.edge("BTC@BTC", "USDT@TRC20", rate_type)
        assert learnt.fee_out == network[0]
    learnt = await env.edge("BTC@BTC", "USDT@TRC20", "float")
    indicative = await env.source.indicative(learnt.market, Decimal("0.1"), "sell")
    assert indicative == edge_quote(learnt, Decimal("0.1"), "sell")
    assert indicative is not None and indicative.amount_out == edge_quote(
        edge, Decimal("0.1"), "sell").amount_out - network[0]


async def test_unpriced_markets_when_the_exports_are_down(env: Env) -> None:
    """With the exports unreachable the markets come from ``ccies`` alone: limits unknown,
    ``rate=None``, and ``indicative()`` answers ``None``."""
    async with _source(env.session, env.base_url, *env.credentials,
                       rates_base_url="http://127.0.0.1:9") as source:
        edges = await source.edges()
        assert [e.market for e in edges] == list(await source.markets())
        assert edges and all(e.rate is None and e.min_in is None and e.max_out is None
                             for e in edges)
        assert await source.indicative(edges[0].market, Decimal(1), "sell") is None


async def test_edges_raise_provider_errors(env: Env) -> None:
    async with _source(env.session, "http://127.0.0.1:9", "k", "s",
                       rates_base_url=env.base_url) as source:
        with pytest.raises(ProviderError):
            await source.edges()


# --- a drifting world: the export changes every world minute ------------------------------------
@contextlib.asynccontextmanager
async def _drifting() -> AsyncIterator[tuple[str, Callable[[float], None]]]:
    now = [1_800_000_000.0]
    app = create_app(World(3, clock=lambda: now[0]), credentials={"key": "secret"})
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()

    def advance(seconds: float) -> None:
        now[0] += seconds

    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", advance
    finally:
        await runner.cleanup()


async def test_identity_changes_when_the_export_refreshes() -> None:
    async with _drifting() as (base_url, advance), aiohttp.ClientSession() as session, \
            _source(session, base_url, "key", "secret", feed_interval=0.0) as source:
        first = await source.edges()
        advance(120)  # two world minutes: a new export with new rates
        changed = first
        for _ in range(200):  # the refetch runs in the background (stale-while-revalidate)
            changed = await source.edges()
            if changed is not first:
                break
            await asyncio.sleep(0.01)
        assert changed is not first
        assert [e.market for e in changed] == [e.market for e in first]
        assert any(a.rate != b.rate for a, b in zip(first, changed, strict=True))
        assert all(b.observed_at is not None and a.observed_at is not None
                   and b.observed_at >= a.observed_at for a, b in zip(first, changed, strict=True))


async def test_learning_what_the_edges_already_say_keeps_the_same_list(env: Env) -> None:
    """A precision learnt that the edges already use changes no edge: the same list object, so
    the router's graph snapshot stands (it caches on identity)."""
    before = await env.source.edges()
    edge = before[0]
    src = edge.market.ref.partition("/")[0]
    source = env.source
    source._learn(source._places, src, source._places_of(src, edge.market.asset_in))  # type: ignore[attr-defined]
    assert await env.source.edges() is before
