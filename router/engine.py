"""The :class:`Router`: route search and firm quotes across every source, under a deadline.

Each request runs an :class:`~router.pricing.answer.Answer` (edges → search → firm quotes); everything
arrives in a :class:`Collector`, and at the deadline the router ranks what it has and reports the
sources still working as ``timeout``. A provider failure is never an exception to the caller; bad
input is (:class:`InvalidRequest`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any

import aiohttp

from router.assets import Asset, from_id
from router.budgets import BudgetRegistry, BudgetStore, budget_deadline
from router.errors import InvalidRequest, ProviderError
from router.model import (
    Amount,
    QuoteRequest,
    RateTypeFilter,
    RouteSet,
    Side,
    Unavailable,
)
from router.pricing.answer import Answer, Settings
from router.pricing.batch import BatchStats, quote_many
from router.pricing.collect import Collector
from router.pricing.cost import with_costs
from router.pricing.rank import rank_routes
from router.request.parse import make_request, parse_deadline, requests_of
from router.snapshot.edges import Edge
from router.snapshot.feemodel import FeeModel, load_fee_model
from router.snapshot.graph import Graph
from router.snapshot.screening import DEFAULT as PLAUSIBLE
from router.snapshot.screening import (
    Plausibility,
    ScreenCache,
    Screened,
    rejected_entries,
    screen_steps,
)
from router.sources.bulkstore import BulkStore
from router.sources.calls import Calls, CallStats, References
from router.sources.firmcache import MemoryQuoteCache, QuoteCache
from router.sources.health import Health
from router.sources.protocol import QuoteSource, SourceContext
from router.sources.tasks import TaskSet
from router.steps import Turns, drive_async

__all__ = ["Router"]

log = logging.getLogger("bestrate.router")

#: After the deadline cancels a quote's work, how long (seconds of loop time) it may unwind before
#: the answer goes out anyway: a quote answers by its deadline plus this grace.
DEADLINE_GRACE = 0.002
#: Replaced edge lists remembered per source, to know an older list when a late request brings it.
_RETIRED_KEPT = 4
#: Share of the deadline spent waiting for every source's bulk data before going on without it.
_EDGES_SHARE = 0.5


class Router:
    """Finds the best routes across ``sources``.

    ``budgets``: a :class:`BudgetStore` or :class:`BudgetRegistry` (in-memory by default).
    ``cache``: a :class:`QuoteCache` for firm quotes (in-memory by default, ``False`` disables).
    ``firm_per_source``: how many of a source's best indicative markets are firm-quoted per round;
    ``firm_rounds``: how many rounds at most (another round only when an indicative price still
    beats the best firm one, or comes within ``error_band`` of it: indicative prices are
    estimates); ``firm_rounds=0`` answers from bulk data only. ``firm_routes``: how many of the
    best multi-hop routes are firm-priced leg by leg. ``fees``: the fee and limit model (the
    shipped defaults when None). ``bulk``: a :class:`~router.sources.bulkstore.BulkStore` (or a
    directory for one) where sources keep bulk data between runs (none by default; the CLI uses
    ``<cache dir>/bulk``).

    Reliability (:mod:`router.sources.calls`): ``hedge`` sends one duplicate of a slow or transiently
    failed firm-quote call (after ``hedge_delay`` seconds, default ``max(0.3, deadline / 3)``)
    when time and budget allow; ``health``: the providers' circuit breakers (a :class:`Health`,
    ``None`` for the default, ``False`` for none); ``plausibility``: the bounds answers are
    validated against (:mod:`router.snapshot.screening`).
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
        firm_routes: int = 2,
        error_band: Decimal | str = "0",
        fees: FeeModel | None = None,
        session: aiohttp.ClientSession | None = None,
        hedge: bool = True,
        hedge_delay: float | None = None,
        health: Health | None | bool = None,
        plausibility: Plausibility = PLAUSIBLE,
        bulk: BulkStore | str | os.PathLike[str] | None = None,
    ) -> None:
        self._bulk = bulk if isinstance(bulk, BulkStore) or bulk is None else BulkStore(bulk)
        self._sources: dict[str, QuoteSource] = {}
        for source in sources:
            if source.name in self._sources:
                raise InvalidRequest("sources", f"two sources named {source.name!r}",
                                     "one source per provider name")
            self._sources[source.name] = source
        # a registry passed in belongs to the caller; one built here (from a store or nothing) is
        # closed with the router, and closes its store
        self._own_budgets = not isinstance(budgets, BudgetRegistry)
        self._budgets = budgets if isinstance(budgets, BudgetRegistry) else BudgetRegistry(budgets)
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
        self._settings = Settings(firm_per_source=max(1, firm_per_source),
                                  firm_rounds=max(0, firm_rounds),
                                  firm_routes=max(0, firm_routes), band=Decimal(error_band))
        self._fees = fees if fees is not None else load_fee_model()
        self._screen: tuple[dict[str, Sequence[Edge]], Screened] | None = None  # lists, checks
        self._screen_cache = ScreenCache()  # per-source checks, kept while a source is unchanged
        self._building: asyncio.Task[None] | None = None  # the snapshot build in flight
        self._turns = Turns()  # turns at the CPU for this router's requests (router.steps)
        # ... for their direct-only fallbacks, a lane of its own: a few edges priced per turn
        self._quick = Turns(wake=32)
        self._wanted: dict[str, Sequence[Edge]] | None = None  # the lists the next build is for
        self._retired: dict[str, deque[Sequence[Edge]]] = {}  # lists replaced, newest last
        self._hedge, self._hedge_delay = hedge, hedge_delay
        self._health = Health() if health is None or health is True else (health or None)
        self._plausibility = plausibility
        self._tasks = TaskSet()
        self.stats = CallStats()
        self._session = session
        self._own_session = session is None
        self._state = "new"

    @classmethod
    @contextlib.asynccontextmanager
    async def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        sandbox: bool = False,
        **options: Any,
    ) -> AsyncIterator[Router]:
        """A router built from ``bestrate.toml`` and the ``BESTRATE_*`` environment by exactly
        the ``bestrate`` command's rules (:mod:`router.face.build`, which the command uses too).

        Use it as an async context manager: ``async with Router.from_config() as r:`` yields
        the router already open, and on leaving closes it together with everything the
        configuration made for it (the budget store, and the embedded sandbox's emulators).

        ``path``: the TOML file (``None``: ``./bestrate.toml`` when it exists; a path given must
        exist). ``env``: the environment to read (``os.environ`` by default). Providers with all
        their credentials set are used live; with none, or with ``sandbox=True``, the embedded
        sandbox is started in-process (seed ``BESTRATE_SANDBOX_SEED``). Budgets: ``local`` live,
        ``memory`` on the sandbox, or ``[budgets] store``. ``options`` are further
        :class:`Router` keyword arguments, which win over the configuration. Bad configuration
        raises :class:`~router.errors.ConfigError` (an :class:`InvalidRequest`) naming the key.

        The provider adapters (``adapters``) and the sandbox (``bench``) are imported inside this
        method, not at module level: imports point down (bench -> adapters -> router)."""
        from router.face.build import load, open_parts

        config, specs = load(path, env)
        async with open_parts(config, specs, sandbox=sandbox, notice=log.info) as parts:
            router = cls(parts.sources, **{**parts.router_options(), **options})
            async with router:
                yield router

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self._sources)

    @property
    def budgets(self) -> BudgetRegistry:
        return self._budgets

    @property
    def snapshots(self) -> dict[str, int]:
        """Graph snapshots made so far: ``built`` (every edge screened) and ``patched`` (a
        source's changed edges swapped into the one before; :mod:`router.snapshot.screening`)."""
        return {"built": self._screen_cache.built, "patched": self._screen_cache.patched}

    @property
    def health(self) -> Health | None:
        """The providers' circuit breakers (``None`` when disabled)."""
        return self._health

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
        ctx = SourceContext(session=self._session, budgets=self._budgets, bulk=self._bulk)
        await asyncio.gather(*(s.open(ctx) for s in self._sources.values()))

    async def warm(self, *, freeze_gc: bool = False) -> None:
        """Load every source's market list and bulk data and build the graph snapshot now, so
        the first quote is fast.

        ``freeze_gc=True`` then moves everything the process holds so far into the garbage
        collector's permanent generation (:func:`gc.freeze`, after one collection), so later
        collections no longer walk it: in a long-running app that warms once at start, the
        longest pauses shrink several times (see the README's engine figures). It is
        process-wide, so it is the app's choice, off by default."""
        lists: dict[str, Sequence[Edge]] = {}

        async def one(s: QuoteSource) -> None:
            try:
                lists[s.name] = await s.edges()
            except ProviderError as exc:
                log.info("warm-up of %s failed: %s", s.name, exc.reason)
        await asyncio.gather(*(one(s) for s in self._sources.values()))
        if lists:
            await self._graph_for({n: lists[n] for n in self._sources if n in lists})
        if freeze_gc:
            gc.collect()
            gc.freeze()

    async def aclose(self) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        await self._tasks.aclose()
        await asyncio.gather(*(s.aclose() for s in self._sources.values()), return_exceptions=True)
        if self._cache is not None:
            await self._cache.aclose()
        if self._own_session and self._session is not None:
            await self._session.close()
        if self._own_budgets:
            await self._budgets.aclose()

    def request(
        self,
        sell: str | Asset,
        buy: str | Asset,
        amount: Amount,
        *,
        side: Side = "sell",
        rate_type: RateTypeFilter = "any",
        max_hops: int = 2,
        providers: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] = (),
    ) -> QuoteRequest:
        """Validate a request without running it (raises :class:`InvalidRequest`)."""
        return make_request(sell, buy, amount, side=side, rate_type=rate_type, max_hops=max_hops,
                            providers=providers, exclude=exclude, known_providers=self._sources)

    async def quote(
        self,
        sell: str | Asset,
        buy: str | Asset,
        amount: Amount,
        *,
        side: Side = "sell",
        rate_type: RateTypeFilter = "any",
        max_hops: int = 2,
        deadline: float | Decimal | str | None = None,
        providers: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] = (),
    ) -> RouteSet:
        """Best routes to turn ``amount`` of ``sell`` into ``buy`` (see the module docstring).

        ``sell``/``buy``: canonical asset ids (``"BTC"``, ``"USDT@TRC20"``) or :class:`Asset`;
        ``amount``: what you send (``side="sell"``) or want to receive (``side="buy"``), as a
        ``Decimal``, ``int`` or decimal string (a ``float`` is refused: it is not exact);
        ``rate_type``: ``"any"``, ``"fixed"`` or ``"float"``; ``max_hops``: 1 to 3 legs;
        ``deadline``: seconds (the router's default when None); ``providers``/``exclude``: names,
        a list or a comma-separated string. Anything else raises :class:`InvalidRequest` (the
        values are checked at run time too, whatever the annotations)."""
        req = self.request(sell, buy, amount, side=side, rate_type=rate_type, max_hops=max_hops,
                           providers=providers, exclude=exclude)
        seconds = parse_deadline(deadline)
        return await self.run(req, deadline=seconds)

    async def run(self, req: QuoteRequest, *, deadline: float | None = None) -> RouteSet:
        """Answer a validated request, by the deadline whatever the sources do."""
        if self._state != "open":
            raise RuntimeError("Router is not open: use `async with Router(...)`")
        loop = asyncio.get_running_loop()
        started = loop.time()
        total = deadline if deadline is not None else self._deadline
        until = started + total
        collector = Collector()
        sell, buy = from_id(req.sell), from_id(req.buy)
        if collector.same_asset(sell, buy):
            return self._finish(req, collector, started)
        chosen, probes = self._admit(req, collector)
        calls = self._calls(collector, until, total)
        answer = Answer(req, chosen, collector, self._settings, self._graph_for, calls,
                        edges_until=started + total * _EDGES_SHARE, rejected=self._rejected,
                        turns=self._turns, quick=self._quick)
        token = budget_deadline.set(until)
        try:
            task = asyncio.ensure_future(answer.run())
        finally:
            budget_deadline.reset(token)
        try:
            done, _ = await asyncio.wait({task}, timeout=max(0.0, until - loop.time()))
        except asyncio.CancelledError:  # our caller gave up: so do we, at once
            calls.closed = True
            task.cancel()
            self._tasks.adopt(task)
            self._release(probes)
            raise
        calls.closed = True  # whatever still runs may not start another provider call
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=DEADLINE_GRACE)
            self._tasks.adopt(task)  # a source slow to unwind finishes on its own
            if answer.waiting_turn:  # our own part was the bottleneck, not a provider
                found = ("direct routes only, indicative: no multi-hop search or firm quote"
                         if answer.direct_only else "no route search")
                collector.note(Unavailable(
                    provider="*", reason="overloaded",
                    detail=f"the router was busy with other requests: {found} within {total:.3g}s"))
            late = set(answer.edges_pending) | set(collector.pending_providers())
            for name in sorted(late):
                waiting = collector.pending(name)
                detail = f"no answer within {total:.3g}s"
                if waiting:
                    detail += f" ({len(waiting)} firm quote(s) outstanding)"
                collector.note(Unavailable(provider=name, reason="timeout", detail=detail))
                calls.timed_out(name)
        elif not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("quote failed inside the engine: %r", type(exc).__name__)
            collector.note(Unavailable(provider="*", reason="provider_error",
                                       detail=f"internal error {type(exc).__name__}"))
        self._release(probes)
        return self._finish(req, collector, started)

    def _admit(self, req: QuoteRequest, col: Collector) -> tuple[list[QuoteSource], list[str]]:
        """The sources this request may use: chosen, and not behind an open circuit."""
        names = [n for n in self._sources if (req.providers is None or n in req.providers)
                 and n not in req.exclude]
        if self._health is None:
            return [self._sources[n] for n in names], []
        allowed, skipped, probes = self._health.admit_all(names)
        for entry in skipped:
            col.note(entry)
        self.stats.skipped_unhealthy += len(skipped)
        return [self._sources[n] for n in allowed], probes

    def _release(self, probes: list[str]) -> None:
        if self._health is not None:
            self._health.release_all(probes)

    def _calls(self, col: Collector, until: float | None, total: float | None) -> Calls:
        return Calls(tasks=self._tasks, health=self._health, budgets=self._budgets,
                     cache=self._cache, refs=self._references, stats=self.stats, col=col,
                     until=until, total=total, hedge=self._hedge, hedge_delay=self._hedge_delay,
                     plausibility=self._plausibility)

    def quote_many(
        self,
        requests: Iterable[QuoteRequest | Mapping[str, object]],
        *,
        band: Decimal | str = "0.005",
        concurrency: int = 16,
        confirm: bool = True,
        firm: bool = True,
        stats: BatchStats | None = None,
    ) -> AsyncIterator[tuple[QuoteRequest, RouteSet]]:
        """Answer many queries within the budgets; ``(request, RouteSet)`` in input order.

        ``requests``: :class:`QuoteRequest` objects or mappings with ``sell``, ``buy``, ``amount``
        and optionally ``side``, ``rate_type``, ``max_hops``, ``providers``, ``exclude``. All are
        validated before anything is asked (:class:`InvalidRequest` names the first bad one).
        ``band``: runner-ups within this share of the winner are firm-quoted first (the
        indicative error band). ``confirm``: spend leftover budget confirming uncontested winners.
        ``firm=False``: bulk data only, no firm quotes. ``stats``: a :class:`BatchStats` filled
        in as the batch runs (units, phases).
        """
        if self._state != "open":
            raise RuntimeError("Router is not open: use `async with Router(...)`")
        validated = requests_of(requests, self.request)
        return quote_many(validated, sources=list(self._sources.values()),
                          graph_for=self._graph_for, fetch=self._fetch_for,
                          calls=self._calls(Collector(), None, None), bulk_deadline=self._deadline,
                          turns=self._turns,
                          band=Decimal(band), concurrency=concurrency, confirm=confirm, firm=firm,
                          stats=stats)

    async def _graph_for(self, lists: dict[str, Sequence[Edge]],
                         until: float | None = None) -> Graph:
        """An asset graph holding the edges in ``lists`` that pass validation.

        The snapshot holds the latest edges of every source seen (a request's search keeps to
        its own sources). When some source's edges changed, one background build at a time
        makes a new snapshot, in steps that never hold the loop for more than a slice
        (:mod:`router.steps`), and swaps it in whole. A request goes on at once with the
        snapshot current when it starts; it waits for the build only when that snapshot has
        no edges at all of one of its sources (until ``until``, loop time, at most), or when
        there is no snapshot yet or no ``until`` (a batch)."""
        hit = self._cached_graph(lists)
        if hit is not None:
            return hit
        base = self._wanted if self._wanted is not None else \
            (self._screen[0] if self._screen is not None else {})
        self._wanted = self._newest(base, lists)
        build = self._ensure_build()
        current = self._screen
        if current is None or until is None:
            await asyncio.shield(build)
        elif not lists.keys() <= current[0].keys():  # a source this snapshot cannot serve
            left = until - asyncio.get_running_loop().time()
            if left > 0:
                await asyncio.wait({build}, timeout=left)
        hit = self._cached_graph(lists)
        if hit is not None:
            return hit
        if self._screen is None:  # the build failed: its error is this request's
            build.result()
            raise RuntimeError("graph build ended without a graph")  # pragma: no cover
        return self._screen[1].graph

    def _newest(self, base: Mapping[str, Sequence[Edge]],
                lists: Mapping[str, Sequence[Edge]]) -> dict[str, Sequence[Edge]]:
        """``base`` with ``lists`` over it, except a list its source has since replaced: a
        request that fetched a source's edges before the source re-published (it waited for a
        slower one) must not bring the older edges back into the snapshot."""
        merged = dict(base)
        for name, lst in lists.items():
            retired = self._retired.setdefault(name, deque(maxlen=_RETIRED_KEPT))
            if any(lst is old for old in retired):
                continue  # an older list than the one held
            held = merged.get(name)
            if held is not None and held is not lst:
                retired.append(held)
            merged[name] = lst
        return merged

    def _ensure_build(self) -> asyncio.Task[None]:
        if self._building is None or self._building.done():
            self._building = self._tasks.spawn(self._build())
        return self._building

    async def _build(self) -> None:
        """Build snapshots until one holds the latest lists the requests asked for."""
        while self._wanted is not None and self._cached_graph(self._wanted) is None:
            lists = self._wanted
            try:
                screened = await drive_async(screen_steps(lists, self._fees, self._plausibility,
                                                          self._screen_cache))
            except Exception as exc:  # a bug of ours: said once here, the old snapshot stays
                log.error("graph snapshot build failed: %r", type(exc).__name__)
                raise
            for edge, why in screened.rejected[:20]:
                log.info("%s edge %s->%s left out: %s", edge.market.provider,
                         edge.market.asset_in, edge.market.asset_out, why)
            self._screen = (lists, screened)
        self._wanted = None

    def _cached_graph(self, lists: Mapping[str, Sequence[Edge]]) -> Graph | None:
        """The current snapshot's graph if it holds exactly these lists (by identity)."""
        cached = self._screen
        if cached is not None and all(cached[0].get(n) is lst for n, lst in lists.items()):
            return cached[1].graph
        return None

    def _references(self) -> References:
        screened = self._screen
        if screened is None:
            return References.empty()
        return References(screened[1].graph.values, screened[1].quanta)

    def _fetch_for(self, col: Collector):  # type: ignore[no-untyped-def]
        """The firm-quote call of a batch (no deadline: never hedged)."""
        return self._calls(col, None, None).firm

    def _rejected(self, req: QuoteRequest, providers: Iterable[str]) -> list[Unavailable]:
        """Entries for ``providers``' edges of this pair that validation left out."""
        screened = self._screen
        return [] if screened is None else rejected_entries(screened[1], req, providers)

    def _finish(self, req: QuoteRequest, collector: Collector, started: float) -> RouteSet:
        screened = self._screen
        routes = with_costs(rank_routes(collector.routes(), req.side),
                            screened[1].graph.values if screened is not None else None)
        elapsed = (asyncio.get_running_loop().time() - started) * 1000
        return RouteSet(request=req, routes=routes, unavailable=collector.unavailable(),
                        elapsed_ms=round(elapsed, 3))
