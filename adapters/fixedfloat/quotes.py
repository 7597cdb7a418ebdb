"""Pure pricing: FixedFloat feed items and ``price`` answers → :class:`router.model.Quote`.

No I/O, no clock: the source passes times and precisions in. Arithmetic runs in a 40-digit context,
so nothing is rounded except where FixedFloat rounds: outputs down, required inputs up, to the
currency's precision.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

import msgspec

from router.errors import AmountOutOfRange, MalformedResponse, ProviderError
from router.model import Fee, Market, Quote, Side
from router.snapshot.edges import edge_quote

from .constants import DATA_ERRORS, SERVICE_MARGIN, UNKNOWN_DATA_ERROR
from .edges import feed_edge
from .feeds import FeedItem
from .wire import PriceData, PriceSide

__all__ = [
    "check_price",
    "data_error",
    "fees",
    "indicative_quote",
    "quantize",
]

_CTX: Final = Context(prec=40)
_ZERO: Final = Decimal(0)
#: A firm answer may exceed ``from.amount * from.rate`` by this share before it is impossible.
_RATE_SLACK: Final = Decimal("0.02")
#: Without ``precision`` in the answer, the amount we asked for may come back off by this share.
_NO_PRECISION_SLACK: Final = Decimal("1e-6")


def quantize(value: Decimal, places: int, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` to ``places`` decimals (down by default)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=_CTX)


def fees(market: Market, out: Decimal, network_fee: Decimal | None, places: int) -> tuple[Fee, ...]:
    """Itemise what the user paid on top of the market price, in ``asset_out`` units.

    The service margin ``m`` is already inside the rate, so of the gross output
    ``g = out + network_fee`` the provider kept ``g * m / (1 - m)``.
    """
    m = SERVICE_MARGIN[market.rate_type]
    gross = _CTX.add(out, network_fee or _ZERO)
    provider = quantize(_CTX.divide(_CTX.multiply(gross, m), 1 - m), places, ROUND_HALF_EVEN)
    items = [Fee("provider", provider, market.asset_out)]
    if network_fee is not None:
        items.append(Fee("network", network_fee, market.asset_out))
    return tuple(items)


def indicative_quote(
    provider: str,
    market: Market,
    item: FeedItem,
    amount: Decimal,
    side: Side,
    *,
    places_in: int,
    places_out: int,
    observed_at: float,
    network_fee: Decimal | None = None,
) -> Quote:
    """Price ``amount`` from one export item; :class:`AmountOutOfRange` outside its limits.

    Computed through the item's :class:`Edge` (see :mod:`.edges`), the one pricing path:
    sell (``amount`` sent): ``out = amount * out/in - tofee``, rounded down;
    buy (``amount`` received): ``in = (amount + tofee) / (out/in)``, rounded up.
    Limits (``minamount``/``maxamount``) are in ``from`` units and checked against the input; the
    reserve (``amount`` of the export) bounds the output. ``network_fee`` (e.g. learnt from an
    earlier ``price`` answer) stands in for ``tofee`` when the export leaves it out.
    """
    if provider != market.provider:
        market = msgspec.structs.replace(market, provider=provider)
    edge = feed_edge(market, item, places_in=places_in, places_out=places_out,
                     observed_at=observed_at, payout_fee=network_fee)
    return edge_quote(edge, amount, side)


def data_error(provider: str, market: Market, side: Side, data: PriceData) -> ProviderError | None:
    """The error ``data.errors`` stands for (the first in table order), or ``None`` if empty.

    Limits carry FixedFloat's own figure: on the sell side ``data.from``'s (``asset_in``); on the
    buy side ``data.to``'s (``asset_out``, the units of the requested amount) when given, else
    ``data.from``'s. ``AmountOutOfRange.asset`` says which.
    """
    if not data.errors:
        return None
    present = set(data.errors)
    code = next((c for c in DATA_ERRORS if c in present), data.errors[0])
    rule = DATA_ERRORS.get(code, UNKNOWN_DATA_ERROR)
    detail = ",".join(sorted(present))[:120]
    if rule.error is not AmountOutOfRange:
        return rule.error(provider, f"price: {detail}", code=code)
    limit_side, asset = data.from_, market.asset_in
    if side == "buy" and getattr(data.to, rule.bound or "max") is not None:
        limit_side, asset = data.to, market.asset_out
    limit = getattr(limit_side, rule.bound or "max")
    word = "minimum" if rule.below_min else "maximum"
    return AmountOutOfRange(provider, f"price: {detail} ({word} {limit} {asset})",
                            below_min=rule.below_min, limit=limit, asset=asset, code=code)


def _positive(side: PriceSide, name: str, provider: str) -> None:
    if not side.amount.is_finite() or side.amount <= 0:
        raise MalformedResponse(provider, f"price: data.{name}.amount is {side.amount}")
    for label in ("rate", "min", "max"):
        value = getattr(side, label)
        if value is not None and (not value.is_finite() or value < 0):
            raise MalformedResponse(provider, f"price: data.{name}.{label} is {value}")


def check_price(provider: str, ref: tuple[str, str], side: Side, asked: Decimal,
                data: PriceData) -> None:
    """Raise :class:`MalformedResponse` for an answer that cannot be right for what we asked."""
    for name, part, code in (("from", data.from_, ref[0]), ("to", data.to, ref[1])):
        if part.code.upper() != code.upper():
            raise MalformedResponse(provider, f"price: data.{name}.code {part.code[:16]!r} "
                                    f"is not {code!r}")
        _positive(part, name, provider)
    got = data.from_ if side == "sell" else data.to
    if got.precision is not None:
        tolerance = Decimal(1).scaleb(-got.precision)  # FixedFloat may cut to its precision
    else:
        tolerance = _CTX.multiply(asked, _NO_PRECISION_SLACK)
    if abs(got.amount - asked) > tolerance:
        raise MalformedResponse(provider, f"price: quoted {got.amount} where {asked} was asked")
    rate = data.from_.rate
    if rate is not None and rate > 0:
        ceiling = _CTX.multiply(_CTX.multiply(data.from_.amount, rate), 1 + _RATE_SLACK)
        if data.to.amount > ceiling:
            raise MalformedResponse(provider, f"price: {data.to.amount} out for "
                                    f"{data.from_.amount} in exceeds the quoted rate {rate}")
