"""FixedFloat as a :class:`router.sources.protocol.QuoteSource`.

* ``markets()``: one :class:`Market` per directed pair and rate type, ``ref = "FROM/TO"`` in
  FixedFloat codes, assets canonical via :meth:`Asset.of`; from ``ccies`` (cached ``ccies_ttl``
  seconds, single-flight; ``recv`` false cannot be ``from``, ``send`` false cannot be ``to``),
  intersected with the pairs each rates export lists when that export is available.
* ``edges()``: one :class:`Edge` per market from the rates exports (see :mod:`.edges`), the same
  list object until ``ccies``, an export (a refetch, even a 304, moves ``observed_at``) or a
  figure learnt from ``price`` (a precision, a payout fee the export omits) changes.
* ``indicative()``: ``edge_quote`` on the market's edge, at no budget cost; ``None`` (after the
  limit check) for a market the export does not price.
* ``firm()``: one ``price`` call (1 budget unit); ``data.errors`` become errors carrying the
  provider's figure; impossible answers raise :class:`MalformedResponse`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import TypeVar

import aiohttp

from router.assets import Asset
from router.budgets import Budget, BudgetPolicy
from router.errors import AmountOutOfRange, ProviderError, UnsupportedPair
from router.model import Market, Quote, RateType, Side
from router.secret import Secret
from router.snapshot.edges import Edge, check_limits, edge_quote

from ..base import ProviderSource, require_secret
from ..cache import TtlCache
from .client import Direction, FixedFloatClient
from .constants import (
    BASE_URL,
    DEFAULT_BUDGET_POLICY,
    DOC_RATES_PATH,
    NAME,
    RATES_PATHS,
)
from .edges import build_edges, market_edge, split_ref
from .feeds import Feed, FeedCache, decode_feed, encode_feed
from .quotes import check_price, data_error, fees, quantize
from .wire import Currency, PriceData

__all__ = ["FixedFloatSource"]

_T = TypeVar("_T")

_RATE_TYPES: tuple[RateType, ...] = ("fixed", "float")
_MAX_PLACES = 8  # FixedFloat shows at most 8 decimals (its doc's ``precision``)
_CCIES_RETRY = 30.0  # after a failed ``ccies`` refresh, keep the old list this long


def _same(cached: object, key: tuple[object, ...]) -> bool:
    """Whether a cache ``key`` of objects is, item by item, the very same objects."""
    return isinstance(cached, tuple) and len(cached) == len(key) and all(
        a is b for a, b in zip(cached, key, strict=True))


def _secret(value: Secret | str, field: str) -> Secret:
    return require_secret(value, f"{NAME}.{field}", "the value from FixedFloat's API page")


class FixedFloatSource(ProviderSource[FixedFloatClient]):
    """FixedFloat quotes for the router. Build it from configuration fields ``api_key``,
    ``api_secret`` and optionally ``base_url`` (the rates exports default to the same host)."""

    def __init__(
        self,
        api_key: Secret | str,
        api_secret: Secret | str,
        *,
        base_url: str = BASE_URL,
        rates_base_url: str | None = None,
        name: str = NAME,
        budget_policy: BudgetPolicy | None = None,
        feed_interval: float = 60.0,
        ccies_ttl: float = 3600.0,
        quote_ttl: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = _secret(api_key, "api_key")
        self._secret = _secret(api_secret, "api_secret")
        super().__init__(name=name, base_url=base_url,
                         policy=budget_policy or DEFAULT_BUDGET_POLICY, identity=self._key)
        self._rates_base_url = (rates_base_url or base_url).rstrip("/")
        self._feed_interval = feed_interval
        self._ccies_ttl = ccies_ttl
        self._quote_ttl = quote_ttl
        self._clock = clock
        self._feeds: dict[RateType, FeedCache] = {}
        self._ccies: TtlCache[list[Currency]] | None = None
        self._places: dict[str, int] = {}  # FixedFloat code → precision, learnt from ``price``
        self._payout_fees: dict[str, Decimal] = {}  # ``to`` code → network fee seen in ``price``
        self._learnt = object()  # replaced whenever a learnt precision or payout fee changes
        self._listed: tuple[object, list[Market], Mapping[RateType, Feed | None]] = ((), [], {})
        self._edges: tuple[object, list[Edge]] = ((), [])

    def _connect(self, session: aiohttp.ClientSession, budget: Budget) -> FixedFloatClient:
        client = FixedFloatClient(session, api_key=self._key, api_secret=self._secret,
                                  budget=budget, base_url=self._base_url, provider=self._name)
        self._ccies = self._own(TtlCache(client.ccies, ttl=self._ccies_ttl, retry=_CCIES_RETRY,
                                         clock=self._clock,
                                         persist=self._persisted("ccies", list[Currency])))
        self._feeds = {
            t: self._own(FeedCache(session, self._rates_base_url + RATES_PATHS[t], t,
                                   min_interval=self._feed_interval, provider=self._name,
                                   fallback_url=(self._rates_base_url + DOC_RATES_PATH
                                                 if t == "fixed" else None),
                                   persist=self._persisted(f"rates-{t}", encode=encode_feed,
                                                           decode=decode_feed)))
            for t in _RATE_TYPES
        }
        return client

    # -- currencies and markets ---------------------------------------------------------------
    async def currencies(self) -> list[Currency]:
        """``ccies``, cached for ``ccies_ttl`` seconds; concurrent callers share one call.

        After a failure the last list (or, with none, the error) is served for 30 s before the
        next try, so a bad key or a paused budget is not asked again on every call."""
        _ = self.client  # raises RuntimeError unless open
        assert self._ccies is not None
        return await self._ccies.get()

    async def _feed(self, rate_type: RateType) -> Feed | None:
        try:
            return await self._feeds[rate_type].get()
        except ProviderError:
            return None

    async def markets(self) -> Sequence[Market]:
        return (await self._listing())[0]

    async def _listing(self) -> tuple[list[Market], Mapping[RateType, Feed | None]]:
        """The markets and the exports they were built from; rebuilt only when ``ccies`` or an
        export changes."""
        ccies = await self.currencies()
        feeds = dict(zip(_RATE_TYPES, await asyncio.gather(*map(self._feed, _RATE_TYPES)),
                         strict=True))
        key = (ccies, *feeds.values())
        cached_key, cached, cached_feeds = self._listed
        if _same(cached_key, key):
            return cached, cached_feeds
        sources = [c for c in ccies if c.recv]
        targets = [c for c in ccies if c.send]
        markets: list[Market] = []
        for rate_type, feed in feeds.items():
            listed = None
            if feed is not None and not feed.codes.isdisjoint(c.code for c in ccies):
                listed = feed.items  # the export and ``ccies`` speak the same codes
            seen: set[tuple[str, str]] = set()
            for a in sources:
                for b in targets:
                    pair = (a.asset_id, b.asset_id)
                    if pair[0] == pair[1] or pair in seen:
                        continue
                    if listed is not None and (a.code, b.code) not in listed:
                        continue
                    seen.add(pair)
                    markets.append(Market(self._name, pair[0], pair[1], rate_type,
                                          f"{a.code}/{b.code}"))
        self._listed = (key, markets, feeds)
        return markets, feeds

    async def edges(self) -> Sequence[Edge]:
        markets, feeds = await self._listing()
        key = (markets, self._learnt)
        cached_key, cached = self._edges
        if _same(cached_key, key):
            return cached
        edges = build_edges(markets, feeds, self._places_of, self._payout_fees)
        if edges == cached:  # what was learnt changed no edge: the router's snapshot stands
            edges = cached
        self._edges = (key, edges)
        return edges

    # -- quotes -------------------------------------------------------------------------------
    def _ref(self, market: Market) -> tuple[str, str]:
        ref = split_ref(market)
        if market.provider != self._name or ref is None:
            raise UnsupportedPair(self._name, f"not a {self._name} market: {market.ref!r}")
        return ref

    def _places_of(self, code: str, asset: str) -> int:
        """Decimals FixedFloat accepts for ``code``: learnt from ``price``, else the asset's."""
        known = self._places.get(code)
        if known is not None:
            return known
        decimals = Asset.of(asset.partition("@")[0]).decimals
        return min(decimals if decimals is not None else _MAX_PLACES, _MAX_PLACES)

    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        src, dst = self._ref(market)
        _ = self.client  # raises RuntimeError unless open
        edge = market_edge(market, (src, dst), await self._feed(market.rate_type),
                           places_in=self._places_of(src, market.asset_in),
                           places_out=self._places_of(dst, market.asset_out),
                           payout_fee=self._payout_fees.get(dst))  # as edges() builds it
        if edge.rate is None:
            check_limits(edge, amount, side)
            return None
        return edge_quote(edge, amount, side)

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        src, dst = self._ref(market)
        client = self.client
        if side == "sell":
            asked = quantize(amount, self._places_of(src, market.asset_in), ROUND_DOWN)
        else:
            asked = quantize(amount, self._places_of(dst, market.asset_out), ROUND_CEILING)
        if asked <= 0:
            raise AmountOutOfRange(self._name, "amount rounds to zero at FixedFloat's precision",
                                   below_min=True)
        direction: Direction = "from" if side == "sell" else "to"
        data = await client.price(market.rate_type, src, dst, direction, asked)
        for part, code in ((data.from_, src), (data.to, dst)):
            if part.code == code and part.precision is not None and 0 <= part.precision <= 18:
                self._learn(self._places, code, part.precision)  # cut later amounts to FF's
        error = data_error(self._name, market, side, data)
        if error is not None:
            raise error
        check_price(self._name, (src, dst), side, asked, data)
        network_fee = self._network_fee(market, src, dst, data)
        if network_fee is not None:
            self._learn(self._payout_fees, dst, network_fee)
        now = self._clock()
        itemised = fees(market, data.to.amount, network_fee, self._places_of(dst, market.asset_out))
        return data.to_quote(market, fees=itemised, observed_at=now,
                             expires_at=now + self._quote_ttl)

    def _learn(self, figures: dict[str, _T], code: str, value: _T) -> None:
        """Remember a figure a ``price`` answer taught; a change invalidates ``edges()``."""
        if figures.get(code) != value:
            figures[code] = value
            self._learnt = object()

    def _network_fee(self, market: Market, src: str, dst: str, data: PriceData) -> Decimal | None:
        """The payout fee: the export's ``tofee`` when known, else what the answer implies."""
        cache = self._feeds.get(market.rate_type)
        feed = cache.peek() if cache is not None else None
        item = feed.get(src, dst) if feed is not None else None
        if item is not None and item.tofee is not None:
            # a fee that eats the whole payout is not one: a garbled export (never learnt)
            return item.tofee if item.tofee < data.to.amount else None
        rate = data.from_.rate
        if rate is None or rate <= 0:
            return None
        try:
            implied = quantize(data.from_.amount * rate - data.to.amount,
                               self._places_of(dst, market.asset_out))
        except ArithmeticError:  # an absurd rate: nothing to learn from it
            return None
        return implied if 0 < implied < data.to.amount else None
