"""FlyPaySource.edges(): the payways model as edges, and indicative() through them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import aiohttp
import msgspec
import pytest

from adapters.flypay import FlyPaySource, pair_edge
from adapters.flypay.edges import quantum
from adapters.flypay.wire import ExchangePair
from router.errors import AmountOutOfRange, SignatureInvalid
from router.model import Market, Quote, Side
from router.snapshot.edges import Edge, edge_quote, price_backward, price_forward
from tests.providers.flypay.canned import Canned, FakeFlyPay, ok
from tests.providers.flypay.test_on_sandbox import Env, env, world_mod  # noqa: F401  (fixture)
from tests.providers.flypay.test_quotes import M_USDT_BTC, USDT_BTC
from tests.providers.flypay.test_source import (
    PAYWAYS,
    Opened,
    fly,  # noqa: F401  (fixture)
    session,  # noqa: F401  (fixture)
)

D = Decimal
NOW = 1000.0


def numbers(edge: Edge) -> tuple[Any, ...]:
    """Everything of an edge but its market."""
    return tuple(v for k, v in msgspec.structs.asdict(edge).items() if k != "market")


def by_pair(edges: list[Edge] | Any) -> dict[tuple[str, str], Edge]:
    return {(e.market.asset_in, e.market.asset_out): e for e in edges}


@pytest.fixture
async def source(fly: FakeFlyPay,  # noqa: F811
                 session: aiohttp.ClientSession) -> AsyncIterator[FlyPaySource]:  # noqa: F811
    async with Opened(fly, session, clock=lambda: NOW) as src:
        yield src


# ---- canned payways (tests.providers.flypay.test_source.PAYWAYS) ----------------------------------------


async def test_edges_are_the_markets(source: FlyPaySource, fly: FakeFlyPay) -> None:  # noqa: F811
    markets = await source.markets()
    edges = await source.edges()
    assert len(edges) == len(markets) == 3
    assert all(e.market is m for e, m in zip(edges, markets, strict=True))  # the same objects
    for e in edges:
        assert e.rate is not None and not e.estimated and e.provider == "flypay"
        assert e.observed_at == NOW and e.max_out is None
    assert fly.methods() == ["payways"]  # nothing beyond the model


async def test_edge_numbers_are_flypays(source: FlyPaySource) -> None:
    edges = by_pair(await source.edges())
    # btc_usdt: 0.5 % and 1 USDT charged in usdt (the output): FlyPay's arithmetic exactly
    out_fee = edges[("BTC@BTC", "USDT@TRC20")]
    assert (out_fee.rate, out_fee.margin, out_fee.fee_in, out_fee.fee_out) == \
        (D("60000") * D("0.995"), D("0.005"), 0, D("1"))
    assert (out_fee.min_in, out_fee.max_in) == (D("0.001"), D("5"))
    assert (out_fee.quantum_in, out_fee.quantum_out) == (D("1e-8"), D("0.01"))
    # usdt_btc: 1 % and 0.5 USDT charged in usdt (the input): fee_in = ceil(0.5 / 0.99, 0.01)
    in_fee = edges[("USDT@TRC20", "BTC@BTC")]
    assert (in_fee.rate, in_fee.margin, in_fee.fee_in, in_fee.fee_out) == \
        (D("0.0000165") * D("0.99"), D("0.01"), D("0.51"), 0)
    assert (in_fee.min_in, in_fee.max_in) == (D("10"), D("100000"))
    assert (in_fee.quantum_in, in_fee.quantum_out) == (D("0.01"), D("1e-8"))
    # one exchange entry fanned out over the pay-in networks: own edges, same numbers
    erc = edges[("USDT@ERC20", "BTC@BTC")]
    assert erc is not in_fee and erc.market.ref == in_fee.market.ref == "usdt_btc"
    assert numbers(erc) == numbers(in_fee)


async def test_identity_stable_until_the_model_is_fetched_again(
        fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:  # noqa: F811
    now, wall = [0.0], [NOW]
    async with Opened(fly, session, clock=lambda: wall[0], monotonic=lambda: now[0]) as src:
        first = await src.edges()
        await src.markets()
        now[0] = 30.0
        assert await src.edges() is first
        assert await src.indicative(first[0].market, D("0.1"), "sell") is not None
        assert await src.edges() is first and fly.methods() == ["payways"]
        now[0], wall[0] = 1000.0, NOW + 1000  # older than max_age: fetched again
        second = await src.edges()
        assert second is not first and fly.methods() == ["payways"] * 2
        assert [e.observed_at for e in second] == [NOW + 1000] * len(second)
        assert all(e.market is m for e, m in zip(second, await src.markets(), strict=True))
        assert [numbers(e) for e in second] != [numbers(e) for e in first]  # observed_at moved
        assert await src.edges() is second


async def test_edges_raise_like_markets(fly: FakeFlyPay,  # noqa: F811
                                        session: aiohttp.ClientSession) -> None:  # noqa: F811
    fly.script["payways"] = Canned(ok(PAYWAYS), signing="bad")
    opened = Opened(fly, session)
    src = await opened.__aenter__()
    try:
        with pytest.raises(SignatureInvalid):
            await src.edges()
        with pytest.raises(SignatureInvalid):
            await src.markets()
    finally:
        await opened.__aexit__()
    with pytest.raises(RuntimeError):
        await src.edges()


async def assert_through_the_edge(src: FlyPaySource, edge: Edge, amount: Decimal,
                                  side: Side) -> Quote | None:
    """``indicative()`` answers exactly what ``edge_quote`` of the listed edge answers (or
    refuses alike, with FlyPay's figure); returns the quote."""
    try:
        want = edge_quote(edge, amount, side)
    except AmountOutOfRange as refused:
        with pytest.raises(AmountOutOfRange) as got:
            await src.indicative(edge.market, amount, side)
        assert (got.value.limit, got.value.asset, got.value.below_min) == \
            (refused.limit, refused.asset, refused.below_min)
        return None
    quote = await src.indicative(edge.market, amount, side)
    assert quote == want
    assert quote.kind == "indicative" and quote.observed_at == edge.observed_at
    assert (quote.limit_min, quote.limit_max) == (edge.min_in, edge.max_in)
    return quote


CASES: list[tuple[tuple[str, str], str, Side, str | None]] = [
    # (market, amount, side, the refusal expected: limit_min / limit_max)
    (("BTC@BTC", "USDT@TRC20"), "0.1", "sell", None),
    (("BTC@BTC", "USDT@TRC20"), "0.12345678", "sell", None),
    (("BTC@BTC", "USDT@TRC20"), "0.0001", "sell", "limit_min"),
    (("BTC@BTC", "USDT@TRC20"), "6", "sell", "limit_max"),
    (("BTC@BTC", "USDT@TRC20"), "500", "buy", None),
    (("BTC@BTC", "USDT@TRC20"), "10", "buy", "limit_min"),
    (("BTC@BTC", "USDT@TRC20"), "400000", "buy", "limit_max"),
    (("USDT@TRC20", "BTC@BTC"), "1000", "sell", None),
    (("USDT@ERC20", "BTC@BTC"), "12.34", "sell", None),
    (("USDT@TRC20", "BTC@BTC"), "9.99", "sell", "limit_min"),
    (("USDT@ERC20", "BTC@BTC"), "0.01", "buy", None),
    (("USDT@TRC20", "BTC@BTC"), "2", "buy", "limit_max"),
]


@pytest.mark.parametrize(("mkt", "amount", "side", "refused"), CASES)
async def test_indicative_goes_through_the_edge(source: FlyPaySource, mkt: tuple[str, str],
                                                amount: str, side: Side,
                                                refused: str | None) -> None:
    edge = by_pair(await source.edges())[mkt]
    quote = await assert_through_the_edge(source, edge, D(amount), side)
    assert (quote is None) == (refused is not None)
    if refused is not None:
        with pytest.raises(AmountOutOfRange) as info:
            await source.indicative(edge.market, D(amount), side)
        assert info.value.reason == refused
        assert info.value.limit in (edge.min_in, edge.max_in)  # FlyPay's own figure
        assert info.value.asset == edge.market.asset_in


async def test_indicative_keeps_its_figures(source: FlyPaySource) -> None:
    """What indicative() answered before it went through the edge (fee on the output: exact)."""
    market = by_pair(await source.edges())[("BTC@BTC", "USDT@TRC20")].market
    sell = await source.indicative(market, D("0.1"), "sell")
    buy = await source.indicative(market, D("500"), "buy")
    assert sell is not None and sell.amount_out == D("5969.00")  # 6000 - 30 - 1
    assert buy is not None and (buy.amount_in, buy.amount_out) == (D("0.00839196"), D("500"))
    other = Market("flypay", "BTC@BTC", "USDT@BSC", "float", "btc_usdt")  # not listed, known exchange
    priced = await source.indicative(other, D("0.1"), "sell")
    assert priced is not None and priced.amount_out == D("5969.00")


def test_pair_edge_is_exact_without_a_fixed_or_percent_fee() -> None:
    for percent, fixed in ((D(0), D("0.5")), (D("0.01"), D(0))):
        pair = msgspec.structs.replace(USDT_BTC, percent=percent, fixed=fixed)
        edge = pair_edge(M_USDT_BTC, pair, places_in=2, places_out=8, observed_at=None)
        assert edge.fee_in == fixed and edge.margin == percent
        assert price_forward(edge, D("1000")) == \
            ((D("1000") * (1 - percent) - fixed) * D("0.0000165")).quantize(D("1e-8"),
                                                                             ROUND_FLOOR)
    assert quantum(2) == D("0.01") and quantum(8) == D("1e-8") and quantum(0) == D(1)


# ---- against the emulator (seeded, frozen world) ----------------------------------------------

EMULATED: list[tuple[str, str, str, Side]] = [
    ("BTC@BTC", "USDT@TRC20", "0.05", "sell"), ("BTC@BTC", "USDT@BSC", "0.3", "sell"),
    ("USDT@TRC20", "BTC@BTC", "1000", "sell"), ("ETH@ERC20", "USDT@ERC20", "1", "sell"),
    ("BTC", "ETH", "0.05", "sell"), ("BTC@BTC", "USDT@TRC20", "300", "buy"),
    ("USDT@BSC", "BTC@BTC", "0.01", "buy"), ("USDT@TRC20", "ETH@ERC20", "0.5", "buy"),
]


async def test_emulator_edges_are_the_markets_at_no_cost(env: Env) -> None:  # noqa: F811
    markets = await env.source.markets()
    edges = await env.source.edges()
    assert all(e.market is m for e, m in zip(edges, markets, strict=True))
    assert len(edges) == len(markets) > 10
    assert await env.source.edges() is edges
    assert (await env.stats())["units"] == 1  # the one payways call
    shared: dict[str, tuple[Any, ...]] = {}
    for e in edges:  # one exchange entry, fanned out over networks: same numbers
        assert shared.setdefault(e.market.ref, numbers(e)) == numbers(e)
    assert len(shared) < len(edges)


async def test_emulator_edge_limits_are_flypays_figures(env: Env) -> None:  # noqa: F811
    edges = await env.source.edges()
    data = await env.source.client.payways()  # FlyPay's own answer, read again
    assert isinstance(data.exchange, dict)
    checked = 0
    for e in edges:
        entry = msgspec.json.decode(data.exchange[e.market.ref], type=ExchangePair)
        assert (e.min_in, e.max_in) == (entry.min_amount, entry.max_amount)
        assert e.margin == entry.percent_fee / 100  # a percent on the wire
        assert e.rate == entry.exchange_rate * (1 - e.margin)
        assert entry.currency_fee == entry.currency_from and e.fee_out == 0  # fee on the input
        assert entry.amount_fee <= e.fee_in <= entry.amount_fee / (1 - e.margin) + e.quantum_in
        assert e.quantum_in == quantum(entry.currency_from_precision or 0)
        assert e.quantum_out == quantum(entry.currency_to_precision or 0)
        checked += 1
    assert checked == len(edges)


@pytest.mark.parametrize(("src", "dst", "amount", "side"), EMULATED)
async def test_emulator_indicative_is_the_edge_and_near_firm(
        env: Env, src: str, dst: str, amount: str, side: Side) -> None:  # noqa: F811
    market = await env.market(src, dst)
    edge = next(e for e in await env.source.edges() if e.market is market)
    indicative = await assert_through_the_edge(env.source, edge, D(amount), side)
    assert indicative is not None
    firm = await env.source.firm(market, D(amount), side)
    if side == "sell":
        assert firm.amount_in == indicative.amount_in
    # the firm rate carries the size spread the published one leaves out (the world is frozen:
    # no drift); compare both on the firm's confirmed input
    world = world_mod.World(7, frozen=True)  # as the ``env`` fixture builds it
    profile = world.profile("flypay")
    size_usd = firm.amount_in * world.usd(src)
    widening = profile.spread(size_usd) - profile.spread(D(0))
    model_out = price_forward(edge, firm.amount_in)
    slack = D("0.00001")  # rates of 8 significant digits, fees rounded to the input's precision
    assert firm.amount_out <= model_out * (1 + slack)
    assert firm.amount_out >= model_out * (1 - widening - slack)
    if side == "buy":
        assert price_backward(edge, D(amount)) == indicative.amount_in <= firm.amount_in
