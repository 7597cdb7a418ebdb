"""Pure pricing: an ``otc/rate`` answer → :class:`router.model.Quote` for one market and amount.

No I/O, no clock. Every price goes through the market's :class:`router.snapshot.edges.Edge` (see
:mod:`.edges`) and :func:`router.snapshot.edges.edge_quote`, the path the router's route search uses too.
Rates are fiat per USDT and do not depend on the amount:

=====================  ====================  =================================================
market                 engine side           price
=====================  ====================  =================================================
fiat → USDT (buy)      sell (fiat in given)  ``usdt_out = fiat_in / buyRate``, down to 6 places
fiat → USDT (buy)      buy (USDT out given)  ``fiat_in = usdt_out * buyRate``, up to 2 places
USDT → fiat (sell)     sell (USDT in given)  ``fiat_out = usdt_in * sellRate``, down to 2 places
USDT → fiat (sell)     buy (fiat out given)  ``usdt_in = fiat_out / sellRate``, up to 6 places
=====================  ====================  =================================================

The minimum volume is in fiat units and checked against the fiat side of the trade; refusals
carry it in fiat units (the provider's figure), whatever unit the edge checked it in. When
``buyRate > sellRate`` the half-spread is itemised as ``Fee("spread", ...)`` in ``asset_out`` units:
what the user would have received more at the mid rate ``(buyRate + sellRate) / 2``. The edge
itself has ``margin`` 0 (the spread is already in the rate), so :func:`~router.snapshot.edges.edge_fees`
itemises nothing; the quote replaces that empty tuple with the spread.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

import msgspec

from router.errors import AmountOutOfRange
from router.model import Fee, Market, Quote, Side
from router.snapshot.edges import Edge, edge_quote

from .constants import CRYPTO_PLACES, FIAT_PLACES
from .edges import is_onramp, priced_edge
from .feeds import RateSnapshot
from .wire import OtcRate

__all__ = ["edge_indicative", "indicative_quote", "quantize", "spread_fee"]

_CTX: Final = Context(prec=40)
_TWO: Final = Decimal(2)


def quantize(value: Decimal, places: int, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` to ``places`` decimals (down by default)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=_CTX)


def spread_fee(market: Market, rate: OtcRate, amount_in: Decimal) -> Fee | None:
    """The half-spread the user paid on ``amount_in``, in ``asset_out`` units; ``None`` when the
    rates show no spread (``buyRate <= sellRate``, as in the doc's own example)."""
    if rate.buyRate <= rate.sellRate:
        return None
    mid = _CTX.divide(_CTX.add(rate.buyRate, rate.sellRate), _TWO)
    if is_onramp(market):  # paid fiat at buyRate instead of mid
        lost = _CTX.subtract(_CTX.divide(amount_in, mid), _CTX.divide(amount_in, rate.buyRate))
        places = CRYPTO_PLACES
    else:  # sold USDT at sellRate instead of mid
        lost = _CTX.multiply(amount_in, _CTX.subtract(mid, rate.sellRate))
        places = FIAT_PLACES
    amount = quantize(lost, places, ROUND_HALF_EVEN)
    return Fee("spread", amount, market.asset_out) if amount > 0 else None


def edge_indicative(
    edge: Edge, rate: OtcRate, amount: Decimal, side: Side, *, fiat: str,
    minimum: Decimal | None,
) -> Quote:
    """Price ``amount`` on a priced ``edge`` built from ``rate``; :class:`AmountOutOfRange` below
    ``minimum`` (fiat units; ``limit`` carries it with ``asset = fiat``)."""
    market = edge.market
    try:
        quote = edge_quote(edge, amount, side)
    except AmountOutOfRange as exc:  # only minimums: 1BitPay states no maximum
        raise _below(market.provider, fiat, minimum) from exc
    fiat_amount = quote.amount_in if is_onramp(market) else quote.amount_out
    if (minimum is not None and fiat_amount < minimum) or min(quote.amount_in,
                                                                quote.amount_out) <= 0:
        # the edge's minimum in USDT (rounded up to 1e-6) lets through what the fiat figure
        # refuses only when the minimum is finer than a cent; with no minimum: nothing priced.
        # (It refuses USDT in finer than 1e-6 that lies between the two: a compromise.)
        raise _below(market.provider, fiat, minimum)
    fee = spread_fee(market, rate, quote.amount_in)
    return msgspec.structs.replace(quote, fees=(fee,) if fee is not None else ())


def _below(provider: str, fiat: str, minimum: Decimal | None) -> AmountOutOfRange:
    shown = f" {minimum} {fiat}" if minimum is not None else ""
    return AmountOutOfRange(provider, f"below the minimum volume{shown}", below_min=True,
                            limit=minimum, asset=fiat)


def indicative_quote(
    provider: str,
    market: Market,
    rate: OtcRate,
    amount: Decimal,
    side: Side,
    *,
    fiat: str,
    minimum: Decimal | None,
    observed_at: float,
) -> Quote:
    """Price ``amount`` on ``market`` from ``rate`` (through its edge, see
    :func:`edge_indicative`); ``provider`` must be ``market.provider``."""
    assert provider == market.provider, "indicative_quote: market of another provider"
    edge = priced_edge(market, RateSnapshot(rate, observed_at), minimum)
    return edge_indicative(edge, rate, amount, side, fiat=fiat, minimum=minimum)
