"""FaTPay as a :class:`router.sources.protocol.QuoteSource`: a fiat → crypto on-ramp.

* ``markets()``: one ``float`` :class:`Market` per (fiat of the currency list) × (token of the
  token list), ``ref = "USD/USDT_ERC20"``; assets canonical (``USDT_ERC20`` → ``USDT@ERC20``,
  ``BNB_BSC`` → ``BNB``). Both lists are cached ``list_ttl`` seconds (10 min), single flight.
  Their paths and fields are undocumented, so a list FaTPay refuses (a 404) or answers in a
  layout we cannot read is replaced by the source's configured one (``tokens=``/``fiats=``,
  default :data:`~.constants.DEFAULT_TOKENS` × :data:`~.constants.DEFAULT_FIATS`, with no limits
  until ``price`` answers show them), logged once; a bad key or an outage is still reported.
* ``edges()``: one :class:`Edge` per market (:mod:`.edges`): the lists' fiat limits, ``rate=None``
  unless recent ``price`` answers taught the pair's price and fees.
* ``indicative()``: the lists carry limits but no prices, so a sell-side amount is checked against
  the edge's limits, those of the widest payment option (:class:`AmountOutOfRange` with FaTPay's
  figure, fiat units), and the answer is otherwise ``None``; buy-side amounts are in coin units.
* ``firm()`` sell side (fiat amount in): one ``price`` call (1 unit). Buy side (coin amount out):
  a first ``price`` call at a planned fiat amount (a probe in the middle of the limits, or an
  estimate from the pair's earlier answers), then a second at the amount that answer's unit price
  and fees say buys the target (:func:`.quotes.plan_fiat`); the confirmed quote has
  ``amount_out >= amount``: 2 units. A first answer already within ``buy_tolerance`` above the
  target is returned as is (1 unit). A second answer still short (the price moved with the size,
  or a blind probe could not tell the fixed fee from the percent) gets one more call (3 units).
  The answers teach the planner each pair's fees, so later buy quotes land a few bp above target.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import TypeVar

import aiohttp

from router.budgets import Budget, BudgetPolicy
from router.errors import (
    AmountOutOfRange,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    Rejected,
    UnsupportedPair,
)
from router.model import Market, Quote, Side
from router.secret import Secret
from router.snapshot.edges import Edge, check_limits

from ..base import ProviderSource, require_secret
from ..cache import TtlCache
from .auth import PrivateKey, Signer, random_nonce
from .client import FaTPayClient
from .constants import (
    BASE_URL,
    DEFAULT_BUDGET_POLICY,
    DEFAULT_FIAT_PLACES,
    DEFAULT_FIATS,
    DEFAULT_TOKENS,
    LEARNT_TTL,
    LIST_TTL,
    NAME,
)
from .edges import EdgeTable, list_places
from .feeds import check_fiat_amount, fiat_range
from .quotes import (
    Bounds,
    FeeBook,
    ceil_to,
    check_price,
    clamp,
    firm_quote,
    probe,
    quantize,
)
from .wire import FiatCurrency, PriceData, Token

__all__ = ["FaTPaySource"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

_FIRST_GUARD = Decimal("0.0005")  # plan this share above the target on the confirming call
_RETRY_GUARD = Decimal("0.001")  # and this much on a third call


def _secret(value: Secret | str, field: str, name: str) -> Secret:
    return require_secret(value, f"{name}.{field}", "the value FaTPay assigned the partner")


class FaTPaySource(ProviderSource[FaTPayClient]):
    """FaTPay quotes for the router. Build it from configuration fields ``partner_id``,
    ``private_key_pem`` (the partner's RSA key, PEM) and optionally ``base_url``."""

    def __init__(
        self,
        partner_id: Secret | str,
        private_key_pem: Secret | str,
        *,
        base_url: str = BASE_URL,
        name: str = NAME,
        budget_policy: BudgetPolicy | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = random_nonce,
        payment: str | None = None,
        list_ttl: float = LIST_TTL,
        learnt_ttl: float = LEARNT_TTL,
        quote_ttl: float = 30.0,
        buy_tolerance: Decimal = Decimal("0.001"),
        timeout: float = 15.0,
        budget_timeout: float | None = None,
        tokens: Sequence[str] = DEFAULT_TOKENS,
        fiats: Sequence[str] = DEFAULT_FIATS,
    ) -> None:
        self._partner = _secret(partner_id, "partner_id", name)
        pem = _secret(private_key_pem, "private_key_pem", name)
        self._key = PrivateKey.load(pem, field=f"{name}.private_key_pem")  # once, here
        super().__init__(name=name, base_url=base_url,
                         policy=budget_policy or DEFAULT_BUDGET_POLICY, identity=self._partner)
        self._clock = clock
        self._nonce = nonce
        self._payment = payment or None
        self._list_ttl = list_ttl
        self._quote_ttl = quote_ttl
        self._buy_tolerance = buy_tolerance
        self._timeout = timeout
        self._budget_timeout = budget_timeout
        self._fallback_tokens = [Token(code) for code in tokens]
        self._fallback_fiats = [FiatCurrency(code, precision=DEFAULT_FIAT_PLACES) for code in fiats]
        self._fell_back: set[str] = set()
        self._tokens: TtlCache[list[Token]] | None = None
        self._currencies: TtlCache[list[FiatCurrency]] | None = None
        self._book = FeeBook()  # what ``price`` answers showed, for the buy planner and edges
        self._table = EdgeTable(name, self._book, payment=self._payment, max_age=learnt_ttl,
                                clock=clock)

    def _connect(self, session: aiohttp.ClientSession, budget: Budget) -> FaTPayClient:
        signer = Signer(self._partner, self._key, clock=self._clock, nonce=self._nonce)
        client = FaTPayClient(session, signer=signer, budget=budget, base_url=self._base_url,
                              timeout=self._timeout, budget_timeout=self._budget_timeout,
                              provider=self._name, secrets=(self._partner.reveal(),))
        async def tokens() -> list[Token]:
            return await self._or_configured("token", client.tokens, self._fallback_tokens)

        async def currencies() -> list[FiatCurrency]:
            return await self._or_configured("currency", client.currencies, self._fallback_fiats)

        self._tokens = self._own(TtlCache(tokens, ttl=self._list_ttl, clock=self._clock,
                                          persist=self._persisted("tokens", list[Token])))
        self._currencies = self._own(TtlCache(
            currencies, ttl=self._list_ttl, clock=self._clock,
            persist=self._persisted("currencies", list[FiatCurrency])))
        return client

    async def _or_configured(self, what: str, fetch: Callable[[], Awaitable[list[_T]]],
                             configured: list[_T]) -> list[_T]:
        """FaTPay's ``what`` list, or the configured one when FaTPay refuses the path or answers
        in a layout we cannot read (said once per list); other failures propagate."""
        try:
            return await fetch()
        except (Rejected, MalformedResponse) as exc:
            if what not in self._fell_back:
                self._fell_back.add(what)
                _log.warning("%s: the %s list cannot be read (%s); using the %d configured "
                             "entries", self._name, what, exc, len(configured))
            return configured

    # -- lists and markets --------------------------------------------------------------------
    async def tokens(self) -> list[Token]:
        """The token list (cached, single flight)."""
        _ = self.client
        assert self._tokens is not None
        return await self._tokens.get()

    async def currencies(self) -> list[FiatCurrency]:
        """The currency list with payment options (cached, single flight)."""
        _ = self.client
        assert self._currencies is not None
        return await self._currencies.get()

    async def markets(self) -> Sequence[Market]:
        tokens, fiats = await asyncio.gather(self.tokens(), self.currencies())
        return self._table.markets(tokens, fiats)

    async def edges(self) -> Sequence[Edge]:
        """One :class:`Edge` per market (see :mod:`.edges`): the same list object until the lists
        refresh or a ``price`` answer teaches something new."""
        tokens, fiats = await asyncio.gather(self.tokens(), self.currencies())
        assert self._tokens is not None and self._currencies is not None
        times = [t for t in (self._tokens.fetched_at, self._currencies.fetched_at) if t is not None]
        return self._table.edges(tokens, fiats, min(times) if times else None)

    def _ref(self, market: Market) -> tuple[str, str]:
        fiat, sep, code = market.ref.partition("/")
        if market.provider != self._name or not sep or not fiat or not code:
            raise UnsupportedPair(self._name, f"not a {self._name} market: {market.ref!r}")
        return fiat, code

    async def _currency(self, fiat: str) -> FiatCurrency | None:
        """``fiat``'s entry of the currency list; ``None`` if the list cannot be had.

        :class:`UnsupportedPair` if the list is known and does not name ``fiat``."""
        try:
            fiats = await self.currencies()
        except ProviderError:
            return None
        for entry in fiats:
            if entry.fiatCurrency.upper() == fiat.upper():
                return entry
        raise UnsupportedPair(self._name, f"fiat {fiat[:8]!r} is not in the currency list")

    def _token_places(self, code: str) -> int | None:
        tokens = self._tokens.peek() if self._tokens is not None else None
        for token in tokens or ():
            if token.cryptoCurrencyCode == code:
                return list_places(token.precision, 18) if token.precision is not None else None
        return None

    # -- quotes -------------------------------------------------------------------------------
    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        """Limits only, through the market's edge: a fiat amount outside them raises
        :class:`AmountOutOfRange` with FaTPay's figure; the answer is otherwise ``None``. A coin
        amount (buy side) is not checked: the edge's limits are all in fiat. A learnt price on
        the edge (see :mod:`.edges`) is for the route search, not an indicative quote."""
        self._ref(market)
        _ = self.client
        try:
            await self.edges()
        except ProviderError:
            return None  # no lists: nothing to check against (the firm quote will tell)
        edge = self._table.find(market)
        if edge is None:
            raise UnsupportedPair(self._name, f"{market.ref[:40]!r} is not a listed market")
        check_limits(edge, amount, side)
        return None

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        fiat, code = self._ref(market)
        _ = self.client
        currency = await self._currency(fiat)
        places = list_places(currency.precision if currency else None, DEFAULT_FIAT_PLACES)
        bounds: Bounds = fiat_range(currency, self._payment) if currency else (None, None)
        if side == "sell":
            asked = quantize(amount, places, ROUND_DOWN)
            if asked <= 0:
                raise AmountOutOfRange(self._name, "amount rounds to zero at FaTPay's precision",
                                       below_min=True, limit=bounds[0], asset=market.asset_in)
            check_fiat_amount(self._name, asked, market.asset_in, bounds, what="amount")
            data = await self._price(market, fiat, code, asked, places)
            return self._quote(market, data, bounds)
        return await self._buy(market, fiat, code, amount, places, bounds)

    async def _price(self, market: Market, fiat: str, code: str, amount: Decimal,
                     places: int) -> PriceData:
        """One checked ``price`` call; remembers what it showed (buy planner, learnt edges)."""
        data = await self.client.price(fiat, amount, code, self._payment)
        check_price(self._name, fiat, code, amount, places, data)
        if data.options:
            check_fiat_amount(self._name, data.currencyAmount, market.asset_in,
                              fiat_range(data.options, self._payment), what="quoted amount")
        self._book.record((fiat, code), data, at=self._clock())
        return data

    def _quote(self, market: Market, data: PriceData, bounds: Bounds) -> Quote:
        now = self._clock()
        return firm_quote(market, data, observed_at=now, expires_at=now + self._quote_ttl,
                          bounds=bounds)

    async def _buy(self, market: Market, fiat: str, code: str, target: Decimal, places: int,
                   bounds: Bounds) -> Quote:
        """A firm quote buying at least ``target`` coins (see the module docstring)."""
        coin_places = self._token_places(code)
        if coin_places is not None:
            target = ceil_to(target, coin_places)
        if target <= 0:
            raise AmountOutOfRange(self._name, "amount is not positive", below_min=True)
        low, high = bounds
        key = (fiat, code)
        planned = self._book.plan(key, target, _FIRST_GUARD, places)
        first = planned if planned is not None else probe(bounds, places)
        data = await self._price(market, fiat, code, clamp(first, bounds, places), places)
        got = data.cryptoCurrencyAmount
        if planned is not None and target <= got <= target * (1 + self._buy_tolerance):
            return self._quote(market, data, bounds)
        best = data if got >= target else None  # enough, but maybe more fiat than needed
        tolerance = target * (1 + self._buy_tolerance)
        for guard in (_FIRST_GUARD, _RETRY_GUARD):
            spent = data.currencyAmount
            if got < target and high is not None and spent >= high:
                raise self._limit(market, below=False, limit=high, what=f"buying {target}")
            nxt = self._book.plan(key, target, guard, places)
            assert nxt is not None  # we just saw an answer
            if got < target:
                nxt = max(nxt, spent + Decimal(1).scaleb(-places))
            elif nxt >= spent:
                break  # the answer in hand is as good as the plan
            if low is not None and nxt < low:
                # here ``got >= target``: every call asks at least ``low``
                if spent <= low and got <= tolerance:
                    break  # the minimum buys just about the target
                exact = self._book.exact(key)
                if spent <= low or (exact and nxt < low * (1 - self._buy_tolerance)):
                    raise self._limit(market, below=True, limit=low, what=f"buying {target}")
                nxt = low  # the plan may be optimistic: see what the minimum buys
            nxt = min(nxt, high) if high is not None else nxt  # a last look at the maximum
            data = await self._price(market, fiat, code, nxt, places)
            got = data.cryptoCurrencyAmount
            if got >= target:
                if nxt == low and got > tolerance:
                    raise self._limit(market, below=True, limit=low, what=f"buying {target}")
                return self._quote(market, data, bounds)
        if best is not None:
            return self._quote(market, best, bounds)
        if high is not None and data.currencyAmount >= high:
            raise self._limit(market, below=False, limit=high, what=f"buying {target}")
        raise ProviderUnavailable(self._name, "price: the price moved while quoting the buy side")

    def _limit(self, market: Market, *, below: bool, limit: Decimal,
               what: str) -> AmountOutOfRange:
        word = "minimum" if below else "maximum"
        return AmountOutOfRange(self._name, f"{what} needs fiat {'below' if below else 'above'} "
                                f"the {word} {limit} {market.asset_in}", below_min=below,
                                limit=limit, asset=market.asset_in)
