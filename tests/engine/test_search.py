"""Route search on synthetic edges: hops, chaining, transfer fees, limits, both sides."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from router.assets import from_id
from router.errors import AmountOutOfRange
from router.model import Market
from router.search.paths import search
from router.snapshot.edges import Edge, price_backward, price_forward
from router.snapshot.graph import Graph

D = Decimal


def edge(provider: str, a: str, b: str, rate: str, *, fee_out: str = "0", min_in: str | None = None,
         max_in: str | None = None, rate_type: str = "float", q_out: str = "1e-8", q_in: str = "1e-8") -> Edge:
    return Edge(market=Market(provider, a, b, rate_type, f"{a}/{b}"), rate=D(rate), fee_out=D(fee_out),  # type: ignore[arg-type]
                min_in=D(min_in) if min_in else None, max_in=D(max_in) if max_in else None,
                quantum_out=D(q_out), quantum_in=D(q_in))


EDGES = [
    edge("otc", "CNY", "USDT@TRC20", "0.14", min_in="100", q_out="1e-6", q_in="0.01"),
    edge("swap", "USDT@TRC20", "BTC", "0.0000166", fee_out="0.0001", min_in="20"),
    edge("swap", "USDT@ERC20", "BTC", "0.0000167", fee_out="0.0001", min_in="20"),
    edge("ramp", "CNY", "BTC", "0.0000020", min_in="500", q_in="0.01"),  # direct but poor
    edge("swap", "ETH", "BTC", "0.05", fee_out="0.0001"),
    edge("swap", "ETH", "USDT@TRC20", "3000", fee_out="1", q_out="1e-6"),
]
GRAPH = Graph(EDGES, transfer_fees={"USDT@TRC20": D("1"), "USDT@ERC20": D("5")},
              payout_excluded=frozenset({"otc", "ramp"}))


def test_two_hops_beat_a_poor_direct_route_and_chain_exactly() -> None:
    res = search(GRAPH, from_id("CNY"), from_id("BTC"), D("1000"), "sell")
    best = res.candidates[0]
    assert best.providers == ("otc", "swap")
    first, second = best.hops
    assert first.amount_in == D("1000") and first.amount_out == D("140")
    # the OTC desk does not net its payout fee: 1 USDT moves the funds on TRC20
    assert second.transfer_fee == D("1") and second.amount_in == first.amount_out - D("1")
    assert second.amount_out == D("139") * D("0.0000166") - D("0.0001")
    assert best.amount_out == second.amount_out
    direct = [c for c in res.candidates if len(c.hops) == 1]
    assert direct and direct[0].amount_out < best.amount_out


def test_max_hops_one_keeps_direct_only() -> None:
    res = search(GRAPH, from_id("CNY"), from_id("BTC"), D("1000"), "sell", max_hops=1)
    assert [c.providers for c in res.candidates] == [("ramp",)]


def test_buy_side_backwards_needs_least_and_delivers() -> None:
    res = search(GRAPH, from_id("CNY"), from_id("BTC"), D("0.002"), "buy")
    best = res.candidates[0]
    assert best.providers == ("otc", "swap") and best.amount_out == D("0.002")
    first, second = best.hops
    assert second.amount_in == first.amount_out - second.transfer_fee
    # replaying the route forwards delivers at least what was asked
    got = price_forward(second.edge, price_forward(first.edge, best.amount_in) - second.transfer_fee)
    assert got >= D("0.002")


def test_limits_propagate_to_the_leg_they_bind() -> None:
    # 149 CNY clears the desk's minimum but leaves 19.86 USDT after the transfer: under the swap's 20
    res = search(GRAPH, from_id("CNY"), from_id("BTC"), D("149"), "sell")
    assert all(c.providers != ("otc", "swap") for c in res.candidates)
    notes = {(u.provider, u.reason) for u in res.left_out}
    assert ("swap", "limit_min") in notes and ("ramp", "limit_min") in notes
    swap = next(u for u in res.left_out if u.provider == "swap")
    assert "leg 2" in swap.detail and swap.limit == D("20")


def test_network_less_request_names_the_network() -> None:
    res = search(GRAPH, from_id("ETH"), from_id("USDT"), D("1"), "sell")
    assert [c.hops[-1].edge.market.asset_out for c in res.candidates] == ["USDT@TRC20"]
    assert search(GRAPH, from_id("ETH"), from_id("USDT@ERC20"), D("1"), "sell").candidates == []


def test_filters_rate_type_and_providers() -> None:
    assert search(GRAPH, from_id("CNY"), from_id("BTC"), D("1000"), "sell", rate_type="fixed").candidates == []
    res = search(GRAPH, from_id("CNY"), from_id("BTC"), D("1000"), "sell", providers={"ramp"})
    assert [c.providers for c in res.candidates] == [("ramp",)]


def test_three_hops_when_asked() -> None:
    edges = [edge("a", "RUB", "CNY", "0.08", q_out="0.01", q_in="0.01"),
             edge("b", "CNY", "USDT@TRC20", "0.14", q_out="1e-6", q_in="0.01"),
             edge("c", "USDT@TRC20", "XMR", "0.006")]
    g = Graph(edges)
    assert search(g, from_id("RUB"), from_id("XMR"), D("10000"), "sell").candidates == []
    res = search(g, from_id("RUB"), from_id("XMR"), D("10000"), "sell", max_hops=3)
    assert [c.providers for c in res.candidates] == [("a", "b", "c")]
    back = search(g, from_id("RUB"), from_id("XMR"), D("0.5"), "buy", max_hops=3)
    assert back.candidates[0].amount_out == D("0.5") and len(back.candidates[0].hops) == 3


@settings(max_examples=200, deadline=None)
@given(
    rate=st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=6),
    fee=st.decimals(min_value=D(0), max_value=D("5"), places=4),
    amount=st.decimals(min_value=D("0.01"), max_value=D("1000"), places=2),
)
def test_backward_then_forward_delivers_at_least_the_amount(rate: Decimal, fee: Decimal, amount: Decimal) -> None:
    e = edge("p", "USDT@TRC20", "BTC", str(rate), fee_out=str(fee))
    needed = price_backward(e, amount)
    assert price_forward(e, needed) >= amount
    # and minimal: one input quantum less would not deliver it
    smaller = needed - e.quantum_in
    if smaller > 0:
        try:
            short = price_forward(e, smaller)
        except AmountOutOfRange:
            return
        assert short < amount



def _leg_bound_graph(side: str) -> Graph:
    """Eight direct AAA->BBB desks at about 2, and two ways through CCC: one whose best
    conceivable result (its rate x the best rate of the other leg) beats them, one that cannot.
    The two differ on the leg the search prices first: AAA->CCC selling, CCC->BBB buying."""
    edges = [edge(f"d{i}", "AAA", "BBB", f"2.0{i}") for i in range(8)]
    if side == "sell":
        edges += [edge("hi", "AAA", "CCC", "10"), edge("lo", "AAA", "CCC", "1"),
                  edge("x", "CCC", "BBB", "0.25")]
    else:
        edges += [edge("x", "AAA", "CCC", "10"), edge("hi", "CCC", "BBB", "0.25"),
                  edge("lo", "CCC", "BBB", "0.025")]
    return Graph(edges)


def test_a_first_leg_that_cannot_make_the_top_few_is_not_priced() -> None:
    for side, path in (("sell", ("lo", "x")), ("buy", ("x", "lo"))):
        g = _leg_bound_graph(side)
        fast = search(g, from_id("AAA"), from_id("BBB"), D("100"), side)  # type: ignore[arg-type]
        full = search(g, from_id("AAA"), from_id("BBB"), D("100"), side, prune=False)  # type: ignore[arg-type]
        got, every = [c.providers for c in fast.candidates], [c.providers for c in full.candidates]
        assert got == [p for p in every if p != path]  # the rest, in the same order
        assert path in every  # 1 x 0.25 (or 0.025 x 10) cannot beat 2.00: never priced
        assert got[0] in (("hi", "x"), ("x", "hi"))  # 10 x 0.25 = 2.5 beats every desk
        assert fast.evaluated == full.evaluated - 2  # neither priced nor extended
