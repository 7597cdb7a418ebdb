"""GatePay convert as a :class:`router.sources.protocol.QuoteSource`.

* ``markets()``: one :class:`Market` per direction the pair lists give, ``rate_type="fixed"`` (a
  preview locks a ``quoteId``), ``ref = "SELL/BUY"`` in GatePay codes, canonical ids of balances in
  the account (``Asset.of(coin).id``: a coin on its home chain, ``BTC@BTC``; a token bare,
  ``USDT``: the chain it leaves on is the payout's); from the lists (cached ``lists_ttl``
  seconds, single flight; 1 + one unit per currency per read).
* ``edges()``: one unpriced :class:`~router.snapshot.edges.Edge` per market (the lists carry limits but no
  prices; see :mod:`~.edges`), the same tuple while the lists are unchanged, a new one when they
  are read again. Errors as ``markets()``.
* ``indicative()``: checks the amount through the market's edge (plus the buy-side minimum the
  edge cannot hold), raising :class:`AmountOutOfRange` with GatePay's figure, and otherwise
  returns ``None``; no budget unless the lists are due.
* ``firm()``: the same check, then one ``preview`` (1 unit) → a firm quote with ``quote_id`` =
  ``quoteId`` and ``expires_at`` = now + ``quote_ttl`` (20 s). Side ``sell`` asks with
  ``sellAmount``, side ``buy`` with ``buyAmount``, so the requested amount is exact on its side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal

import aiohttp

from router.budgets import Budget, BudgetPolicy
from router.errors import (
    AmountOutOfRange,
    InvalidRequest,
    ProviderError,
    UnsupportedPair,
)
from router.model import Market, Quote, Side
from router.secret import Secret
from router.snapshot.edges import Edge

from ..base import ProviderSource, require_secret
from ..cache import TtlCache
from .client import GatePayClient
from .constants import BASE_URL, DEFAULT_BUDGET_POLICY, NAME, QUOTE_TTL
from .edges import Views, build_views, check_edge
from .feeds import (
    Catalog,
    PairLimits,
    check_amount,
    decode_catalog,
    encode_catalog,
    fetch_catalog,
)
from .quotes import asked_amount, check_preview, firm_quote

__all__ = ["GatePaySource"]

_LISTS_RETRY = 30.0  # after a failed read of the lists, keep the old ones this long


def _secret(value: Secret | str, field: str) -> Secret:
    return require_secret(value, f"{NAME}.{field}", "the value from Gate Pay's merchant console")


class GatePaySource(ProviderSource[GatePayClient]):
    """GatePay convert quotes for the router. Build it from configuration fields ``client_id``,
    ``api_secret`` (the payment API secret) and optionally ``base_url``."""

    def __init__(
        self,
        client_id: Secret | str,
        api_secret: Secret | str,
        *,
        base_url: str = BASE_URL,
        name: str = NAME,
        budget_policy: BudgetPolicy | None = None,
        lists_ttl: float = 600.0,
        quote_ttl: float = QUOTE_TTL,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_id = _secret(client_id, "client_id")
        self._secret = _secret(api_secret, "api_secret")
        super().__init__(name=name, base_url=base_url,
                         policy=budget_policy or DEFAULT_BUDGET_POLICY, identity=self._client_id)
        self._lists_ttl = lists_ttl
        self._quote_ttl = quote_ttl
        self._timeout = timeout
        self._clock = clock
        self._lists: TtlCache[Catalog] | None = None
        self._views: Views | None = None

    def _connect(self, session: aiohttp.ClientSession, budget: Budget) -> GatePayClient:
        client = GatePayClient(session, client_id=self._client_id, api_secret=self._secret,
                               budget=budget, base_url=self._base_url, timeout=self._timeout,
                               provider=self._name, clock=self._clock)
        self._lists = self._own(TtlCache(lambda: fetch_catalog(client, self._clock),
                                         ttl=self._lists_ttl, retry=_LISTS_RETRY,
                                         clock=self._clock,
                                         persist=self._persisted("pairs", encode=encode_catalog,
                                                                 decode=decode_catalog)))
        return client

    # -- lists and markets --------------------------------------------------------------------
    async def catalog(self) -> Catalog:
        """The pair lists (cached ``lists_ttl`` seconds, single flight; see :mod:`.feeds`)."""
        _ = self.client  # raises RuntimeError unless open
        assert self._lists is not None
        return await self._lists.get()

    async def _current(self) -> Views:
        """Markets and edges of the current catalog, rebuilt only when the lists were re-read."""
        catalog = await self.catalog()
        views = self._views
        if views is None or views.catalog is not catalog:
            views = self._views = build_views(self._name, catalog)
        return views

    async def markets(self) -> Sequence[Market]:
        return (await self._current()).markets

    async def edges(self) -> Sequence[Edge]:
        return (await self._current()).edges

    def _codes(self, market: Market) -> tuple[str, str]:
        sell, sep, buy = market.ref.partition("/")
        if market.provider != self._name or not sep or not sell or not buy:
            raise UnsupportedPair(self._name, f"not a {self._name} market: {market.ref!r}")
        return sell, buy

    async def _pair(self, market: Market) -> PairLimits | None:
        """The market's listed pair; ``None`` when the lists cannot be read right now."""
        sell, buy = self._codes(market)
        try:
            catalog = await self.catalog()
        except ProviderError:
            return None
        pair = catalog.get(sell, buy)
        if pair is None:
            raise UnsupportedPair(self._name, f"{market.ref} is not in the pair lists")
        return pair

    # -- quotes -------------------------------------------------------------------------------
    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        sell, buy = self._codes(market)
        try:
            views = await self._current()
        except ProviderError:
            return None  # lists unreadable: nothing to check against
        edge, pair = views.by_codes.get((sell, buy)), views.catalog.get(sell, buy)
        if edge is None or pair is None:
            raise UnsupportedPair(self._name, f"{market.ref} is not in the pair lists")
        check_edge(edge, pair, amount, side)
        return None  # unpriced edge (the lists carry no prices): the engine firm-quotes

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        client = self.client
        pair = await self._pair(market)
        if pair is None:  # lists unreadable: quote anyway, GatePay checks its own limits
            sell, buy = self._codes(market)
            pair = PairLimits(sell, buy, market.asset_in, market.asset_out)
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise InvalidRequest("amount", f"must be a positive finite Decimal, got {amount!r}")
        asked = asked_amount(market, amount, side)
        if asked <= 0:
            limit = pair.sell_min if side == "sell" else pair.buy_min
            raise AmountOutOfRange(self._name, "amount rounds to zero at GatePay's precision",
                                   below_min=True, limit=limit,
                                   asset=market.asset_in if side == "sell" else market.asset_out)
        check_amount(self._name, pair, asked, side)
        if side == "sell":
            preview = await client.preview(pair.sell, pair.buy, sell_amount=asked)
        else:
            preview = await client.preview(pair.sell, pair.buy, buy_amount=asked)
        check_preview(self._name, pair, side, asked, preview)
        now = self._clock()
        return firm_quote(market, pair, preview, observed_at=now, expires_at=now + self._quote_ttl)
