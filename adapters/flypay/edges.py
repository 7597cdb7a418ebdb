"""FlyPay ``exchange`` entries as :class:`router.snapshot.edges.Edge` (pure: no I/O, no clock).

FlyPay charges ``percent_fee`` (a percent of the amount) plus ``amount_fee``, both in
``currency_fee`` (see :mod:`.quotes`)::

    fee on the input  (currency_fee == currency_from):  out = floor((in - in*p - fee) * rate)
    fee on the output (currency_fee == currency_to):    out = floor(in * rate * (1 - p) - fee)

with ``p = percent_fee / 100``. The edge (``out = floor((in - fee_in) * rate' - fee_out)``) takes::

    rate'   = exchange_rate * (1 - p)          net of the percent fee
    margin  = p                                (itemising only: it is inside ``rate'``)
    fee_out = amount_fee                       fee on the output: FlyPay's arithmetic exactly
    fee_in  = ceil(amount_fee / (1 - p))       fee on the input, to the input's precision
    min_in / max_in = min_amount / max_amount  (``currency_from`` units; ``payways`` states no
                                               reserve, so no ``max_out``)
    quantum_in / quantum_out = 10**-currency_{from,to}_precision

**The one compromise** (fee on the input, ``p`` and ``amount_fee`` both non-zero): FlyPay takes
the percent of the *gross* amount, the edge takes it after ``fee_in``, so the exact ``fee_in`` is
``amount_fee / (1 - p)``: a non-terminating decimal that would be itemised as a 40-digit fee.
Rounding it *up* to the input's precision keeps the fee readable and the edge conservative: it
gives less than ``quantum_in * rate'`` (plus one output quantum of flooring) less, and asks at
most one ``quantum_in`` more, than FlyPay's formula: the size of rounding the fee to the input's
precision, far below the size spread of a firm quote. Where either is zero the edge is exact.

Not in the edge, as not in :mod:`.quotes`: the size-dependent spread of firm answers (a linear
edge cannot hold it; ``exchange_rate`` is FlyPay's nominal-size rate, so the edge is an upper
bound the firm quote corrects) and the ``payout`` payway fees (they belong to
``transaction/payout``; ``exchange/estimated_amount`` does not charge them). The router itemises
``fee_out`` as a ``network`` fee; here it is FlyPay's own fixed fee.

FlyPay's markets fan one ``exchange`` entry out over (pay-in network × pay-out network): every
such market gets its own :class:`Edge` with the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, Context, Decimal
from typing import Final

from router.model import Market
from router.snapshot.edges import Edge

from .feeds import PairModel, Payways

__all__ = ["build_edges", "pair_edge", "quantum"]

_CTX: Final = Context(prec=40)
_ONE: Final = Decimal(1)
_QUANTA: Final = {places: _ONE.scaleb(-places) for places in range(19)}

#: ``places_of(precision FlyPay states or None, asset id)`` → decimals to use.
PlacesOf = Callable[[int | None, str], int]


def quantum(places: int) -> Decimal:
    """The smallest step at ``places`` decimals (``8`` → ``1E-8``, ``2`` → ``0.01``)."""
    return _QUANTA.get(places) or _ONE.scaleb(-places)


def pair_edge(market: Market, pair: PairModel, *, places_in: int, places_out: int,
              observed_at: float | None) -> Edge:
    """The edge of ``market``, one route of FlyPay's exchange ``pair``."""
    q_in = quantum(places_in)
    keep = _CTX.subtract(_ONE, pair.percent)
    fee_in = fee_out = Decimal(0)
    if pair.fee_side == "to":
        fee_out = pair.fixed
    elif pair.fixed and pair.percent:
        # amount_fee / (1 - p), up to the input's precision (module docstring: the compromise)
        fee_in = _CTX.divide(pair.fixed, keep).quantize(q_in, rounding=ROUND_CEILING,
                                                          context=_CTX)
    else:
        fee_in = pair.fixed
    return Edge(
        market=market,
        rate=_CTX.multiply(pair.rate, keep),
        margin=pair.percent,
        fee_in=fee_in,
        fee_out=fee_out,
        min_in=pair.min,
        max_in=pair.max,
        quantum_in=q_in,
        quantum_out=quantum(places_out),
        observed_at=observed_at,
    )


def build_edges(markets: Sequence[Market], model: Payways, places_of: PlacesOf) -> list[Edge]:
    """One edge per market, in the order of ``markets`` (each names its exchange in ``ref``).

    A market whose ``ref`` the model does not know (``markets()`` never lists one) is unpriced and
    unlimited: FlyPay publishes nothing for it."""
    edges: list[Edge] = []
    for market in markets:
        pair = model.pairs.get(market.ref)
        if pair is None:
            edges.append(Edge(market=market, rate=None, observed_at=model.fetched_at))
            continue
        edges.append(pair_edge(market, pair,
                               places_in=places_of(pair.places_from, market.asset_in),
                               places_out=places_of(pair.places_to, market.asset_out),
                               observed_at=model.fetched_at))
    return edges
