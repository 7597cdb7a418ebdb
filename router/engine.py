"""The :class:`Router`: parallel fan-out to every source that serves the pair, under a deadline.

For each source: its markets matching the request are priced from bulk data first (indicative, no
budget), then the most promising ones are firm-quoted (budget permitting) and replace their
indicative price. Everything arrives in a :class:`Collector`; at the deadline the router ranks what
it has and reports sources still working as ``timeout``. A provider failure is never an exception
to the caller; bad input is (:class:`InvalidRequest`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from types import TracebackType

import aiohttp

from .assets import Asset, from_id
from .calibrate import calibrate, firm_ratio
from .budgets import BudgetRegistry, BudgetStore, budget_deadline
from .cache import MemoryQuoteCache, QuoteCache
from .collect import Collector
from .errors import (
    AmountOutOfRange,
    AuthError,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    SignatureInvalid,
    UnsupportedPair,
)
from .model import Market, Quote, QuoteRequest, RouteSet, Side, Unavailable
from .rank import rank_routes
from .source import QuoteSource, SourceContext
from .validate import make_request, parse_deadline

__all__ = ["Router"]

log = logging.getLogger("bestrate.router")

#: Errors after which nothing from that provider is trusted for this call.
_UNTRUSTED = (SignatureInvalid, MalformedResponse, AuthError)
#: Errors that rule out one market (that amount cannot go through it).
_MARKET_OUT = (AmountOutOfRange, UnsupportedPair)


class Router:
    """Finds the best routes across ``sources``.

    ``budgets``: a :class:`BudgetStore` or :class:`BudgetRegistry` (in-memory by default).
    ``cache``: a :class:`QuoteCache` for firm quotes (in-memory by default, ``False`` disables).
    ``firm_per_source``: how many of a source's best indicative markets are firm-quoted per round;
    ``firm_rounds``: how many rounds at most (another round only when an indicative price still
    beats the best firm one, or comes within ``error_band`` of it: indicative prices are
    estimates); ``firm_rounds=0`` answers from bulk data only.
    """

    def __init__(
        self,
        sources: Iterable[QuoteSource],
        *,
        budgets: BudgetStore | BudgetRegistry | None = None,
        cache: QuoteCache | None | bool = None,
        deadline: float = 5.0,
        firm_per_source: int = 2,
        firm_rounds: int = 2,
        error_band: Decimal | str = "0",
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._sources: dict[str, QuoteSource] = {}
        for source in sources:
            if source.name in self._sources:
                raise InvalidRequest("sources", f"two sources named {source.name!r}",
                                     "one source per provider name")
            self._sources[source.name] = source
        if isinstance(budgets, BudgetRegistry):
            self._budgets = budgets
        else:
            self._budgets = BudgetRegistry(budgets)
        self._cache: QuoteCache | None
        if cache is None or cache is True:
            self._cache = MemoryQuoteCache()
        elif cache is False:
            self._cache = None
        else:
            self._cache = cache
        default = parse_deadline(deadline, "deadline")
        assert default is not None
        self._deadline = default
        self._firm_per_source = max(1, firm_per_source)
        self._firm_rounds = max(0, firm_rounds)
        self._band = Decimal(error_band)
        self._session = session
        self._own_session = session is None
        self._state = "new"

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self._sources)

    @property
    def budgets(self) -> BudgetRegistry:
        return self._budgets

    async def __aenter__(self) -> Router:
        await self.open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        if self._state != "new":
            raise RuntimeError(f"Router is {self._state}; open it once")
        self._state = "open"
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=50, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)
        ctx = SourceContext(session=self._session, budgets=self._budgets)
        await asyncio.gather(*(s.open(ctx) for s in self._sources.values()))

    async def warm(self) -> None:
        """Load every source's market list and bulk data now, so the first quote is fast."""
        async def one(s: QuoteSource) -> None:
            try:
                await s.markets()
            except ProviderError as exc:
                log.info("warm-up of %s failed: %s", s.name, exc.reason)
        await asyncio.gather(*(one(s) for s in self._sources.values()))

    async def aclose(self) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        await asyncio.gather(*(s.aclose() for s in self._sources.values()), return_exceptions=True)
        if self._cache is not None:
            await self._cache.aclose()
        if self._own_session and self._session is not None:
            await self._session.close()

    def request(self, sell: object, buy: object, amount: object, **options: object) -> QuoteRequest:
        """Validate a request without running it (raises :class:`InvalidRequest`)."""
        return make_request(sell, buy, amount, known_providers=self._sources, **options)  # type: ignore[arg-type]

    async def quote(
        self,
        sell: object,
        buy: object,
        amount: object,
        *,
        side: object = "sell",
        rate_type: object = "any",
        max_hops: object = 2,
        deadline: object = None,
        providers: object = None,
        exclude: object = (),
    ) -> RouteSet:
        """Best routes to turn ``amount`` of ``sell`` into ``buy`` (see the module docstring)."""
        req = self.request(sell, buy, amount, side=side, rate_type=rate_type, max_hops=max_hops,
                           providers=providers, exclude=exclude)
        seconds = parse_deadline(deadline)
        return await self.run(req, deadline=seconds)

    async def run(self, req: QuoteRequest, *, deadline: float | None = None) -> RouteSet:
        """Answer a validated request."""
        if self._state != "open":
            raise RuntimeError("Router is not open: use `async with Router(...)`")
        loop = asyncio.get_running_loop()
        started = loop.time()
        until = started + (deadline if deadline is not None else self._deadline)
        collector = Collector()
        sell, buy = from_id(req.sell), from_id(req.buy)
        if sell.coin == buy.coin and (sell.network is None or buy.network is None
                                      or sell.network == buy.network):
            collector.note(Unavailable(provider="*", reason="unsupported_pair",
                                       detail="sell and buy are the same asset"))
            return self._finish(req, collector, started)
        chosen = [s for n, s in self._sources.items()
                  if (req.providers is None or n in req.providers) and n not in req.exclude]
        token = budget_deadline.set(until)
        try:
            tasks = {asyncio.ensure_future(self._one_source(s, req, sell, buy, collector)): s
                     for s in chosen}
        finally:
            budget_deadline.reset(token)
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=max(0.0, until - loop.time()))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
            for task in tasks:
                if not task.cancelled() and task.exception() is not None:
                    exc = task.exception()
                    log.error("source %s raised %r", tasks[task].name, type(exc).__name__)
                    collector.note(Unavailable(provider=tasks[task].name, reason="provider_error",
                                               detail=f"internal error {type(exc).__name__}"))
            for task in pending:
                name = tasks[task].name
                waiting = collector.pending(name)
                detail = f"no answer within {until - started:.3g}s"
                if waiting:
                    detail += f" ({len(waiting)} firm quote(s) outstanding)"
                collector.note(Unavailable(provider=name, reason="timeout", detail=detail))
        return self._finish(req, collector, started)

    def _finish(self, req: QuoteRequest, collector: Collector, started: float) -> RouteSet:
        routes = rank_routes(collector.routes(), req.side)
        elapsed = (asyncio.get_running_loop().time() - started) * 1000
        return RouteSet(request=req, routes=routes, unavailable=collector.unavailable(),
                        elapsed_ms=round(elapsed, 3))

    async def _one_source(
        self, source: QuoteSource, req: QuoteRequest, sell: Asset, buy: Asset, col: Collector
    ) -> None:
        name = source.name
        try:
            markets = await source.markets()
        except ProviderError as exc:
            col.fail(name, exc)
            return
        cands = _matching(markets, sell, buy, req)
        if not cands:
            col.note(Unavailable(provider=name, reason="unsupported_pair",
                                 detail=f"{req.sell}->{req.buy}"))
            return
        priced: list[tuple[Market, Quote]] = []
        out_of_range: set[Market] = set()
        for market in cands:
            try:
                quote = await source.indicative(market, req.amount, req.side)
            except _MARKET_OUT as exc:
                out_of_range.add(market)
                col.fail(name, exc, market)
                continue
            except ProviderError as exc:
                col.fail(name, exc, market)
                continue
            if quote is not None:
                priced.append((market, quote))
                col.add(market, quote)
        if not getattr(source, "firm_quotes", True):
            return  # a source whose prices are all indicative (e.g. an amount-independent rate)
        if not priced:
            blind = [m for m in cands if m not in out_of_range][: max(self._firm_per_source, 4)]
            if blind and self._firm_rounds:
                await asyncio.gather(*(self._firm(source, m, req, col) for m in blind))
            return
        await self._refine(source, priced, req, col)

    async def _refine(
        self, source: QuoteSource, priced: list[tuple[Market, Quote]], req: QuoteRequest, col: Collector
    ) -> None:
        """Firm-quote the most promising markets, best indicative first, in rounds.

        A firm price can be worse than the feed said (size-dependent spread, a stale snapshot).
        When the next indicative price still beats the best firm one, another round is spent, up
        to ``firm_rounds``; a round that gets no firm answer (budget, outage) ends the search.
        """
        side = req.side
        original = dict(priced)
        remaining = sorted(priced, key=lambda mq: _quote_key(mq[1], side))
        k = self._firm_per_source
        best: Quote | None = None
        ratios: dict[str, Decimal] = {}
        payout: dict[str, Decimal] = {}  # network fee per asset_out that firm answers revealed
        for _ in range(self._firm_rounds):
            batch, remaining = remaining[:k], remaining[k:]
            quotes = await asyncio.gather(*(self._firm(source, m, req, col) for m, _ in batch))
            for (market, _), q in zip(batch, quotes):
                if q is None:
                    continue
                if best is None or _quote_key(q, side) < _quote_key(best, side):
                    best = q
                ratio = firm_ratio(original[market], q, side)
                if ratio is not None:
                    ratios.setdefault(market.rate_type, ratio)
                for f in q.fees:
                    if f.kind == "network" and f.asset == q.asset_out:
                        payout.setdefault(q.asset_out, f.amount)
            if best is None or not remaining:
                return  # no firm answer this round (budget, outage), or nothing left to try
            if ratios or payout:
                remaining = [(m, calibrate(original[m], _ratio(ratios, m), side,
                                           payout.get(original[m].asset_out)))
                             for m, _ in remaining]
                for m, q in remaining:
                    col.add(m, q)
                remaining.sort(key=lambda mq: _quote_key(mq[1], side))
            if not _could_beat(remaining[0][1], best, side, self._band):
                return

    async def _firm(
        self, source: QuoteSource, market: Market, req: QuoteRequest, col: Collector
    ) -> Quote | None:
        name = source.name
        col.start(name, market)
        try:
            if self._cache is not None:
                key = (name, market, req.amount, req.side)
                quote = await self._cache.get_or_fetch(
                    key, lambda: source.firm(market, req.amount, req.side))
            else:
                quote = await source.firm(market, req.amount, req.side)
        except _MARKET_OUT as exc:
            col.drop(market)
            col.fail(name, exc, market)
            if isinstance(exc, AmountOutOfRange):
                col.drop_beyond(name, exc)
        except _UNTRUSTED as exc:
            col.drop_provider(name)
            col.fail(name, exc, market)
        except ProviderError as exc:  # transient: the indicative price (if any) stays, labelled so
            col.fail(name, exc, market)
        else:
            col.add(market, quote)
            col.finish(name, market)
            return quote
        # not in a ``finally``: a call cancelled at the deadline stays pending, reported as timeout
        col.finish(name, market)
        return None




def _matching(markets: Sequence[Market], sell: Asset, buy: Asset, req: QuoteRequest) -> list[Market]:
    out = []
    for m in markets:
        if req.rate_type != "any" and m.rate_type != req.rate_type:
            continue
        if sell.matches(from_id(m.asset_in)) and buy.matches(from_id(m.asset_out)):
            out.append(m)
    return out


def _quote_key(q: Quote, side: Side) -> tuple[Decimal, str]:
    return (-q.amount_out if side == "sell" else q.amount_in, q.rate_type)



def _could_beat(candidate: Quote, best: Quote, side: Side, band: Decimal) -> bool:
    """Is an indicative ``candidate`` within ``band`` (relative) of beating the firm ``best``?"""
    if side == "sell":
        return candidate.amount_out > best.amount_out * (1 - band)
    return candidate.amount_in < best.amount_in * (1 + band)


def _ratio(ratios: dict[str, Decimal], market: Market) -> Decimal:
    """The firm/indicative ratio seen for ``market``'s rate type, else any seen."""
    return ratios.get(market.rate_type) or next(iter(ratios.values()), Decimal(1))
