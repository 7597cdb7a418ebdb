"""1BitPay's ``otc/rate`` answers as :class:`router.snapshot.edges.Edge`: one straight rate per market.

One answer prices both markets of a fiat ``F`` (rates are ``F`` per USDT, independent of the
amount; the spread between them is 1BitPay's whole margin, so ``margin`` is 0 and there is no
fixed fee):

==================  =====================  ==========================  =========================
market              ``rate``               ``quantum_in`` / ``_out``   ``min_in``
==================  =====================  ==========================  =========================
F → USDT@TRC20      ``1 / buyRate`` (up)   ``0.01`` / ``1e-6``         the minimum volume, in F
USDT@TRC20 → F      ``sellRate``           ``1e-6`` / ``0.01``         the minimum volume in USDT:
                                                                       ``minimum / sellRate``, up
==================  =====================  ==========================  =========================

No maximum is documented. A fiat whose rate could not be read gets :func:`unpriced_edges`
(``rate=None``): the on-ramp keeps its minimum in fiat; the off-ramp has none, since its minimum
in USDT needs the sell rate.

Exactness: ``sellRate`` is used as is, so the off-ramp edge prices exactly as 1BitPay's rate does.
``1 / buyRate`` rarely has a finite expansion; it is rounded **up** at the 40 digits the edge
arithmetic keeps. Rounded to nearest, ``605 CNY * (1/6.05)`` would give 99.99999…9 and floor to
99.999999 USDT where ``605 / 6.05`` is exactly 100; rounded up, a quotient that falls on a
micro-USDT stays on it, and the excess (under 1e-39 relative) cannot push any other quotient past
the next micro-USDT, nor (buy side) a fiat amount below a cent it exceeds, for amounts of any sane
precision. So both sides of both markets reproduce ``fiat / buyRate``, ``usdt * buyRate``,
``usdt * sellRate`` and ``fiat / sellRate`` at 1BitPay's precisions.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Context, Decimal
from typing import Final

from router.model import Market
from router.snapshot.edges import Edge

from .constants import CRYPTO_ASSET, CRYPTO_PLACES, FIAT_PLACES
from .feeds import RateSnapshot

__all__ = [
    "FIAT_QUANTUM", "USDT_QUANTUM", "is_onramp", "priced_edge", "priced_edges", "unpriced_edges",
]

FIAT_QUANTUM: Final = Decimal(1).scaleb(-FIAT_PLACES)  # 0.01
USDT_QUANTUM: Final = Decimal(1).scaleb(-CRYPTO_PLACES)  # 0.000001
#: The precision of :mod:`router.snapshot.edges` (40 digits), rounding up: see the module docstring.
_UP: Final = Context(prec=40, rounding=ROUND_CEILING)


def is_onramp(market: Market) -> bool:
    """``F → USDT@TRC20`` (an ``otc/create`` buy order), as opposed to ``USDT@TRC20 → F``."""
    return market.asset_out == CRYPTO_ASSET


def _quanta(market: Market) -> tuple[Decimal, Decimal]:
    return (FIAT_QUANTUM, USDT_QUANTUM) if is_onramp(market) else (USDT_QUANTUM, FIAT_QUANTUM)


def priced_edge(market: Market, snapshot: RateSnapshot, minimum: Decimal | None) -> Edge:
    """One market's edge from its fiat's ``otc/rate`` answer; ``minimum`` in fiat units."""
    rate = snapshot.rate
    quantum_in, quantum_out = _quanta(market)
    if is_onramp(market):
        price, min_in = _UP.divide(1, rate.buyRate), minimum
    else:
        price = rate.sellRate
        min_in = (None if minimum is None else
                  _UP.divide(minimum, price).quantize(USDT_QUANTUM, context=_UP))
    return Edge(market=market, rate=price, min_in=min_in, quantum_in=quantum_in,
                quantum_out=quantum_out, observed_at=snapshot.fetched_at)


def priced_edges(onramp: Market, offramp: Market, snapshot: RateSnapshot,
                 minimum: Decimal | None) -> tuple[Edge, Edge]:
    """The two edges of one fiat from its ``otc/rate`` answer; ``minimum`` in fiat units."""
    return priced_edge(onramp, snapshot, minimum), priced_edge(offramp, snapshot, minimum)


def unpriced_edges(onramp: Market, offramp: Market,
                   minimum: Decimal | None) -> tuple[Edge, Edge]:
    """The two edges of a fiat whose rate is unknown: limits only (see the module docstring)."""
    on_in, on_out = _quanta(onramp)
    off_in, off_out = _quanta(offramp)
    return (Edge(market=onramp, rate=None, min_in=minimum, quantum_in=on_in, quantum_out=on_out),
            Edge(market=offramp, rate=None, quantum_in=off_in, quantum_out=off_out))
