"""FaTPay's markets, and each as an :class:`router.snapshot.edges.Edge`: limits, and prices learnt later.

**From the lists** (the indicative layer): every edge has ``rate=None`` (the lists carry no
prices), ``min_in``/``max_in`` = the fiat limits of the widest payment option (or of the configured
one), ``quantum_in`` = the fiat's precision, ``quantum_out`` = the token's, ``observed_at`` = when
the older of the two lists was fetched.

**Learnt** (optional pricing): once ``price`` answers at two amounts far enough apart have told a
pair's platform fee ``p * fiat + f`` apart (:func:`.quotes.fee_fit`), the pair's edge is priced
from the newest answer, no older than ``max_age`` seconds. FaTPay pays::

    crypto = floor((fiat - gasFee - ceil2(p * fiat + f)) / unit)

with ``unit`` the answer's effective unit price ``(fiat - fees) / crypto``, so the edge takes
``rate = (1 - p) / unit``, ``margin = p``, ``fee_in = f / (1 - p)`` (fiat, rounded up to the fiat
precision) and ``fee_out = gasFee / unit`` (the network fee, in coin, rounded up to the token
precision), ``observed_at`` = that answer's time, ``learnt`` set (the router prices routes with it but keeps
it out of its reference mids). This is FaTPay's own formula, exact but for two
things the linear model cannot carry: the unit price grows with the ticket size (a spread of a
few tenths of a percent across the whole range of limits), and the platform fee is rounded up to
the cent. One answer alone does not split the fee into its parts, so a pair needs two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, Context, Decimal
from typing import Final

import msgspec

from router.model import Market
from router.snapshot.edges import Edge

from .constants import DEFAULT_COIN_PLACES, DEFAULT_FIAT_PLACES
from .feeds import fiat_range
from .quotes import FeeBook, FeeFit
from .wire import FiatCurrency, Token

__all__ = ["EdgeTable", "list_edge", "list_markets", "list_places", "priced_edge"]

_CTX: Final = Context(prec=40)
_ONE: Final = Decimal(1)


def list_places(value: int | None, default: int) -> int:
    """A list's ``precision``, or ``default`` when absent or not believable."""
    return value if value is not None and 0 <= value <= 18 else default


def _quantum(n: int) -> Decimal:
    return _ONE.scaleb(-n)


def list_markets(provider: str, tokens: Sequence[Token],
                 fiats: Sequence[FiatCurrency]) -> list[Market]:
    """One ``float`` market per (fiat, token), ``ref = "USD/USDT_ERC20"``; of two entries with the
    same canonical assets, the first listed."""
    markets: list[Market] = []
    pairs: set[tuple[str, str]] = set()
    for fiat in fiats:
        for token in tokens:
            pair = (fiat.asset_id, token.asset_id)
            if pair not in pairs:
                pairs.add(pair)
                markets.append(Market(provider, pair[0], pair[1], "float",
                                      f"{fiat.fiatCurrency}/{token.cryptoCurrencyCode}"))
    return markets


def list_edge(market: Market, currency: FiatCurrency, token: Token, *, payment: str | None,
              observed_at: float | None) -> Edge:
    """``market``'s unpriced edge: the fiat limits and both precisions."""
    low, high = fiat_range(currency, payment)
    return Edge(market=market, rate=None, min_in=low, max_in=high,
                quantum_in=_quantum(list_places(currency.precision, DEFAULT_FIAT_PLACES)),
                quantum_out=_quantum(list_places(token.precision, DEFAULT_COIN_PLACES)),
                observed_at=observed_at)


def priced_edge(edge: Edge, fit: FeeFit) -> Edge:
    """``edge`` priced from a solved fee model and its newest answer (see the module docstring)."""
    p, f, latest = fit
    unit = latest.unit
    keep = _ONE - p
    return msgspec.structs.replace(
        edge,
        rate=_CTX.divide(keep, unit),
        margin=p,
        fee_in=_CTX.divide(f, keep).quantize(edge.quantum_in, ROUND_CEILING, _CTX),
        fee_out=_CTX.divide(latest.gas, unit).quantize(edge.quantum_out, ROUND_CEILING, _CTX),
        observed_at=latest.at,
        learnt=True,
    )


class EdgeTable:
    """The markets and edges the lists give, each one list object rebuilt only when what it comes
    from changes: the lists, or (edges) what the :class:`FeeBook` learnt, or a learnt price
    aging past ``max_age``. The router caches its graph on the edge list's identity."""

    def __init__(self, provider: str, book: FeeBook, *, payment: str | None, max_age: float,
                 clock: Callable[[], float]) -> None:
        self._provider = provider
        self._book = book
        self._payment = payment
        self._max_age = max_age
        self._clock = clock
        self._markets: tuple[object, object, list[Market]] = (None, None, [])
        self._built_from: tuple[object, object] = (None, None)
        self._stale_at = float("inf")  # when the oldest learnt price ages out
        self._edges: list[Edge] = []
        self._by_ref: dict[str, Edge] = {}

    def markets(self, tokens: list[Token], fiats: list[FiatCurrency]) -> list[Market]:
        """:func:`list_markets` of these lists: the same list object while they are the same."""
        seen_tokens, seen_fiats, cached = self._markets
        if seen_tokens is tokens and seen_fiats is fiats:
            return cached
        markets = list_markets(self._provider, tokens, fiats)
        self._markets = (tokens, fiats, markets)
        return markets

    def edges(self, tokens: list[Token], fiats: list[FiatCurrency],
              observed_at: float | None) -> list[Edge]:
        """One edge per market of these lists (fetched at ``observed_at``), in market order."""
        markets = self.markets(tokens, fiats)
        seen_markets, seen_version = self._built_from
        if (seen_markets is markets and seen_version == self._book.version
                and self._clock() < self._stale_at):
            return self._edges
        self._built_from = (markets, self._book.version)
        edges, self._stale_at = self._build(markets, tokens, fiats, observed_at)
        if seen_markets is not markets or edges != self._edges:  # else: nothing new was learnt
            self._edges = edges
            self._by_ref = {e.market.ref: e for e in edges}
        return self._edges

    def find(self, market: Market) -> Edge | None:
        """The edge of ``market`` (by its ref) in the last list built."""
        return self._by_ref.get(market.ref)

    def _build(self, markets: Sequence[Market], tokens: list[Token], fiats: list[FiatCurrency],
               observed_at: float | None) -> tuple[list[Edge], float]:
        """The edges, and when the first learnt price among them ages out."""
        fiat_of = {f.fiatCurrency: f for f in reversed(fiats)}  # the first listed wins
        token_of = {t.cryptoCurrencyCode: t for t in reversed(tokens)}
        now = self._clock()
        stale_at = float("inf")
        edges: list[Edge] = []
        for m in markets:
            fiat, _, code = m.ref.partition("/")
            edge = list_edge(m, fiat_of[fiat], token_of[code], payment=self._payment,
                             observed_at=observed_at)
            fit = self._book.fit((fiat, code))
            if fit is not None and fit.latest.at is not None:
                expires = fit.latest.at + self._max_age
                if now < expires:
                    edge = priced_edge(edge, fit)
                    stale_at = min(stale_at, expires)
            edges.append(edge)
        return edges, stale_at
