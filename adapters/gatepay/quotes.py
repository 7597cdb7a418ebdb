"""Pure pricing: amounts GatePay accepts, and ``preview`` answers → firm :class:`Quote`.

No I/O, no clock: the source passes times in. GatePay's preview gives the all-in amounts of both
sides under a ``quoteId``; it itemises no fee (its ~0.2 % fee sits inside the rate), so firm quotes
carry no :class:`~router.model.Fee` entries.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, Context, Decimal
from typing import Final

from router.assets import Asset
from router.errors import MalformedResponse
from router.model import Market, Quote, Side

from .feeds import PairLimits
from .wire import Preview

__all__ = ["MAX_PLACES", "asked_amount", "check_preview", "firm_quote", "places"]

_CTX: Final = Context(prec=40)
#: GatePay shows at most 8 decimals (its examples); finer amounts are cut before asking.
MAX_PLACES: Final = 8
#: The asked amount may come back off by this share (GatePay rounding it) before it is impossible.
_ECHO_SLACK: Final = Decimal("1e-6")
#: ``price``/``rate`` must match the amounts (either orientation) within this share.
_RATE_SLACK: Final = Decimal("0.02")


def places(asset_id: str) -> int:
    """Decimals to send for ``asset_id``: the asset's own, at most :data:`MAX_PLACES`."""
    decimals = Asset.of(asset_id.partition("@")[0]).decimals
    return min(decimals if decimals is not None else MAX_PLACES, MAX_PLACES)


def asked_amount(market: Market, amount: Decimal, side: Side) -> Decimal:
    """``amount`` cut to what GatePay accepts: what is sold down, what is received up.

    An amount already within the precision is sent as given (no padding zeros).
    """
    n = places(market.asset_in if side == "sell" else market.asset_out)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -n:
        return amount
    rounding = ROUND_DOWN if side == "sell" else ROUND_CEILING
    return amount.quantize(Decimal(1).scaleb(-n), rounding=rounding, context=_CTX)


def _bad(provider: str, text: str) -> MalformedResponse:
    return MalformedResponse(provider, f"preview: {text}")


def check_preview(provider: str, pair: PairLimits, side: Side, asked: Decimal,
                  preview: Preview) -> None:
    """Raise :class:`MalformedResponse` for an answer that cannot be right for what we asked."""
    for name, got, want in (("sellCurrency", preview.sellCurrency, pair.sell),
                            ("buyCurrency", preview.buyCurrency, pair.buy)):
        if got.strip().upper() != want.upper():
            raise _bad(provider, f"{name} {got[:16]!r} is not {want!r}")
    for name, value in (("sellAmount", preview.sellAmount), ("buyAmount", preview.buyAmount)):
        if not value.is_finite() or value <= 0:
            raise _bad(provider, f"{name} is {value}")
    if not preview.quoteId.strip():
        raise _bad(provider, "empty quoteId")
    echo = preview.sellAmount if side == "sell" else preview.buyAmount
    slack = _CTX.multiply(asked, _ECHO_SLACK)
    if side == "sell" and abs(echo - asked) > slack:
        raise _bad(provider, f"sellAmount {echo} where {asked} was asked")
    if side == "buy" and echo < asked - slack:
        raise _bad(provider, f"buyAmount {echo} where {asked} was asked")
    rate = preview.quoted_rate
    if rate is None:
        return
    if not rate.is_finite() or rate <= 0:
        raise _bad(provider, f"rate is {rate}")
    # The rate is the pair's price in one fixed orientation (the doc's GT/USDT examples give
    # buy/sell for one direction and sell/buy for the other): accept either.
    forward = _CTX.divide(preview.buyAmount, preview.sellAmount)
    backward = _CTX.divide(preview.sellAmount, preview.buyAmount)
    if not any(abs(_CTX.divide(r, rate) - 1) <= _RATE_SLACK for r in (forward, backward)):
        raise _bad(provider, f"{preview.buyAmount} out for {preview.sellAmount} in does not "
                   f"match the quoted rate {rate}")


def firm_quote(market: Market, pair: PairLimits, preview: Preview, *, observed_at: float,
               expires_at: float) -> Quote:
    """The firm :class:`Quote` a (checked) preview gives for ``market``."""
    return Quote(
        provider=market.provider,
        asset_in=market.asset_in,
        asset_out=market.asset_out,
        amount_in=preview.sellAmount,
        amount_out=preview.buyAmount,
        rate_type=market.rate_type,
        kind="firm",
        quote_id=preview.quoteId,
        expires_at=expires_at,
        limit_min=pair.sell_min,
        limit_max=pair.sell_max,
        observed_at=observed_at,
    )
