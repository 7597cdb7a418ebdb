"""1BitPay as a :class:`router.sources.protocol.QuoteSource` (indicative only: ``firm_quotes = False``).

* ``markets()``: for each configured fiat, ``FIAT → USDT@TRC20`` (ref ``"CNY/USDT"``, an
  ``otc/create`` buy order) and ``USDT@TRC20 → FIAT`` (ref ``"USDT/CNY"``, a sell order), rate
  type ``float``. Static: no call is spent.
* ``edges()``: one :class:`~router.snapshot.edges.Edge` per market (see :mod:`.edges`), from every fiat's
  ``otc/rate`` answer, read concurrently (1 unit per fiat per refresh, through the same cache as
  ``indicative()``). A fiat whose rate cannot be read gets unpriced edges (``rate=None``, limits
  only) instead of failing the call; if no fiat can be read, the first fiat's error is raised. The
  same tuple is returned until some fiat's answer changes (a refresh, or a failure or recovery).
* ``indicative()``: prices from the pair's ``otc/rate`` answer (1 budget unit, cached up to 30 s,
  one request in flight per pair; see :mod:`.feeds`) through the market's edge and
  :func:`router.snapshot.edges.edge_quote` (see :mod:`.quotes`). Below the configured
  minimum volume it raises :class:`AmountOutOfRange` with the figure in fiat units; when the fiat
  amount is known up front this happens before any call is spent. ``legalAmount`` takes whole
  fiat units only (the doc: 不支持小数), so a fiat amount such as ``2000.55 CNY`` is priced as
  the order that can be placed for it: ``cryptoAmount = 2000.55 / buyRate`` down to 1e-6 USDT,
  which costs at most the amount given (the route's ``amount_in`` stays what was asked).
* ``firm()``: 1BitPay has no firm price before an order, so the router never calls it; if called
  it re-reads the rate (1 unit, bypassing the cache) and still answers ``kind="indicative"``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

import aiohttp

from router.assets import Asset
from router.budgets import Budget, BudgetPolicy
from router.errors import AmountOutOfRange, ConfigError, ProviderError, UnsupportedPair
from router.model import Market, Quote, Side
from router.secret import Secret
from router.snapshot.edges import Edge

from ..base import ProviderSource, require_secret
from .client import OneBitPayClient
from .constants import (
    BASE_URL,
    CRYPTO,
    CRYPTO_ASSET,
    DEFAULT_BUDGET_POLICY,
    DEFAULT_FIATS,
    DEFAULT_MIN_VOLUME,
    NAME,
    RATE_TTL,
)
from .edges import is_onramp, priced_edges, unpriced_edges
from .feeds import RateCache, RateSnapshot
from .quotes import edge_indicative

__all__ = ["OneBitPaySource"]

_FIAT_RE = re.compile(r"^[A-Z]{3}$")


def _secret(value: Secret | str, field: str) -> Secret:
    return require_secret(value, f"{NAME}.{field}",
                          "the value from 1BitPay's merchant back office (ApiKey page)")


def _fiats(fiats: Iterable[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(f.strip().upper() for f in fiats))
    bad = [f for f in out if not _FIAT_RE.match(f)]
    if bad or not out:
        raise ConfigError(f"{NAME}.fiats", f"not ISO 4217 codes: {bad}" if bad else "is empty",
                          "codes such as CNY, USD, EUR, RUB")
    return out


def _minimums(given: Mapping[str, Decimal | int | str] | None) -> dict[str, Decimal]:
    merged: dict[str, Decimal] = dict(DEFAULT_MIN_VOLUME)
    for fiat, value in (given or {}).items():
        try:  # a float would carry binary noise into money: refused like any other non-decimal
            figure = Decimal("NaN") if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            figure = Decimal("NaN")
        if not figure.is_finite() or figure < 0:
            raise ConfigError(f"{NAME}.min_volume.{fiat}", f"is {value!r}",
                              "a decimal >= 0 (fiat units)")
        merged[fiat.upper()] = figure
    return merged


class OneBitPaySource(ProviderSource[OneBitPayClient]):
    """1BitPay quotes for the router. Build it from configuration fields ``merchant_no``,
    ``api_key``, ``api_secret`` and optionally ``base_url``.

    ``fiats`` lists the fiat currencies offered; ``min_volume`` overrides the per-fiat minimum
    (fiat units; defaults in :data:`~.constants.DEFAULT_MIN_VOLUME`, an assumption).
    """

    #: ``otc/rate`` is amount-independent: every price is indicative, the router never firm-quotes.
    firm_quotes = False

    def __init__(
        self,
        merchant_no: Secret | str,
        api_key: Secret | str,
        api_secret: Secret | str,
        *,
        base_url: str = BASE_URL,
        name: str = NAME,
        budget_policy: BudgetPolicy | None = None,
        clock: Callable[[], float] = time.time,
        fiats: Iterable[str] = DEFAULT_FIATS,
        min_volume: Mapping[str, Decimal | int | str] | None = None,
        rate_ttl: float = RATE_TTL,
        timeout: float = 15.0,
    ) -> None:
        self._merchant_no = _secret(merchant_no, "merchant_no")
        self._key = _secret(api_key, "api_key")
        self._secret = _secret(api_secret, "api_secret")
        super().__init__(name=name, base_url=base_url,
                         policy=budget_policy or DEFAULT_BUDGET_POLICY, identity=self._key)
        self._clock = clock
        self._fiats = _fiats(fiats)
        self._min_volume = _minimums(min_volume)
        if not 0 <= rate_ttl <= RATE_TTL:
            raise ConfigError(f"{NAME}.rate_ttl", f"is {rate_ttl!r}", f"0..{RATE_TTL:g} seconds")
        self._rate_ttl = rate_ttl
        self._timeout = timeout
        pairs = {fiat: self._market_pair(fiat) for fiat in self._fiats}
        self._pairs = pairs
        self._markets = tuple(market for pair in pairs.values() for market in pair)
        #: limits-only edges per fiat, for a fiat whose rate cannot be read (built once)
        self._unpriced = {f: unpriced_edges(*pairs[f], self._min_volume.get(f)) for f in pairs}
        #: priced edges per fiat with the snapshot they were built from
        self._priced: dict[str, tuple[RateSnapshot, tuple[Edge, Edge]]] = {}
        self._edges: tuple[Edge, ...] = ()
        self._edges_from: tuple[RateSnapshot | None, ...] = ()
        self._rates: RateCache | None = None

    def minimum(self, fiat: str) -> Decimal | None:
        """The minimum order volume assumed for ``fiat`` (fiat units), if any."""
        return self._min_volume.get(fiat)

    def _connect(self, session: aiohttp.ClientSession, budget: Budget) -> OneBitPayClient:
        client = OneBitPayClient(
            session, merchant_no=self._merchant_no, api_key=self._key,
            api_secret=self._secret, budget=budget, base_url=self._base_url,
            timeout=self._timeout, provider=self._name, min_volume=self._min_volume,
            clock=self._clock,
        )
        self._rates = self._own(RateCache(
            lambda fiat: client.rate(CRYPTO, fiat), ttl=self._rate_ttl, clock=self._clock,
            persist=lambda fiat: self._persisted(f"rate-{fiat}", RateSnapshot)))
        return client

    # -- markets ------------------------------------------------------------------------------
    def _market_pair(self, fiat: str) -> tuple[Market, Market]:
        """``(on-ramp, off-ramp)`` of ``fiat``."""
        fiat_id = Asset.of(fiat).id
        return (Market(self._name, fiat_id, CRYPTO_ASSET, "float", f"{fiat}/{CRYPTO}"),
                Market(self._name, CRYPTO_ASSET, fiat_id, "float", f"{CRYPTO}/{fiat}"))

    async def markets(self) -> Sequence[Market]:
        _ = self.client  # raises RuntimeError unless open
        return self._markets

    # -- edges --------------------------------------------------------------------------------
    def _edges_of(self, fiat: str, snapshot: RateSnapshot) -> tuple[Edge, Edge]:
        """The priced edges of ``fiat`` from ``snapshot``, rebuilt only for a new snapshot."""
        built = self._priced.get(fiat)
        if built is None or built[0] is not snapshot:
            edges = priced_edges(*self._pairs[fiat], snapshot, self._min_volume.get(fiat))
            built = self._priced[fiat] = (snapshot, edges)
        return built[1]

    async def edges(self) -> Sequence[Edge]:
        rates = self._rate_cache()
        got = await asyncio.gather(*(rates.get(f) for f in self._fiats), return_exceptions=True)
        errors = [r for r in got if isinstance(r, BaseException)]
        for error in errors:
            if not isinstance(error, ProviderError):  # closed, cancelled, a bug: not a fiat's
                raise error
        if len(errors) == len(got):
            raise errors[0]
        snapshots = tuple(r if isinstance(r, RateSnapshot) else None for r in got)
        if len(snapshots) != len(self._edges_from) or any(
                a is not b for a, b in zip(snapshots, self._edges_from, strict=False)):
            self._edges = tuple(edge for fiat, snap in zip(self._fiats, snapshots, strict=True)
                                for edge in (self._unpriced[fiat] if snap is None
                                             else self._edges_of(fiat, snap)))
            self._edges_from = snapshots
        return self._edges

    def _rate_cache(self) -> RateCache:
        _ = self.client  # raises RuntimeError unless open
        assert self._rates is not None
        return self._rates

    def _fiat_of(self, market: Market) -> str:
        """The fiat of one of our markets; :class:`UnsupportedPair` for anything else."""
        if market.provider == self._name and market in self._markets:
            src, _, dst = market.ref.partition("/")
            return dst if src == CRYPTO else src
        raise UnsupportedPair(self._name, f"not a {self._name} market: {market.asset_in}->"
                              f"{market.asset_out} {market.rate_type}")

    # -- quotes -------------------------------------------------------------------------------
    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote:
        return await self._quote(market, amount, side, fresh=False)

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        """Not used by the router (``firm_quotes = False``): a quote from a freshly read rate,
        still labelled ``indicative`` since 1BitPay commits to no price before an order."""
        return await self._quote(market, amount, side, fresh=True)

    async def _quote(self, market: Market, amount: Decimal, side: Side, *, fresh: bool) -> Quote:
        fiat = self._fiat_of(market)
        rates = self._rate_cache()
        minimum = self._min_volume.get(fiat)
        buying = is_onramp(market)
        if minimum is not None and (side == "sell") == buying and amount < minimum:
            # the amount is the fiat side itself: refuse before spending a unit on the rate
            raise AmountOutOfRange(self._name, f"below the minimum volume {minimum} {fiat}",
                                   below_min=True, limit=minimum, asset=fiat)
        snapshot: RateSnapshot = await rates.get(fiat, fresh=fresh)
        edge = self._edges_of(fiat, snapshot)[0 if buying else 1]
        return edge_indicative(edge, snapshot.rate, amount, side, fiat=fiat, minimum=minimum)
