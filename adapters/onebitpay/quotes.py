"""Pure pricing: an ``otc/rate`` answer → :class:`router.model.Quote` for one market and amount.

No I/O, no clock: the source passes the rate, the minimum and the time in. Rates are fiat per
USDT and do not depend on the amount:

=====================  ====================  =================================================
market                 engine side           price
=====================  ====================  =================================================
fiat → USDT (buy)      sell (fiat in given)  ``usdt_out = fiat_in / buyRate``, down to 6 places
fiat → USDT (buy)      buy (USDT out given)  ``fiat_in = usdt_out * buyRate``, up to 2 places
USDT → fiat (sell)     sell (USDT in given)  ``fiat_out = usdt_in * sellRate``, down to 2 places
USDT → fiat (sell)     buy (fiat out given)  ``usdt_in = fiat_out / sellRate``, up to 6 places
=====================  ====================  =================================================

The minimum volume is in fiat units and checked against the fiat side of the trade. When
``buyRate > sellRate`` the half-spread is itemised as ``Fee("spread", ...)`` in ``asset_out`` units:
what the user would have received more at the mid rate ``(buyRate + sellRate) / 2``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

from router.errors import AmountOutOfRange
from router.model import Fee, Market, Quote, Side

from .constants import CRYPTO_ASSET, CRYPTO_PLACES, FIAT_PLACES
from .wire import OtcRate

__all__ = ["indicative_quote", "quantize", "spread_fee"]

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
    if market.asset_out == CRYPTO_ASSET:  # paid fiat at buyRate instead of mid
        lost = _CTX.subtract(_CTX.divide(amount_in, mid), _CTX.divide(amount_in, rate.buyRate))
        places = CRYPTO_PLACES
    else:  # sold USDT at sellRate instead of mid
        lost = _CTX.multiply(amount_in, _CTX.subtract(mid, rate.sellRate))
        places = FIAT_PLACES
    amount = quantize(lost, places, ROUND_HALF_EVEN)
    return Fee("spread", amount, market.asset_out) if amount > 0 else None


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
    """Price ``amount`` on ``market`` from ``rate``; :class:`AmountOutOfRange` below ``minimum``
    (fiat units; ``AmountOutOfRange.limit`` carries it with ``asset = fiat``)."""
    buying = market.asset_out == CRYPTO_ASSET  # the user pays fiat and receives USDT
    if buying:
        price = rate.buyRate
        if side == "sell":
            amount_in = amount
            amount_out = quantize(_CTX.divide(amount, price), CRYPTO_PLACES)
        else:
            amount_out = amount
            amount_in = quantize(_CTX.multiply(amount, price), FIAT_PLACES, ROUND_CEILING)
        fiat_amount = amount_in
        limit_min = minimum
    else:
        price = rate.sellRate
        if side == "sell":
            amount_in = amount
            amount_out = quantize(_CTX.multiply(amount, price), FIAT_PLACES)
        else:
            amount_out = amount
            amount_in = quantize(_CTX.divide(amount, price), CRYPTO_PLACES, ROUND_CEILING)
        fiat_amount = amount_out
        limit_min = (quantize(_CTX.divide(minimum, price), CRYPTO_PLACES, ROUND_CEILING)
                     if minimum is not None else None)
    if (minimum is not None and fiat_amount < minimum) or amount_out <= 0 or amount_in <= 0:
        shown = f" {minimum} {fiat}" if minimum is not None else ""
        raise AmountOutOfRange(provider, f"below the minimum volume{shown}", below_min=True,
                               limit=minimum, asset=fiat)
    fee = spread_fee(market, rate, amount_in)
    return Quote(
        provider=provider,
        asset_in=market.asset_in,
        asset_out=market.asset_out,
        amount_in=amount_in,
        amount_out=amount_out,
        rate_type=market.rate_type,
        kind="indicative",
        fees=(fee,) if fee is not None else (),
        limit_min=limit_min,
        observed_at=observed_at,
    )
