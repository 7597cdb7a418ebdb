"""FlyPay as a :class:`router.sources.protocol.QuoteSource`.

* ``markets()``: from the ``payways`` model (see :mod:`.feeds`): one ``float`` :class:`Market` per
  exchange pair and (input network, output network), ``ref`` = the ``exchange`` key
  (``btc_usdt``), assets canonical (``usdt`` on a ``trc20`` payway → ``USDT@TRC20``).
* ``edges()``: one :class:`Edge` per market from the same model (see :mod:`.edges`); the markets
  of one exchange key share its numbers. The same list while the model is unchanged.
* ``indicative()``: ``edge_quote`` of the market's edge, at no budget cost (the model itself costs
  1 unit at most once a minute); :class:`AmountOutOfRange` carries the pair's
  ``min_amount``/``max_amount``.
* ``firm()``: ``exchange/estimated_amount`` (1 unit). ``sell``: the amount as sent. ``buy``: the
  input is solved from the model (corrected by the spread last seen there at a similar size),
  confirmed with ``estimated_amount``, and raised and re-confirmed if short (at most 3 calls,
  usually 2); the quote reports the confirmed amounts, so ``amount_out`` may exceed the request
  (by rounding and a 0.01 % step). Limits are checked
  on the model first, so out-of-range amounts spend nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from functools import partial
from typing import Final

import aiohttp

from router.assets import Asset
from router.budgets import Budget, BudgetPolicy
from router.errors import (
    AmountOutOfRange,
    ProviderError,
    ProviderUnavailable,
    UnsupportedPair,
)
from router.model import Market, Quote, Side
from router.secret import Secret
from router.snapshot.edges import Edge, edge_quote

from ..base import ProviderSource, require_secret
from ..cache import KeyedTtlCache, TtlCache
from .client import FlyPayClient
from .constants import BASE_URL, DEFAULT_BUDGET_POLICY, NAME
from .edges import build_edges
from .feeds import PairModel, Payways, PaywaysCache
from .quotes import (
    check_estimate,
    check_limits,
    firm_quote,
    quantize,
    sell,
    solve_input,
)
from .wire import Estimate

__all__ = ["FlyPaySource"]

_DEFAULT_PLACES: Final = 8  # when neither FlyPay nor the asset table knows a precision
_BUY_CALLS: Final = 3  # estimated_amount calls a buy quote may spend
_OVERSHOOT: Final = Decimal("0.0001")  # added on each corrected buy input
_KEPT_ASKS: Final = 64  # past this many remembered asks, expired ones are dropped
_Ask = tuple[str, str, str, Decimal]  # (pair key, currency_from, currency_to, amount)


def _secret(value: Secret | str, field: str) -> Secret:
    return require_secret(value, f"{NAME}.{field}", "the key pair from FlyPay's support bot")


class FlyPaySource(ProviderSource[FlyPayClient]):
    """FlyPay quotes for the router. Build it from configuration fields ``api_key``,
    ``api_secret`` and optionally ``base_url`` (host, e.g. ``https://fly-pay.io``; a URL ending
    in ``/api/v1`` works too)."""

    def __init__(
        self,
        api_key: Secret | str,
        api_secret: Secret | str,
        *,
        base_url: str = BASE_URL,
        name: str = NAME,
        budget_policy: BudgetPolicy | None = None,
        payways_interval: float = 60.0,
        quote_ttl: float = 30.0,
        estimate_ttl: float = 5.0,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = _secret(api_key, "api_key")
        self._secret = _secret(api_secret, "api_secret")
        super().__init__(name=name, base_url=base_url,
                         policy=budget_policy or DEFAULT_BUDGET_POLICY, identity=self._key)
        self._payways_interval = payways_interval
        self._quote_ttl = quote_ttl
        self._estimate_ttl = estimate_ttl
        self._timeout = timeout
        self._clock = clock  # wall clock: observed_at, expires_at
        self._monotonic = monotonic  # when the payways model is due again
        self._payways: PaywaysCache | None = None
        self._markets: tuple[Payways | None, list[Market]] = (None, [])
        #: model → (its edges, the same by market): rebuilt only when the model is replaced.
        self._edges: tuple[Payways | None, list[Edge], dict[Market, Edge]] = (None, [], {})
        self._spread: dict[str, tuple[Decimal, Decimal]] = {}  # key → (input, firm/model)
        #: (pair key, from, to, amount) → its answer: identical concurrent or recent asks share one
        #: call, e.g. BTC→USDT@TRC20 and BTC→USDT@BSC are the same ``btc_usdt`` exchange.
        self._estimates: KeyedTtlCache[_Ask, Estimate] | None = None

    def _connect(self, session: aiohttp.ClientSession, budget: Budget) -> FlyPayClient:
        client = FlyPayClient(session, api_key=self._key, api_secret=self._secret, budget=budget,
                              base_url=self._base_url, timeout=self._timeout,
                              provider=self._name)
        self._estimates = self._own(KeyedTtlCache(partial(_estimate_cache, client,
                                                          self._estimate_ttl),
                                                  limit=_KEPT_ASKS))
        self._payways = self._own(PaywaysCache(client.payways,
                                               min_interval=self._payways_interval,
                                               provider=self._name, clock=self._monotonic,
                                               wall_clock=self._clock,
                                               persist=self._persisted("payways", Payways)))
        return client

    # -- model and markets --------------------------------------------------------------------
    async def payways(self) -> Payways:
        """The ``payways`` model (cached, single flight; raises :class:`ProviderError`)."""
        _ = self.client  # raises RuntimeError unless open
        assert self._payways is not None
        return await self._payways.get()

    async def markets(self) -> Sequence[Market]:
        return self._listing(await self.payways())

    def _listing(self, model: Payways) -> list[Market]:
        cached_for, cached = self._markets
        if cached_for is model:
            return cached
        markets: list[Market] = []
        seen: set[tuple[str, str]] = set()
        for pair in model.pairs.values():
            for a in model.inputs(pair.currency_from):
                for b in model.outputs(pair.currency_to):
                    if a == b or (a, b) in seen:
                        continue
                    seen.add((a, b))
                    markets.append(Market(self._name, a, b, "float", pair.key))
        self._markets = (model, markets)
        return markets

    async def edges(self) -> Sequence[Edge]:
        return self._edge_book(await self.payways())[0]

    def _edge_book(self, model: Payways) -> tuple[list[Edge], dict[Market, Edge]]:
        cached_for, edges, by_market = self._edges
        if cached_for is not model:
            edges = build_edges(self._listing(model), model, self._places)
            by_market = {edge.market: edge for edge in edges}
            self._edges = (model, edges, by_market)
        return edges, by_market

    def _edge(self, market: Market, model: Payways) -> Edge | None:
        """``market``'s edge (the one ``edges()`` lists, or built alike for another route of a
        known exchange); ``None`` if FlyPay has no such exchange. Always priced."""
        if market.provider != self._name or market.ref not in model.pairs:
            return None
        edge = self._edge_book(model)[1].get(market)
        return edge if edge is not None else build_edges([market], model, self._places)[0]

    def _pair(self, market: Market, model: Payways) -> PairModel:
        pair = model.pairs.get(market.ref) if market.provider == self._name else None
        if pair is None:
            raise UnsupportedPair(self._name, f"no {self._name} exchange {market.ref[:40]!r}")
        return pair

    def _places(self, places: int | None, asset: str) -> int:
        if places is not None:
            return places
        decimals = Asset.of(asset.partition("@")[0]).decimals
        return decimals if decimals is not None else _DEFAULT_PLACES

    # -- quotes -------------------------------------------------------------------------------
    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        _ = self.client
        try:
            model = await self.payways()
        except ProviderError:
            return None  # no bulk data now; firm() reports the reason
        edge = self._edge(market, model)  # every payways exchange entry has a rate
        return edge_quote(edge, amount, side) if edge is not None else None

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        pair = self._pair(market, await self.payways())  # raises RuntimeError unless open
        places_in = self._places(pair.places_from, market.asset_in)
        places_out = self._places(pair.places_to, market.asset_out)
        if side == "sell":
            asked = quantize(amount, places_in, ROUND_DOWN)
            if asked <= 0:
                raise AmountOutOfRange(self._name, "amount rounds to zero at FlyPay's precision",
                                       below_min=True, limit=pair.min, asset=market.asset_in)
            check_limits(self._name, market, pair, sell(pair, asked, places_out))
            est = await self._estimate(pair, asked, places_in)
        else:
            est = await self._buy(market, pair, amount, places_in, places_out)
        ratio = _ratio(est, sell(pair, est.amount_from, places_out).amount_out)
        if ratio is not None:
            self._spread[pair.key] = (est.amount_from, ratio)
        now = self._clock()
        return firm_quote(self._name, market, pair, est, places_in=places_in,
                          places_out=places_out, observed_at=now, expires_at=now + self._quote_ttl)

    async def _estimate(self, pair: PairModel, asked: Decimal, places_in: int) -> Estimate:
        """One ``estimated_amount`` answer for ``asked``, shared with identical asks in flight or
        made within ``estimate_ttl`` seconds (failures are not kept)."""
        assert self._estimates is not None  # open, as the caller checked
        est = await self._estimates.get((pair.key, pair.currency_from, pair.currency_to, asked))
        check_estimate(self._name, pair, asked, est, places_in)
        return est

    async def _buy(self, market: Market, pair: PairModel, amount: Decimal, places_in: int,
                   places_out: int) -> Estimate:
        """Solve the input for ``amount`` out, then confirm (and correct) with FlyPay.

        First guess: the model's input, corrected by the firm/model ratio last seen on the pair
        for a similar size; if FlyPay gives less than ``amount``, scale the input by the
        shortfall, then (third call) step along the secant of the two answers, a little over.
        """
        step = Decimal(1).scaleb(-places_in)
        asked = solve_input(pair, amount, places_in, places_out)
        seen = self._spread.get(pair.key)
        if seen is not None and 0 < seen[1] < 1 and seen[0] / 2 <= asked <= seen[0] * 2:
            asked = solve_input(pair, amount / seen[1], places_in, places_out)
        tried: list[Estimate] = []
        for _ in range(_BUY_CALLS):
            check_limits(self._name, market, pair, sell(pair, asked, places_out))
            est = await self._estimate(pair, asked, places_in)
            if est.amount_to >= amount:
                return est
            tried.append(est)
            asked = max(_next_input(tried, amount, places_in), asked + step)
        raise ProviderUnavailable(self._name, f"estimated_amount: no input found giving {amount} "
                                  f"{market.asset_out} in {_BUY_CALLS} tries")


def _next_input(tried: list[Estimate], amount: Decimal, places_in: int) -> Decimal:
    """The next input to try for ``amount`` out: scale the last answer by the shortfall, or step
    along the secant of the last two answers; a little over (0.01 %), as spreads grow with size."""
    last = tried[-1]
    guess = last.amount_from * amount / last.amount_to
    if len(tried) >= 2:
        prev = tried[-2]
        dy = last.amount_to - prev.amount_to
        if dy > 0:
            slope = (last.amount_from - prev.amount_from) / dy
            guess = max(guess, last.amount_from + (amount - last.amount_to) * slope)
    return quantize(guess * (1 + _OVERSHOOT), places_in, ROUND_CEILING)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _estimate_cache(client: FlyPayClient, ttl: float, ask: _Ask) -> TtlCache[Estimate]:
    """The cache of one ask: kept ``ttl`` seconds from when it was asked (loop time), shared
    while in flight, a failure never kept (the next ask calls again)."""
    _, currency_from, currency_to, amount = ask
    return TtlCache(partial(client.estimated_amount, currency_from, currency_to, amount),
                    ttl=ttl, retry=None, stale=None, from_start=True, clock=_loop_time)


def _ratio(est: Estimate, model_out: Decimal) -> Decimal | None:
    """Firm output over the model's for the same input, when both are positive."""
    if model_out <= 0:
        return None
    return est.amount_to / model_out
