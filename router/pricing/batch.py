"""Batches: many (pair, amount) queries answered within the providers' budgets.

The planner:

1. **Coalesce.** Identical queries are answered once (and share their firm quotes).
2. **Rank on indicative data.** One edges snapshot for the whole batch; every distinct query is
   searched on the asset graph (direct and multi-hop), at no budget cost.
3. **Spend firm quotes where they change the answer.** A query whose runner-up (another provider)
   is within the indicative error band of its winner is *contested*: its two leaders are
   firm-quoted first, biggest notional first; then, with what budget is left, uncontested winners
   are confirmed. Firm quotes are cached until they expire and reused by every query with the same
   market, amount and side. A provider whose budget runs dry is skipped from then on; its queries
   stay indicative and say so (``budget_exhausted`` with ``retry_after``).
4. **Calibrate the rest.** Every firm answer is compared with its indicative estimate; indicative
   prices left in the batch are scaled by the median ratio seen for that provider at that size
   (notional bucket), the gap itemised as ``spread``. Each answer keeps its freshness
   (``observed_at``).

Results come back in input order.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from router.assets import Asset, from_id
from router.budgets import budget_deadline
from router.errors import ProviderError, RateLimited
from router.model import Fee, Market, Quote, QuoteRequest, RouteSet, Unavailable
from router.pricing.calibrate import calibrate, firm_ratio
from router.pricing.collect import Collector, payout_fee_of, record_failure
from router.pricing.cost import with_costs
from router.pricing.rank import rank_routes
from router.pricing.routes import (
    FirmFetch,
    calibrated_route,
    candidate_route,
    route_identity,
)
from router.search.paths import Candidate, search
from router.snapshot.edges import Edge, edge_quote
from router.snapshot.graph import Graph
from router.sources.calls import Calls
from router.sources.protocol import QuoteSource
from router.steps import Turns

__all__ = ["BatchStats", "quote_many"]

_ONE = Decimal(1)


@dataclass
class BatchStats:
    """What a batch did: filled in as it runs, complete when the iterator is exhausted."""

    queries: int = 0
    distinct: int = 0
    firm_calls: dict[str, int] = field(default_factory=dict)
    dry: set[str] = field(default_factory=set)
    phase: str = "indicative"
    done_firm: int = 0
    planned_firm: int = 0
    listener: Callable[[BatchStats], None] | None = None  # called as firm quotes complete


@dataclass
class _Query:
    req: QuoteRequest
    sell: Asset
    buy: Asset
    col: Collector = field(default_factory=Collector)
    candidates: list[Candidate] = field(default_factory=list)
    direct: dict[Market, Quote] = field(default_factory=dict)  # indicative, by market
    firm: dict[Market, Quote] = field(default_factory=dict)
    notional: Decimal = Decimal(0)  # USDT value of the amount (for priorities and size buckets)
    started: float = 0.0


def _key(req: QuoteRequest) -> tuple[object, ...]:
    return (req.sell, req.buy, req.amount, req.side, req.rate_type, req.max_hops, req.providers,
            req.exclude)


def _bucket(notional: Decimal) -> int:
    """Size bucket: quarter-decades of USDT notional (spreads grow with size); exact Decimal."""
    return int((max(notional, _ONE).log10() * 4).to_integral_value(rounding=ROUND_FLOOR))


async def quote_many(
    requests: Iterable[QuoteRequest],
    *,
    sources: Sequence[QuoteSource],
    graph_for: Callable[[dict[str, Sequence[Edge]], float | None], Awaitable[Graph]],
    fetch: Callable[[Collector], FirmFetch],
    calls: Calls,
    bulk_deadline: float,
    turns: Turns,
    band: Decimal = Decimal("0.005"),
    concurrency: int = 16,
    confirm: bool = True,
    firm: bool = True,
    stats: BatchStats | None = None,
) -> AsyncIterator[tuple[QuoteRequest, RouteSet]]:
    """Answer ``requests`` (validated) in input order; see the module docstring.
    ``firm=False`` answers from bulk data alone (no budget spent on firm quotes)."""
    loop = asyncio.get_running_loop()
    stats = stats if stats is not None else BatchStats()
    reqs = list(requests)
    stats.queries = len(reqs)
    queries: dict[tuple[object, ...], _Query] = {}
    for req in reqs:
        if _key(req) not in queries:
            queries[_key(req)] = _Query(req, from_id(req.sell), from_id(req.buy), started=loop.time())
    stats.distinct = len(queries)
    by_name = {s.name: s for s in sources}

    # 2. one edges snapshot, every source's bulk data fetched in parallel (tracked, recorded for
    #    its breaker, waited for at most ``bulk_deadline``); every distinct query searched on it
    lists = await _bulk(sources, calls, bulk_deadline, [q.col for q in queries.values()])
    graph = await graph_for(lists, None) if lists else None
    for q in queries.values():
        if graph is not None:
            await turns.turn()  # other requests on this router get the loop between slices
            _search(q, graph, lists)

    # 3. firm quotes where they change the answer, most valuable first
    plan = _plan(queries.values(), band, confirm) if firm else []
    stats.phase, stats.planned_firm = "firm", len(plan)
    gate = asyncio.Semaphore(max(1, concurrency))
    ratios: dict[tuple[str, int], list[Decimal]] = {}
    payouts: dict[tuple[str, str], Decimal] = {}

    async def one(q: _Query, market: Market) -> None:
        provider = market.provider
        if provider in stats.dry or not by_name[provider].firm_quotes:
            return
        async with gate:
            if provider in stats.dry:
                return
            token = budget_deadline.set(loop.time())  # a batch never waits on a budget
            try:
                quote = await fetch(q.col)(by_name[provider], market, _ask(q, graph, market), q.req.side)
            except ProviderError as exc:
                if isinstance(exc, RateLimited):  # our budget or the provider's: stop asking it
                    stats.dry.add(provider)
                record_failure(q.col, provider, exc, market)
                return
            finally:
                budget_deadline.reset(token)
                stats.done_firm += 1
                if stats.listener is not None:
                    stats.listener(stats)
        stats.firm_calls[provider] = stats.firm_calls.get(provider, 0) + 1
        q.firm[market] = quote
        fee = payout_fee_of(quote)  # a payout fee the bulk data may have left out
        if fee is not None:
            payouts.setdefault((provider, quote.asset_out), fee)
        q.col.add(market, quote, _payout(q, graph, market))
        ratio = firm_ratio(q.direct[market], quote, q.req.side) if market in q.direct else None
        if ratio is not None:
            ratios.setdefault((provider, _bucket(q.notional)), []).append(ratio)

    await asyncio.gather(*(one(q, m) for q, m in plan))

    # 4. calibrate what stayed indicative; where a calibrated indicative price still leads, one
    #    more firm quote (budget permitting); then answer in input order
    medians = {k: statistics.median(v) for k, v in ratios.items()}
    if graph is not None:
        for q in queries.values():
            _calibrate(q, graph, medians, payouts)
        again = [(q, m) for q in queries.values() if firm and (m := _indicative_leader(q)) is not None
                 and m.provider not in stats.dry]
        again.sort(key=lambda qm: qm[0].notional, reverse=True)
        stats.planned_firm += len(again)
        await asyncio.gather(*(one(q, m) for q, m in again))
        medians = {k: statistics.median(v) for k, v in ratios.items()}
        for q in queries.values():
            _calibrate(q, graph, medians, payouts)
    stats.phase = "answer"
    for q in queries.values():
        for name in stats.dry:
            if any(m.provider == name for m in q.direct) and not any(
                    m.provider == name for m in q.firm):
                q.col.note(Unavailable(provider=name, reason="budget_exhausted",
                                       detail="no firm quote: the batch spent this provider's "
                                              "budget; indicative prices shown"))
    now = loop.time()
    for req in reqs:
        q = queries[_key(req)]
        routes = with_costs(rank_routes(q.col.routes(), req.side),
                            graph.values if graph is not None else None)
        yield req, RouteSet(request=req, routes=routes,
                            unavailable=q.col.unavailable(),
                            elapsed_ms=round((now - q.started) * 1000, 3))


async def _bulk(sources: Sequence[QuoteSource], calls: Calls, deadline: float,
                cols: Sequence[Collector]) -> dict[str, Sequence[Edge]]:
    """Every source's edges, in parallel, for at most ``deadline`` seconds; what failed or came
    late is noted in every query's collector (:meth:`Calls.settle_edges`, as a quote does)."""
    tasks = {s.name: calls.edges(s) for s in sources}
    if tasks:
        await asyncio.wait(tasks.values(), timeout=deadline)
    return calls.settle_edges(tasks, cols)


def _search(q: _Query, graph: Graph, lists: dict[str, Sequence[Edge]]) -> None:
    req = q.req
    if q.col.same_asset(q.sell, q.buy):
        return
    chosen = [n for n in lists if (req.providers is None or n in req.providers)
              and n not in req.exclude]
    res = search(graph, q.sell, q.buy, req.amount, req.side, max_hops=req.max_hops,
                 rate_type=req.rate_type, providers=chosen, limit=8)
    for note in res.left_out:
        q.col.note(note)
    q.candidates = res.candidates
    for c in res.candidates:
        q.col.add_route(route_identity(c), candidate_route(c))
        if len(c.hops) == 1:
            m = c.hops[0].edge.market
            q.direct[m] = edge_quote(c.hops[0].edge, _ask(q, graph, m), req.side)
    coin = q.sell.coin if req.side == "sell" else q.buy.coin
    value = graph.values.get(coin)
    q.notional = req.amount * value if value is not None else Decimal(0)
    involved = {p for c in res.candidates for p in c.providers}
    q.col.unserved(chosen, involved, req)


def _payout(q: _Query, graph: Graph | None, market: Market) -> Fee | None:
    if graph is None:
        return None
    fee, asset = graph.payout_fee(market.provider, from_id(market.asset_out), q.buy)
    return Fee("network", fee, asset) if fee > 0 else None


def _ask(q: _Query, graph: Graph | None, market: Market) -> Decimal:
    payout = _payout(q, graph, market)
    return q.req.amount + payout.amount if q.req.side == "buy" and payout else q.req.amount


def _value(q: _Query, quote: Quote) -> Decimal:
    return quote.amount_out if q.req.side == "sell" else -quote.amount_in


def _plan(queries: Iterable[_Query], band: Decimal, confirm: bool) -> list[tuple[_Query, Market]]:
    """(query, market) firm quotes to ask for, most valuable first: the two leaders of every
    contested query, then the winners of the others."""
    contested: list[tuple[Decimal, _Query, Market]] = []
    confirmations: list[tuple[Decimal, _Query, Market]] = []
    for q in queries:
        best: dict[str, tuple[Market, Quote]] = {}  # each provider's best direct market
        for market, quote in q.direct.items():
            held = best.get(market.provider)
            if held is None or _value(q, quote) > _value(q, held[1]):
                best[market.provider] = (market, quote)
        leaders = sorted(best.values(), key=lambda mq: _value(q, mq[1]), reverse=True)
        if not leaders:
            continue
        top = abs(_value(q, leaders[0][1]))
        close = [m for m, quote in leaders
                 if top and abs(top - abs(_value(q, quote))) / top <= band]
        if len(close) > 1:  # the indicative data cannot tell these apart: ask them all
            contested += [(q.notional, q, m) for m in close]
        else:
            confirmations.append((q.notional, q, leaders[0][0]))
    contested.sort(key=lambda t: t[0], reverse=True)
    confirmations.sort(key=lambda t: t[0], reverse=True)
    items = [(q, m) for _, q, m in contested]
    if confirm:
        items += [(q, m) for _, q, m in confirmations]
    return items


def _indicative_leader(q: _Query) -> Market | None:
    """The direct market of ``q``'s best route when that route is still indicative."""
    routes = rank_routes(q.col.routes(), q.req.side)
    if not routes or routes[0].kind == "firm" or len(routes[0].legs) != 1:
        return None
    leg = routes[0].legs[0]
    for market in q.direct:
        if (market.provider, market.asset_in, market.asset_out, market.rate_type) == (
                leg.provider, leg.asset_in, leg.asset_out, leg.rate_type) and market not in q.firm:
            return market
    return None


def _calibrate(q: _Query, graph: Graph, medians: dict[tuple[str, int], Decimal],
               payouts: dict[tuple[str, str], Decimal]) -> None:
    """Scale ``q``'s remaining indicative prices by what this batch's firm answers revealed: the
    provider's firm/indicative ratio at this size, and payout fees the bulk data left out."""
    bucket = _bucket(q.notional)
    ratios = {p: r for (p, b), r in medians.items() if b == bucket}
    side = q.req.side
    for market, quote in q.direct.items():
        if market in q.firm:
            continue
        ratio = ratios.get(market.provider)
        fee = payouts.get((market.provider, market.asset_out))
        if ratio is not None or fee is not None:
            q.col.add(market, calibrate(quote, ratio if ratio is not None else Decimal(1), side, fee),
                      _payout(q, graph, market))
    if ratios:
        for c in q.candidates:
            if len(c.hops) > 1:
                route = calibrated_route(c, ratios, graph, side, q.req.amount)
                if route is None:
                    q.col.drop_key(route_identity(c))
                else:
                    q.col.add_route(route_identity(c), route)

