"""Answering one request: edges → route search → firm pricing of the winners.

1. Every chosen source's edges (bulk data, cached by the sources) are gathered in parallel; a source
   that fails is reported and left out. The asset graph is rebuilt only when some source's edges
   changed.
2. The search prices direct and multi-hop routes on that indicative data; every candidate enters
   the collector as an ``indicative`` route, every edge a limit ruled out as a reason.
3. Firm quotes: for each provider, its best direct markets in rounds (calibrating the rest by what
   the firm answers revealed); and the best multi-hop routes leg by leg. Markets that no bulk data
   prices and no estimate covers are firm-quoted blind.

Everything lands in the :class:`Collector` as it arrives, so at the deadline the engine ranks what
it has.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from router.assets import from_id
from router.errors import (
    AmountOutOfRange,
    ProviderError,
)
from router.model import Fee, Market, Quote, QuoteRequest, Route, Side, Unavailable
from router.pricing.calibrate import calibrate, firm_ratio
from router.pricing.collect import (
    MARKET_OUT,
    UNTRUSTED,
    Collector,
    payout_fee_of,
    record_failure,
)
from router.pricing.routes import (
    FirmFetch,
    RouteFailed,
    calibrated_route,
    candidate_route,
    firm_route,
    route_identity,
)
from router.search.paths import Candidate, search
from router.snapshot.edges import Edge, check_limits, edge_quote
from router.snapshot.graph import Graph
from router.sources.calls import Calls
from router.sources.protocol import QuoteSource
from router.steps import Turns

__all__ = ["Answer", "Settings"]

log = logging.getLogger("bestrate.router")

#: How many multi-hop routes (besides every direct one) a request considers and shows.
_MULTI_SHOWN = 8

#: How far an estimate may be off, by where its price comes from: a bulk feed priced this market
#: (the engine's ``error_band``, 0 by default: a feed's error is much the same on every market of a
#: provider, and calibration takes it out); a provider's own firm answers at other sizes
#: (``learnt``); or no price at all, the reference rate less an assumed margin (``estimated``: it
#: knows nothing of the market's own fees, such as the network fee of each chain, so it may be off
#: by as much as the margin assumed). A direct market is firm-quoted while its estimate, calibrated
#: by the answers so far, comes within its band of the provider's best firm answer. Measured with
#: ``python -m bench.oracle``: a 0.1 % band on fed markets found nothing more for 5 % more calls.
_LEARNT = Decimal("0.01")
_ESTIMATED = Decimal("0.01")
#: At most this many firm quotes per provider in one round (the first k, plus every market whose
#: estimate is within its band of the provider's best estimate).
_ROUND_MAX = 8


@dataclass(frozen=True, slots=True)
class Settings:
    firm_per_source: int
    firm_rounds: int
    firm_routes: int
    band: Decimal


class Answer:
    """The work for one request; the engine owns its lifetime and its deadline."""

    def __init__(self, req: QuoteRequest, sources: Sequence[QuoteSource], col: Collector,
                 settings: Settings,
                 graph_for: Callable[[dict[str, Sequence[Edge]], float | None], Awaitable[Graph]],
                 calls: Calls, edges_until: float | None = None,
                 turns: Turns | None = None, quick: Turns | None = None,
                 rejected: Callable[[QuoteRequest, Iterable[str]], Iterable[Unavailable]]
                 | None = None) -> None:
        self.req, self.col, self.settings = req, col, settings
        self.sources = {s.name: s for s in sources}
        self.graph_for, self.calls = graph_for, calls
        self.fetch: FirmFetch = calls.firm
        self.edges_until = edges_until  # loop time after which late bulk data is not waited for
        self.turns = turns if turns is not None else Turns()  # turns at the CPU (the search)
        self.quick = quick  # turns for the direct-only fallback while the search queue is long
        self.waiting_turn = False  # queued behind other requests' searches
        self.direct_only = False  # holds direct indicative routes only (the full search pending)
        self.rejected = rejected  # entries for this request's edges that validation left out
        self.sell, self.buy = from_id(req.sell), from_id(req.buy)
        self.edges_pending: set[str] = set(self.sources)
        self.ratios: dict[str, Decimal] = {}  # provider → firm/indicative ratio seen this request
        self.bands: dict[Market, Decimal] = {}  # direct market → how far its estimate may be off
        self.graph: Graph | None = None

    def _band(self, edge: Edge) -> Decimal:
        band = self.settings.band
        if edge.estimated:
            return max(band, _ESTIMATED, edge.margin)
        if edge.learnt:
            return max(band, _LEARNT)
        return band

    def _payout(self, market: Market) -> Fee | None:
        """The fee delivering ``market``'s output to the user's wallet (None: included/zero)."""
        if self.graph is None:
            return None
        fee, asset = self.graph.payout_fee(market.provider, from_id(market.asset_out), self.buy)
        return Fee("network", fee, asset) if fee > 0 else None

    def _amount(self, market: Market) -> Decimal:
        """What to ask ``market`` for: on the buy side, the payout fee comes on top."""
        payout = self._payout(market)
        if self.req.side == "buy" and payout is not None:
            return self.req.amount + payout.amount
        return self.req.amount

    async def run(self) -> None:
        lists = await self._edges()
        if not lists:
            return
        graph = await self.graph_for(lists, self.edges_until)
        self.graph = graph
        req = self.req
        # The search is pure CPU: with many requests ready at once, about one slice of it runs
        # per loop pass, so every deadline timer fires on time (a request still waiting for its
        # turn at its deadline answers from what it has) instead of making everyone late.
        self.waiting_turn = True
        if self.quick is not None and req.max_hops > 1 and not self.turns.free():
            # a queue for the CPU: first, on a lane of its own, the direct indicative routes (a
            # few edges priced), so an answer cut short by the deadline still ranks something
            await self.quick.turn()
            self._direct_routes(graph, lists)
        await self.turns.turn()
        self.waiting_turn = self.direct_only = False
        res = search(graph, self.sell, self.buy, req.amount, req.side, max_hops=req.max_hops,
                     rate_type=req.rate_type, providers=lists, limit=_MULTI_SHOWN)
        for note in res.left_out:
            self.col.note(note)
        for note in self.rejected(req, lists) if self.rejected is not None else ():
            self.col.note(note)
        direct: dict[str, list[tuple[Market, Quote]]] = {}
        for c in res.candidates:
            self.col.add_route(route_identity(c), candidate_route(c))
            if len(c.hops) == 1:
                h = c.hops[0]
                self.bands[h.edge.market] = self._band(h.edge)
                direct.setdefault(h.edge.market.provider, []).append(
                    (h.edge.market, edge_quote(h.edge, self._amount(h.edge.market), req.side)))
        blind = self._blind(graph, lists)
        involved = {p for c in res.candidates for p in c.providers} | set(blind)
        self.col.unserved(lists, involved, req)
        multi = [c for c in res.candidates if len(c.hops) > 1]
        # multi-hop legs are quoted one after the other: spend that time (and budget) only on
        # routes that beat every direct one on indicative data
        best_direct = next((c for c in res.candidates if len(c.hops) == 1), None)
        first = [c for c in multi if best_direct is None or _better(c, best_direct, req.side)]
        first = first[: self.settings.firm_routes]
        jobs = [self._guard(n, functools.partial(self._refine, self.sources[n], priced))
                for n, priced in direct.items()]
        jobs += [self._guard(n, functools.partial(self._blind_firm, self.sources[n], ms))
                 for n, ms in blind.items()]
        jobs += [self._guard(c.providers[0], functools.partial(self._firm_multi, graph, c))
                 for c in first]
        await asyncio.gather(*jobs)
        if multi and self.ratios:
            await self._second_pass(graph, [c for c in multi if c not in first])

    def _direct_routes(self, graph: Graph, lists: dict[str, Sequence[Edge]]) -> None:
        """The one-leg routes on the snapshot, indicative, into the collector."""
        req = self.req
        res = search(graph, self.sell, self.buy, req.amount, req.side, max_hops=1,
                     rate_type=req.rate_type, providers=lists, limit=_MULTI_SHOWN)
        for c in res.candidates:
            self.col.add_route(route_identity(c), candidate_route(c))
        self.direct_only = True

    async def _second_pass(self, graph: Graph, multi: list[Candidate]) -> None:
        """Calibrate the multi-hop routes not yet firm-priced by what the providers' firm answers
        revealed; firm-price those that still beat the best firm answer."""
        side = self.req.side
        rescored: list[tuple[Candidate, Route]] = []
        for c in multi:
            key = route_identity(c)
            route = calibrated_route(c, self.ratios, graph, side, self.req.amount)
            if route is None:
                self.col.drop_key(key)
                continue
            self.col.add_route(key, route)
            rescored.append((c, route))
        firm = [r for r in self.col.routes() if r.kind == "firm"]
        if not firm or not self.settings.firm_routes:
            return
        if side == "sell":
            bar = max(r.amount_out for r in firm)
            better = [c for c, r in rescored if r.amount_out > bar]
        else:
            bar = min(r.amount_in for r in firm)
            better = [c for c, r in rescored if r.amount_in < bar]
        await asyncio.gather(*(self._guard(c.providers[0], functools.partial(self._firm_multi, graph, c))
                               for c in better[: self.settings.firm_routes]))

    async def _guard(self, provider: str, make: Callable[[], Awaitable[None]]) -> None:
        """Run ``make()``; a source's bug must not sink the other sources' answers. The coroutine
        is created here, so a job cancelled before it starts leaves nothing un-awaited."""
        job = make()
        try:
            await job
        except ProviderError as exc:
            self.col.fail(provider, exc)
        except Exception as exc:  # noqa: BLE001 - a source's bug, reported not raised
            log.error("source %s raised %r", provider, type(exc).__name__)
            self.col.note(Unavailable(provider=provider, reason="provider_error",
                                      detail=f"internal error {type(exc).__name__}"))

    # -- phase 1 -------------------------------------------------------------------------------
    async def _edges(self) -> dict[str, Sequence[Edge]]:
        """Every source's edges, waiting for late ones only until ``edges_until`` (unless none
        has arrived by then): a stalled feed must not cost the other providers' firm quotes."""
        tasks = {name: self.calls.edges(s) for name, s in self.sources.items()}
        if not tasks:
            return {}
        try:
            if self.edges_until is None:
                await asyncio.wait(tasks.values())
            else:
                left = self.edges_until - asyncio.get_running_loop().time()
                await asyncio.wait(tasks.values(), timeout=max(0.0, left))
                if not any(t.done() for t in tasks.values()):
                    await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks.values():
                if not task.done():
                    task.cancel()  # sources share their bulk fetches: those go on, warming caches
        out = self.calls.settle_edges(tasks, [self.col])
        self.edges_pending.difference_update(tasks)
        return out

    def _blind(self, graph: Graph, lists: dict[str, Sequence[Edge]]) -> dict[str, list[Market]]:
        """Direct markets neither priced nor estimated: firm-quote them without a preview."""
        out: dict[str, list[Market]] = {}
        for e in graph.unpriced:
            m = e.market
            if m.provider not in lists:
                continue
            if self.req.rate_type != "any" and m.rate_type != self.req.rate_type:
                continue
            if not (self.sell.matches(from_id(m.asset_in)) and self.buy.matches(from_id(m.asset_out))):
                continue
            try:
                check_limits(e, self.req.amount, self.req.side)
            except AmountOutOfRange as exc:
                self.col.fail(m.provider, exc, m)
                continue
            out.setdefault(m.provider, []).append(m)
        return out

    # -- phase 3 -------------------------------------------------------------------------------
    async def _firm(self, source: QuoteSource, market: Market) -> Quote | None:
        """One firm quote for a direct market, recorded in the collector either way."""
        name, col = source.name, self.col
        try:
            quote = await self.fetch(source, market, self._amount(market), self.req.side)
        except ProviderError as exc:
            record_failure(col, name, exc, market)
            return None
        col.add(market, quote, self._payout(market))
        return quote

    async def _blind_firm(self, source: QuoteSource, markets: list[Market]) -> None:
        if not source.firm_quotes:
            # an indicative-only source whose bulk data could not price these markets (e.g. its
            # rate call was refused): ask it directly, so the reason is reported
            await asyncio.gather(*(self._indicative(source, m) for m in markets))
            return
        if not self.settings.firm_rounds:
            return
        limit = max(self.settings.firm_per_source, 4)
        await asyncio.gather(*(self._firm(source, m) for m in markets[:limit]))

    async def _indicative(self, source: QuoteSource, market: Market) -> None:
        try:
            quote = await self.calls.indicative(source, market, self._amount(market), self.req.side)
        except ProviderError as exc:
            self.col.fail(source.name, exc, market)
            return
        if quote is not None:
            self.col.add(market, quote, self._payout(market))

    async def _refine(self, source: QuoteSource, priced: list[tuple[Market, Quote]]) -> None:
        """Firm-quote a provider's most promising direct markets, best first, in rounds.

        A firm price can be worse than the bulk data said (size-dependent spread, a stale
        snapshot, an estimate that knows nothing of a chain's network fee). The first round asks
        the ``firm_per_source`` best and every other market whose estimate is within its band
        (:meth:`_band`) of the best estimate; after each round the remaining indicative prices are
        calibrated by what the firm answers revealed, and the next round asks every market whose
        calibrated estimate still comes within its band of the best firm answer.
        """
        if not source.firm_quotes:
            return
        side = self.req.side
        original = dict(priced)
        remaining = sorted(priced, key=lambda mq: quote_key(mq[1], side))
        k = self.settings.firm_per_source
        best: Quote | None = None
        ratios: dict[str, Decimal] = {}
        payout: dict[str, Decimal] = {}
        for n in range(self.settings.firm_rounds):
            if n == 0:  # the first k, and every market whose estimate is as good within its band
                top = remaining[0][1]
                take = [i < k or could_beat(q, top, side, self._band_of(m))
                        for i, (m, q) in enumerate(remaining)]
                picked = [i for i, t in enumerate(take) if t][:_ROUND_MAX]
                batch = [remaining[i] for i in picked]
                asked = set(picked)
                remaining = [mq for i, mq in enumerate(remaining) if i not in asked]
            else:  # every market still within its band of the best firm answer
                batch, remaining = remaining[:_ROUND_MAX], remaining[_ROUND_MAX:]
            quotes = await asyncio.gather(*(self._firm(source, m) for m, _ in batch))
            for (market, _), q in zip(batch, quotes):
                if q is None:
                    continue
                if best is None or quote_key(q, side) < quote_key(best, side):
                    best = q
                ratio = firm_ratio(original[market], q, side)
                if ratio is not None:
                    ratios.setdefault(market.rate_type, ratio)
                    self.ratios.setdefault(source.name, ratio)
                fee = payout_fee_of(q)
                if fee is not None:
                    payout.setdefault(q.asset_out, fee)
            if best is None or not remaining:
                return
            if ratios or payout:
                remaining = [(m, calibrate(original[m], _ratio(ratios, m), side,
                                           payout.get(original[m].asset_out)))
                             for m, _ in remaining]
                for m, q in remaining:
                    self.col.add(m, q, self._payout(m))
                remaining.sort(key=lambda mq: quote_key(mq[1], side))
            remaining = [(m, q) for m, q in remaining if could_beat(q, best, side, self._band_of(m))]
            if not remaining:
                return

    def _band_of(self, market: Market) -> Decimal:
        return self.bands.get(market, self.settings.band)

    async def _firm_multi(self, graph: Graph, c: Candidate) -> None:
        key = route_identity(c)
        try:
            route = await firm_route(c, self.sources, graph, self.req.side, self.req.amount,
                                     self.fetch, self.calls.indicative)
        except RouteFailed as failed:
            exc, hop = failed.cause, c.hops[failed.leg - 1].edge.market
            path = " > ".join(c.providers)
            if isinstance(exc, MARKET_OUT) or isinstance(exc, UNTRUSTED):
                self.col.drop_key(key)
            entry = self.col.entry(hop.provider, exc, hop)
            self.col.note(Unavailable(provider=entry.provider, reason=entry.reason,
                                      detail=f"route {path}, leg {failed.leg}: {entry.detail}",
                                      limit=entry.limit, asset=entry.asset,
                                      retry_after=entry.retry_after))
            return
        self.col.add_route(key, route)
        self._learn(c, route)

    def _learn(self, c: Candidate, route: Route) -> None:
        """Record, per provider, how a firm leg compared with its edge at the same amount."""
        side = self.req.side
        for hop, leg in zip(c.hops, route.legs):
            if leg.kind != "firm" or hop.edge.rate is None:
                continue
            firm = Quote(provider=leg.provider, asset_in=leg.asset_in, asset_out=leg.asset_out,
                         amount_in=leg.amount_in, amount_out=leg.amount_out,
                         rate_type=leg.rate_type, kind="firm", fees=leg.fees)
            try:
                ind = edge_quote(hop.edge, leg.amount_in if side == "sell" else leg.amount_out, side)
            except ProviderError:
                continue
            ratio = firm_ratio(ind, firm, side)
            if ratio is not None:
                self.ratios.setdefault(leg.provider, ratio)


def _better(a: Candidate, b: Candidate, side: Side) -> bool:
    return a.amount_out > b.amount_out if side == "sell" else a.amount_in < b.amount_in


def quote_key(q: Quote, side: Side) -> tuple[Decimal, str]:
    return (-q.amount_out if side == "sell" else q.amount_in, q.rate_type)


def could_beat(candidate: Quote, best: Quote, side: Side, band: Decimal) -> bool:
    """Is an indicative ``candidate`` within ``band`` (relative) of beating the firm ``best``?"""
    if side == "sell":
        return candidate.amount_out > best.amount_out * (1 - band)
    return candidate.amount_in < best.amount_in * (1 + band)


def _ratio(ratios: dict[str, Decimal], market: Market) -> Decimal:
    """The firm/indicative ratio seen for ``market``'s rate type, else any seen."""
    return ratios.get(market.rate_type) or next(iter(ratios.values()), Decimal(1))

