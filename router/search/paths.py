"""Route search over the asset graph: direct and multi-hop, sell side forwards, buy side backwards.

A layered dynamic programme. A *state* is (asset, provider of the last leg); each layer extends the
best ``keep`` partial paths of every state by one edge, so a two-hop search over thousands of edges
evaluates a few hundred edges rather than every pair of them. Between two providers the funds move
on a network and pay that transfer's fee (:meth:`Graph.transfer_fee`); limits are checked on every
leg in the units that reach it. Amounts are exact Decimals throughout.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from router.assets import Asset
from router.errors import AmountOutOfRange
from router.model import Side, Unavailable
from router.snapshot.edges import Edge, price_backward, price_forward
from router.snapshot.graph import Graph, compatible

__all__ = ["Candidate", "Hop", "SearchResult", "search"]

_ZERO = Decimal(0)


class Hop(NamedTuple):
    edge: Edge
    amount_in: Decimal
    amount_out: Decimal
    transfer_fee: Decimal  # paid moving this hop's input from the previous provider (in asset_in)


class Candidate(NamedTuple):
    hops: tuple[Hop, ...]
    amount_in: Decimal
    amount_out: Decimal  # what the user receives: the last hop's output less ``payout``
    payout: Decimal = _ZERO  # network fee delivering the output to the user's wallet
    payout_asset: str = ""

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(h.edge.market.provider for h in self.hops)


@dataclass
class SearchResult:
    candidates: list[Candidate]
    left_out: list[Unavailable]
    evaluated: int = 0


class _Notes:
    """Why edges were left out, deduplicated and bounded."""

    def __init__(self, limit: int = 40) -> None:
        self.seen: dict[tuple[str, str, str], Unavailable] = {}
        self.limit = limit

    def out_of_range(self, edge: Edge, exc: AmountOutOfRange, leg: int) -> None:
        m = edge.market
        where = f"{m.asset_in}->{m.asset_out} {m.rate_type}" + (f" (leg {leg})" if leg > 1 else "")
        key = (m.provider, exc.reason, where)
        if key in self.seen or len(self.seen) >= self.limit:
            return
        bound = "minimum" if exc.below_min else "maximum"
        detail = f"{where}; {bound} {exc.limit:f} {exc.asset}" if exc.limit is not None else where
        self.seen[key] = Unavailable(provider=m.provider, reason=exc.reason, detail=detail,
                                     limit=exc.limit, asset=exc.asset)


def _allowed(edge: Edge, rate_type: str, providers: frozenset[str] | None) -> bool:
    m = edge.market
    return (rate_type == "any" or m.rate_type == rate_type) and (providers is None or m.provider in providers)


def search(
    graph: Graph,
    sell: Asset,
    buy: Asset,
    amount: Decimal,
    side: Side,
    *,
    max_hops: int = 2,
    rate_type: str = "any",
    providers: Iterable[str] | None = None,
    keep: int = 2,
    limit: int = 50,
    prune: bool = True,
) -> SearchResult:
    """Every direct route and the best ``limit`` multi-hop ones from ``sell`` to ``buy`` (sell:
    most out; buy: least in). ``prune`` skips multi-hop paths that provably cannot rank among the
    best few (a bound from the best rate on their last pair); it never changes those best few."""
    allowed = frozenset(providers) if providers is not None else None
    if side == "sell":
        return _forward(graph, sell, buy, amount, max_hops, rate_type, allowed, keep, limit, prune)
    return _backward(graph, sell, buy, amount, max_hops, rate_type, allowed, keep, limit, prune)


def _forward(graph: Graph, sell: Asset, buy: Asset, amount: Decimal, max_hops: int, rate_type: str,
             allowed: frozenset[str] | None, keep: int, limit: int, prune: bool) -> SearchResult:
    notes, done = _Notes(), []
    top: list[Decimal] = []  # min-heap of the best few results so far (pruning threshold)
    evaluated = 0
    # frontier: (asset held, provider holding it) -> best partial paths (amount, hops)
    frontier: dict[tuple[Asset, str], list[tuple[Decimal, tuple[Hop, ...]]]] = {(sell, ""): [(amount, ())]}
    for depth in range(1, max_hops + 1):
        nxt: dict[tuple[Asset, str], list[tuple[Decimal, tuple[Hop, ...]]]] = {}
        last = depth == max_hops
        alive = graph.reaching(buy.coin, max_hops - depth)  # coins that can still get there
        for (held, holder), paths in frontier.items():
            if prune and last and depth > 1 and len(top) >= _PRUNE_AT:
                bound = graph.best_rate.get((held.coin, buy.coin))
                if bound is None or max(p[0] for p in paths) * bound <= top[0]:
                    continue  # even the best rate on this pair could not make the top few
            if last:
                pool = graph.by_pair.get((held.coin, buy.coin), ())
            elif prune and depth == max_hops - 1:  # direct legs first: they bound the others
                pool = graph.pair_first(held.coin, buy.coin, forward=True)
            else:
                pool = graph.by_in.get(held.coin, ())
            best_have = max(p[0] for p in paths)
            for edge, a_in, a_out in pool:
                if not _allowed(edge, rate_type, allowed) or not compatible(held, a_in):
                    continue
                final = buy.matches(a_out)
                if (a_out.coin == sell.coin and not final) or (depth > 1 and a_in.coin == buy.coin):
                    continue  # no round trips
                if not final and (last or a_out.coin not in alive):
                    continue  # a dead end: nothing from here reaches the buy coin in time
                if prune and not final and depth == max_hops - 1 and len(top) >= _PRUNE_AT:
                    # fees only take away: the most this leg then the best rate on to the buy coin
                    # could give cannot make the top few
                    bound = graph.best_rate.get((a_out.coin, buy.coin))
                    if bound is None or edge.rate is None or best_have * edge.rate * bound <= top[0]:
                        continue
                fee = graph.transfer_fee(holder, edge.market.provider, held, a_in) if holder else _ZERO
                for have, hops in paths:
                    evaluated += 1
                    amount_in = have - fee
                    try:
                        out = price_forward(edge, amount_in) if amount_in > 0 else None
                    except AmountOutOfRange as exc:
                        notes.out_of_range(edge, exc, depth)
                        continue
                    if out is None:
                        continue
                    path = hops + (Hop(edge, amount_in, out, fee),)
                    if final:
                        payout, where = graph.payout_fee(edge.market.provider, a_out, buy)
                        if out - payout > 0:
                            done.append(Candidate(path, amount, out - payout, payout, where))
                            _top(top, out - payout)
                    else:
                        _keep(nxt.setdefault((a_out, edge.market.provider), []), (out, path), keep, True)
        frontier = nxt
        if not frontier:
            break
    return SearchResult(_best(done, limit, True), list(notes.seen.values()), evaluated)


def _backward(graph: Graph, sell: Asset, buy: Asset, amount: Decimal, max_hops: int, rate_type: str,
              allowed: frozenset[str] | None, keep: int, limit: int, prune: bool) -> SearchResult:
    notes, done = _Notes(), []
    top: list[Decimal] = []  # min-heap of minus the cheapest inputs so far (pruning threshold)
    evaluated = 0
    # frontier: (asset needed, provider that needs it) -> cheapest partial paths
    #           (amount needed, hops, payout fee of the last hop, the asset it is paid in)
    Path = tuple[Decimal, tuple[Hop, ...], Decimal, str]
    frontier: dict[tuple[Asset, str], list[Path]] = {(buy, ""): [(amount, (), _ZERO, "")]}
    for depth in range(1, max_hops + 1):
        nxt: dict[tuple[Asset, str], list[Path]] = {}
        last = depth == max_hops
        alive = graph.reached(sell.coin, max_hops - depth)  # inputs the sell coin can still reach
        for (needed, taker), paths in frontier.items():
            if prune and last and depth > 1 and len(top) >= _PRUNE_AT:
                bound = graph.best_rate.get((sell.coin, needed.coin))
                if bound is None or min(p[0] for p in paths) / bound >= -top[0]:
                    continue  # even the best rate on this pair would need more than the top few
            if last:
                pool = graph.by_pair.get((sell.coin, needed.coin), ())
            elif prune and depth == max_hops - 1:  # direct legs first: they bound the others
                pool = graph.pair_first(sell.coin, needed.coin, forward=False)
            else:
                pool = graph.by_out.get(needed.coin, ())
            least_need = min(p[0] for p in paths)
            for edge, a_in, a_out in pool:
                if not _allowed(edge, rate_type, allowed) or not compatible(a_out, needed):
                    continue
                if depth == 1 and not buy.matches(a_out):
                    continue
                first = compatible(sell, a_in)
                if (a_in.coin == buy.coin and not first) or (depth > 1 and a_out.coin == sell.coin):
                    continue  # no round trips
                if not first and (last or a_in.coin not in alive):
                    continue  # a dead end: the sell coin cannot reach this input in time
                if prune and not first and depth == max_hops - 1 and len(top) >= _PRUNE_AT:
                    # fees only add: the least this leg then the best rate from the sell coin
                    # could need cannot make the top few
                    bound = graph.best_rate.get((sell.coin, a_in.coin))
                    if (bound is None or edge.rate is None
                            or least_need / (edge.rate * bound) >= -top[0]):
                        continue
                if taker:
                    fee, hop_payout, hop_where = (graph.transfer_fee(edge.market.provider, taker, a_out,
                                                                     needed), _ZERO, "")
                else:  # the last hop of the route: deliver to the user's wallet
                    fee = _ZERO
                    hop_payout, hop_where = graph.payout_fee(edge.market.provider, a_out, buy)
                for need, hops, payout, where in paths:
                    evaluated += 1
                    if not taker:
                        payout, where = hop_payout, hop_where
                    gross = need + fee + (hop_payout if not taker else _ZERO)
                    try:
                        amount_in = price_backward(edge, gross)
                    except AmountOutOfRange as exc:
                        notes.out_of_range(edge, exc, max_hops - depth + 1)
                        continue
                    path = (Hop(edge, amount_in, gross, _ZERO),) + _with_fee(hops, fee)
                    if first:
                        done.append(Candidate(path, amount_in, amount, payout, where))
                        _top(top, -amount_in)
                    else:
                        _keep(nxt.setdefault((a_in, edge.market.provider), []),
                              (amount_in, path, payout, where), keep, False)
        frontier = nxt
        if not frontier:
            break
    return SearchResult(_best(done, limit, False), list(notes.seen.values()), evaluated)


#: Multi-hop paths are pruned once this many routes are known: a path whose best conceivable result
#: cannot beat the worst of them could never rank among the routes worth showing or firm-pricing.
_PRUNE_AT = 8


def _top(heap: list[Decimal], value: Decimal) -> None:
    if len(heap) < _PRUNE_AT:
        heapq.heappush(heap, value)
    elif value > heap[0]:
        heapq.heapreplace(heap, value)


def _best(done: list[Candidate], limit: int, sell: bool) -> list[Candidate]:
    """Every direct route (each provider's own markets must stay comparable), plus the best
    ``limit`` multi-hop ones; best first."""
    if sell:
        key = lambda c: (-c.amount_out, len(c.hops))  # noqa: E731
    else:
        key = lambda c: (c.amount_in, len(c.hops))  # noqa: E731
    direct = [c for c in done if len(c.hops) == 1]
    multi = heapq.nsmallest(limit, (c for c in done if len(c.hops) > 1), key=key)
    return sorted(direct + multi, key=key)


def _with_fee(hops: tuple[Hop, ...], fee: Decimal) -> tuple[Hop, ...]:
    """Record on the next hop the transfer fee paid to reach it."""
    if not hops:
        return hops
    first = hops[0]
    return (first._replace(transfer_fee=fee),) + hops[1:]


def _keep(bucket: list[Any], item: Any, keep: int, larger_better: bool) -> None:
    bucket.append(item)
    if len(bucket) > keep:
        bucket.sort(key=lambda x: x[0], reverse=larger_better)
        del bucket[keep:]
