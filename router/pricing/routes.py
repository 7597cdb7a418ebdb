"""Turning search candidates into routes: indicative from their edges, firm leg by leg.

Sell side, firm pricing runs forwards: the first leg is quoted for the amount sent, each next leg
for what the previous one delivers less the transfer fee. Buy side runs backwards: the last leg is
quoted for the amount wanted, each earlier one for what the next one needs plus the transfer fee.
A source that never gives firm quotes (``firm_quotes = False``) contributes an indicative leg priced
from its edge; the route is ``firm`` only when every leg is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from router.assets import from_id
from router.errors import AmountOutOfRange, ProviderError
from router.model import Fee, Leg, Market, Quote, Route, Side
from router.search.paths import Candidate
from router.snapshot.edges import (
    Edge,
    edge_fees,
    edge_quote,
    price_backward,
    price_forward,
)
from router.snapshot.graph import Graph
from router.sources.protocol import QuoteSource

__all__ = ["FirmFetch", "RouteFailed", "calibrated_route", "candidate_route", "firm_route",
           "route_identity"]

#: ``fetch(source, market, amount, side)`` → a firm quote (the engine's cached, coalesced call).
FirmFetch = Callable[[QuoteSource, Market, Decimal, Side], Awaitable[Quote]]


class RouteFailed(Exception):
    """A leg of a multi-hop route failed; carries the leg number (1-based) and the cause."""

    def __init__(self, leg: int, cause: ProviderError) -> None:
        super().__init__(f"leg {leg}: {cause.reason}")
        self.leg = leg
        self.cause = cause


def route_identity(c: Candidate) -> tuple[Market, ...]:
    return tuple(h.edge.market for h in c.hops)


def _transfer(fee: Decimal, asset: str) -> Fee | None:
    return Fee("network", fee, asset) if fee > 0 else None


def candidate_route(c: Candidate) -> Route:
    """The indicative route a search candidate stands for (amounts from its edges)."""
    legs = []
    for h in c.hops:
        m = h.edge.market
        legs.append(Leg(provider=m.provider, asset_in=m.asset_in, asset_out=m.asset_out,
                        amount_in=h.amount_in, amount_out=h.amount_out,
                        fees=edge_fees(h.edge, h.amount_in, h.amount_out), rate_type=m.rate_type,
                        kind="indicative", transfer_fee=_transfer(h.transfer_fee, m.asset_in)))
    seen = [h.edge.observed_at for h in c.hops if h.edge.observed_at is not None]
    return Route(legs=tuple(legs), amount_in=c.amount_in, amount_out=c.amount_out,
                 kind="indicative", observed_at=min(seen) if seen else None,
                 payout_fee=_transfer(c.payout, c.payout_asset))


def route_of_legs(legs: list[Leg], payout: Fee | None = None) -> Route:
    kind = "firm" if all(leg.kind == "firm" for leg in legs) else "indicative"
    expiries = [leg.expires_at for leg in legs if leg.expires_at is not None]
    out = legs[-1].amount_out - (payout.amount if payout is not None else 0)
    return Route(legs=tuple(legs), amount_in=legs[0].amount_in, amount_out=out,
                 kind=kind, expires_at=min(expiries) if expiries else None,  # type: ignore[arg-type]
                 payout_fee=payout, locked=all(leg.locked for leg in legs))


#: ``indicative(source, market, amount, side)`` → a source's bulk-data price (checked), or None.
IndicativeFetch = Callable[[QuoteSource, Market, Decimal, Side], Awaitable[Quote | None]]


async def _direct(source: QuoteSource, market: Market, amount: Decimal, side: Side) -> Quote | None:
    return await source.indicative(market, amount, side)


async def _leg(fetch: FirmFetch, source: QuoteSource, edge: Edge, amount: Decimal, side: Side,
               indicative: IndicativeFetch = _direct) -> Quote:
    if source.firm_quotes:
        return await fetch(source, edge.market, amount, side)
    if edge.rate is None:
        quote = await indicative(source, edge.market, amount, side)
        if quote is None:
            raise ProviderError(edge.market.provider, "no price for this leg")
        return quote
    return edge_quote(edge, amount, side)


def _fee(graph: Graph, src: Edge, dst: Edge) -> Decimal:
    return graph.transfer_fee(src.market.provider, dst.market.provider,
                              from_id(src.market.asset_out), from_id(dst.market.asset_in))


async def firm_route(c: Candidate, sources: Mapping[str, QuoteSource], graph: Graph, side: Side,
                     amount: Decimal, fetch: FirmFetch,
                     indicative: IndicativeFetch = _direct) -> Route:
    """Price ``c`` leg by leg with firm quotes; :class:`RouteFailed` names the leg that failed."""
    hops = c.hops
    n = len(hops)
    quotes: list[Quote | None] = [None] * n
    fees: list[Decimal] = [Decimal(0)] * n
    order = range(n) if side == "sell" else range(n - 1, -1, -1)
    payout = _transfer(c.payout, c.payout_asset)
    need = amount + (c.payout if side == "buy" else 0)
    for i in order:
        edge = hops[i].edge
        if side == "sell":
            if i > 0:
                fees[i] = _fee(graph, hops[i - 1].edge, edge)
                prev = quotes[i - 1]
                assert prev is not None
                need = prev.amount_out - fees[i]
                if need <= 0:
                    raise RouteFailed(i + 1, ProviderError(edge.market.provider,
                                                           "transfer fee exceeds the amount"))
        try:
            q = await _leg(fetch, sources[edge.market.provider], edge, need, side, indicative)
        except ProviderError as exc:
            raise RouteFailed(i + 1, exc) from exc
        quotes[i] = q
        if side == "buy" and i > 0:
            fees[i] = _fee(graph, hops[i - 1].edge, edge)
            need = q.amount_in + fees[i]
    legs = []
    for i, got in enumerate(quotes):
        assert got is not None
        legs.append(Leg.from_quote(got, _transfer(fees[i], got.asset_in)))
    route = route_of_legs(legs, payout)
    if route.amount_out <= 0:
        raise RouteFailed(n, ProviderError(hops[-1].edge.market.provider,
                                           "the payout fee exceeds the amount"))
    return route


def calibrated_route(c: Candidate, ratios: Mapping[str, Decimal], graph: Graph, side: Side,
                     amount: Decimal) -> Route | None:
    """``c`` re-priced with each leg's rate scaled by its provider's firm/indicative ratio (what
    firm answers for this request revealed), the gap itemised as a ``spread`` fee; ``None`` when a
    leg's limits then rule it out. Legs still chain exactly."""
    hops = c.hops
    n = len(hops)
    legs: list[Leg | None] = [None] * n
    fees = [Decimal(0)] * n
    for i in range(1, n):
        fees[i] = _fee(graph, hops[i - 1].edge, hops[i].edge)
    try:
        if side == "sell":
            have = amount
            for i, h in enumerate(hops):
                amount_in = have - fees[i]
                if amount_in <= 0:
                    return None
                raw = price_forward(h.edge, amount_in)
                out = _scaled(raw, ratios.get(h.edge.market.provider), h.edge.quantum_out, True)
                legs[i] = _leg_of(h.edge, amount_in, out, raw - out, fees[i])
                have = out
        else:
            need = amount + c.payout
            for i in range(n - 1, -1, -1):
                h = hops[i]
                raw = price_backward(h.edge, need)
                amount_in = _scaled(raw, ratios.get(h.edge.market.provider), h.edge.quantum_in, False)
                legs[i] = _leg_of(h.edge, amount_in, need, amount_in - raw, fees[i], in_units=True)
                need = amount_in + fees[i]
    except AmountOutOfRange:
        return None
    done = [leg for leg in legs if leg is not None]
    route = route_of_legs(done, _transfer(c.payout, c.payout_asset))
    if route.amount_out <= 0:
        return None
    seen = [h.edge.observed_at for h in hops if h.edge.observed_at is not None]
    return Route(legs=route.legs, amount_in=route.amount_in, amount_out=route.amount_out,
                 kind="indicative", observed_at=min(seen) if seen else None,
                 payout_fee=route.payout_fee)


def _scaled(value: Decimal, ratio: Decimal | None, quantum: Decimal, output: bool) -> Decimal:
    if ratio is None or ratio >= 1:
        return value
    if output:
        return (value * ratio).quantize(quantum, rounding=ROUND_FLOOR)
    return (value / ratio).quantize(quantum, rounding=ROUND_CEILING)


def _leg_of(edge: Edge, amount_in: Decimal, amount_out: Decimal, spread: Decimal, transfer: Decimal,
            *, in_units: bool = False) -> Leg:
    m = edge.market
    fees = edge_fees(edge, amount_in, amount_out)
    if spread > 0:
        fees += (Fee("spread", spread, m.asset_in if in_units else m.asset_out),)
    return Leg(provider=m.provider, asset_in=m.asset_in, asset_out=m.asset_out, amount_in=amount_in,
               amount_out=amount_out, fees=fees, rate_type=m.rate_type, kind="indicative",
               transfer_fee=_transfer(transfer, m.asset_in))
