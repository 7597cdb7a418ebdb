"""Pure pricing from the ``payways`` model, and checks of ``estimated_amount`` answers.

No I/O, no clock: the source passes times and precisions in. Arithmetic runs in a 40-digit
context; outputs are rounded down and required inputs up, to the currency's precision.

The fee model (the doc's ``exchange`` section; where it is silent, our reading [?]):

* fee charged on the input (``currency_fee == currency_from``, or unnamed)::

      out = floor((in - in * percent - amount_fee) * exchange_rate)

* fee charged on the output (``currency_fee == currency_to``)::

      out = floor(in * exchange_rate * (1 - percent) - amount_fee)

``min_amount``/``max_amount`` bound the input (``currency_from``).

Indicative quotes price through the pair's :class:`~router.snapshot.edges.Edge` (:mod:`.edges`), as the
route search does; :func:`sell` and :func:`solve_input` (FlyPay's formula itself) serve the firm
path: limit checks before spending, the buy solver's first guess, the firm quote's fees and spread.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Final, NamedTuple

import msgspec

from router.errors import AmountOutOfRange, MalformedResponse
from router.model import Fee, Market, Quote, Side
from router.snapshot.edges import edge_quote

from .edges import pair_edge
from .feeds import PairModel
from .wire import Estimate

__all__ = [
    "Priced",
    "check_estimate",
    "check_limits",
    "fees",
    "firm_quote",
    "indicative_quote",
    "quantize",
    "sell",
    "solve_input",
]

_CTX: Final = Context(prec=40)
_ONE: Final = Decimal(1)
#: A firm answer may exceed ``amount_from * exchange_rate`` (no fees) by this share before it is
#: impossible (the rate floats between two ``payways`` fetches).
_RATE_SLACK: Final = Decimal("0.05")


class Priced(NamedTuple):
    """One priced amount; ``percent_fee`` and ``fixed_fee`` are in the pair's fee currency."""

    amount_in: Decimal
    amount_out: Decimal
    percent_fee: Decimal
    fixed_fee: Decimal


def quantize(value: Decimal, places: int, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` to ``places`` decimals (down by default)."""
    return value.quantize(_ONE.scaleb(-places), rounding=rounding, context=_CTX)


def sell(pair: PairModel, amount_in: Decimal, places_out: int) -> Priced:
    """What ``amount_in`` of ``currency_from`` gives, by the model (may be <= 0)."""
    if pair.fee_side == "from":
        percent = _CTX.multiply(amount_in, pair.percent)
        net = _CTX.subtract(_CTX.subtract(amount_in, percent), pair.fixed)
        out = _CTX.multiply(net, pair.rate)
    else:
        gross = _CTX.multiply(amount_in, pair.rate)
        percent = _CTX.multiply(gross, pair.percent)
        out = _CTX.subtract(_CTX.subtract(gross, percent), pair.fixed)
    return Priced(amount_in, quantize(out, places_out), percent, pair.fixed)


def solve_input(pair: PairModel, amount_out: Decimal, places_in: int, places_out: int) -> Decimal:
    """The least input (at ``places_in``) whose output, by the model, is at least ``amount_out``."""
    target = quantize(amount_out, places_out, ROUND_CEILING)
    keep = _CTX.subtract(_ONE, pair.percent)
    if pair.fee_side == "from":
        need = _CTX.divide(_CTX.add(_CTX.divide(target, pair.rate), pair.fixed), keep)
    else:
        need = _CTX.divide(_CTX.divide(_CTX.add(target, pair.fixed), keep), pair.rate)
    amount_in = quantize(need, places_in, ROUND_CEILING)
    step = _ONE.scaleb(-places_in)
    for _ in range(3):  # rounding can leave the output one unit short: step up
        if sell(pair, amount_in, places_out).amount_out >= target:
            break
        amount_in += step
    return amount_in


def check_limits(provider: str, market: Market, pair: PairModel, priced: Priced,
                 what: str = "payways") -> None:
    """:class:`AmountOutOfRange` with FlyPay's figure (``asset_in`` units) outside the limits."""
    below = pair.min is not None and priced.amount_in < pair.min
    if below or priced.amount_out <= 0:
        shown = f" {pair.min} {market.asset_in}" if pair.min is not None else ""
        why = "minimum" if below else "fees exceed the amount; minimum"
        raise AmountOutOfRange(provider, f"{what}: {why}{shown}", below_min=True,
                               limit=pair.min, asset=market.asset_in)
    if pair.max is not None and priced.amount_in > pair.max:
        raise AmountOutOfRange(provider, f"{what}: maximum {pair.max} {market.asset_in}",
                               below_min=False, limit=pair.max, asset=market.asset_in)


def fees(market: Market, pair: PairModel, priced: Priced, places_fee: int) -> tuple[Fee, ...]:
    """The percent and fixed fees, itemised as ``Fee("provider", ...)`` in the fee currency."""
    asset = market.asset_in if pair.fee_side == "from" else market.asset_out
    items = []
    if priced.percent_fee > 0:
        items.append(Fee("provider", quantize(priced.percent_fee, places_fee, ROUND_HALF_EVEN),
                         asset))
    if priced.fixed_fee > 0:
        items.append(Fee("provider", priced.fixed_fee, asset))
    return tuple(items)


def indicative_quote(provider: str, market: Market, pair: PairModel, amount: Decimal, side: Side,
                     *, places_in: int, places_out: int, observed_at: float) -> Quote:
    """Price ``amount`` (sent for ``sell``, received for ``buy``) from the model.

    Computed through the pair's :class:`~router.snapshot.edges.Edge` (see :mod:`.edges`), the one
    indicative pricing path; :class:`AmountOutOfRange` carries FlyPay's ``min_amount`` /
    ``max_amount`` (or, with no minimum stated, the least input that covers the fixed fees)."""
    if provider != market.provider:
        market = msgspec.structs.replace(market, provider=provider)
    edge = pair_edge(market, pair, places_in=places_in, places_out=places_out,
                     observed_at=observed_at)
    return edge_quote(edge, amount, side)


def firm_quote(provider: str, market: Market, pair: PairModel, est: Estimate, *,
               places_in: int, places_out: int, observed_at: float,
               expires_at: float | None) -> Quote:
    """The firm :class:`Quote` of a checked ``estimated_amount`` answer. Fees are the model's for
    the confirmed input; what the answer gives below the model's output is a ``spread`` fee."""
    model = sell(pair, est.amount_from, places_out)
    items = fees(market, pair, model, places_in if pair.fee_side == "from" else places_out)
    if model.amount_out > est.amount_to:
        items += (Fee("spread", model.amount_out - est.amount_to, market.asset_out),)
    return Quote(
        provider=provider, asset_in=market.asset_in, asset_out=market.asset_out,
        amount_in=est.amount_from, amount_out=est.amount_to, rate_type=market.rate_type,
        kind="firm", fees=items, expires_at=expires_at,
        limit_min=pair.min, limit_max=pair.max, observed_at=observed_at,
    )


def check_estimate(provider: str, pair: PairModel, asked: Decimal, est: Estimate,
                   places_in: int) -> None:
    """Raise :class:`MalformedResponse` for an answer that cannot be right for what we asked."""
    for name, got, want in (("currency_from", est.currency_from, pair.currency_from),
                            ("currency_to", est.currency_to, pair.currency_to)):
        if got.strip().lower() != want:
            raise MalformedResponse(provider, f"estimated_amount: {name} {got[:16]!r} "
                                    f"is not {want!r}")
    for name, value in (("amount_from", est.amount_from), ("amount_to", est.amount_to)):
        if not value.is_finite() or value <= 0:
            raise MalformedResponse(provider, f"estimated_amount: {name} is {value}")
    if abs(est.amount_from - asked) > _ONE.scaleb(-places_in):
        raise MalformedResponse(provider, f"estimated_amount: quoted {est.amount_from} where "
                                f"{asked} was asked")
    ceiling = _CTX.multiply(_CTX.multiply(est.amount_from, pair.rate), _ONE + _RATE_SLACK)
    if est.amount_to > ceiling:
        raise MalformedResponse(provider, f"estimated_amount: {est.amount_to} out for "
                                f"{est.amount_from} in exceeds the rate {pair.rate}")
