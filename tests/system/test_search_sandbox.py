"""Route search over the full sandbox graph: pruning never changes the best routes."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router
from router.assets import from_id
from router.search.paths import search
from router.snapshot.feemodel import load_fee_model
from router.snapshot.graph import Graph, build_graph


@pytest.fixture(scope="module")
def graph() -> Graph:
    async def load() -> list:  # type: ignore[type-arg]
        async with Sandbox(seed=3, frozen=True, no_limits=True) as sb:
            sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
            async with Router(sources) as router:
                await router.warm()
                return [list(await s.edges()) for s in sources]

    loop = asyncio.new_event_loop()
    try:
        lists = loop.run_until_complete(load())
    finally:
        loop.close()
    return build_graph(lists, load_fee_model())


QUERIES = [("BTC", "USDT", "0.5", "sell", 2), ("ETH", "BTC", "3", "sell", 2),
           ("USDT", "ETH", "2", "buy", 2), ("DOGE", "XRP", "20000", "sell", 2),
           ("CNY", "BTC", "5000", "sell", 2), ("EUR", "SOL", "10", "buy", 2),
           ("RUB", "XMR", "100000", "sell", 3), ("LTC", "TON", "40", "sell", 3)]


def test_the_graph_is_the_whole_sandbox(graph: Graph) -> None:
    providers = {e.market.provider for e in graph.edges}
    assert providers == {"fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay"}
    assert len(graph.edges) > 1000
    assert any(e.estimated for e in graph.edges)  # GatePay/FaTPay priced from references


@pytest.mark.parametrize("sell,buy,amount,side,hops", QUERIES)
def test_pruning_keeps_the_best_routes(graph: Graph, sell: str, buy: str, amount: str, side: str,
                                       hops: int) -> None:
    args = (graph, from_id(sell), from_id(buy), Decimal(amount), side)
    fast = search(*args, max_hops=hops)  # type: ignore[arg-type]
    full = search(*args, max_hops=hops, prune=False)  # type: ignore[arg-type]
    assert fast.candidates, "no route at all"
    value = (lambda c: c.amount_out) if side == "sell" else (lambda c: c.amount_in)
    assert [value(c) for c in fast.candidates[:8]] == [value(c) for c in full.candidates[:8]]
    assert fast.evaluated <= full.evaluated


def _values_by_full_sweeps(edges: list) -> dict[str, Decimal]:  # type: ignore[type-arg]
    """The reference values as first specified: every step sweeps every priced edge."""
    import statistics
    from decimal import Context

    ctx, one = Context(prec=28), Decimal(1)
    values = {"USDT": one}
    priced = [(from_id(e.market.asset_in).coin, from_id(e.market.asset_out).coin, e)
              for e in edges if e.rate is not None and e.rate > 0 and not e.estimated]
    while True:
        proposals: dict[str, list[Decimal]] = {}
        for cin, cout, e in priced:
            mid = ctx.divide(e.rate, one - e.margin) if e.margin < one else e.rate
            if cin in values and cout not in values:
                proposals.setdefault(cout, []).append(ctx.divide(values[cin], mid))
            elif cout in values and cin not in values:
                proposals.setdefault(cin, []).append(ctx.multiply(values[cout], mid))
        if not proposals:
            return values
        for coin, props in proposals.items():
            values[coin] = statistics.median(props)


def test_frontier_reference_values_equal_full_sweeps(graph: Graph) -> None:
    from router.snapshot.graph import reference_values

    edges = [e for e in graph.edges if not e.estimated]
    expected = _values_by_full_sweeps(edges)
    assert len(expected) > 10  # most of the sandbox is valued, not just USDT
    assert reference_values(edges) == expected
    for drop in range(0, len(edges), 7):  # and on thinner graphs, where paths are longer
        thinner = edges[:drop] + edges[drop + 1:: 3]
        assert reference_values(thinner) == _values_by_full_sweeps(thinner)


def test_route_skeletons_are_the_coins_a_path_can_join(graph: Graph) -> None:
    for (a, b) in graph.by_pair:
        assert a in graph.reaching(b, 1) and b in graph.reached(a, 1)
    into_usdt = graph.reaching("USDT", 1)
    assert into_usdt == {"USDT"} | {a for (a, b) in graph.by_pair if b == "USDT"}
    two = graph.reaching("USDT", 2)
    assert into_usdt <= two and two == into_usdt | {
        a for (a, b) in graph.by_pair if b in into_usdt}
    assert graph.reaching("USDT", 0) == {"USDT"}


def test_a_lying_feed_checked_first_does_not_get_the_honest_ones_rejected() -> None:
    from router.model import Market
    from router.snapshot.edges import Edge
    from router.snapshot.screening import screen_lists

    rates = {"a": "1000", "b": "60000", "c": "60050"}  # "a" is off by a factor of 60
    lists = {p: [Edge(market=Market(p, "BTC", "USDT", "float"), rate=Decimal(rates[p]))]
             for p in "abc"}  # sources are banded in order, each against the others as cleaned
    screened = screen_lists(lists, load_fee_model())
    assert sorted(e.market.provider for e, _ in screened.rejected) == ["a"]
    assert sorted(e.market.provider for e in screened.graph.edges) == ["b", "c"]
