"""Correcting indicative prices with what firm quotes revealed.

Bulk feeds price a nominal size from a snapshot; a firm quote for the real amount is usually worse
(size-dependent spread, drift since the snapshot). Once a provider has firm-quoted one market for
this amount, its other markets' indicative prices for the same amount are scaled by the same
firm/indicative *rate* ratio and the difference is itemised as a ``spread`` fee, so the ranking
compares like with like. The ratio is taken on gross amounts (network fees added back), because a
network fee is a fixed amount per withdrawal, not a share of the rate. The route stays
``indicative``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import msgspec

from .assets import Asset, from_id, quantum
from .model import Fee, Quote, Side

__all__ = ["calibrate", "firm_ratio"]

_ONE = Decimal(1)


def _network_fee(q: Quote) -> Decimal:
    return sum((f.amount for f in q.fees if f.kind == "network" and f.asset == q.asset_out),
               Decimal(0))


def firm_ratio(indicative: Quote, firm: Quote, side: Side) -> Decimal | None:
    """Firm rate / indicative rate for the same market and amount (< 1: the firm one is worse)."""
    f_ind, f_firm = _network_fee(indicative), _network_fee(firm)
    if side == "sell":
        gross_ind = indicative.amount_out + f_ind
        if gross_ind <= 0 or firm.amount_in != indicative.amount_in:
            return None
        return (firm.amount_out + f_firm) / gross_ind
    if firm.amount_out != indicative.amount_out or firm.amount_in <= 0 or indicative.amount_in <= 0:
        return None
    # in = (out + fee) / rate  =>  rate_firm / rate_ind = (A + f_firm) * in_ind / ((A + f_ind) * in_firm)
    a = firm.amount_out
    return (a + f_firm) * indicative.amount_in / ((a + f_ind) * firm.amount_in)


def calibrate(quote: Quote, ratio: Decimal, side: Side) -> Quote:
    """``quote`` with its rate scaled by ``ratio``, only when that makes it worse."""
    if ratio >= _ONE:
        return quote  # never flatter an estimate
    if side == "sell":
        fee = _network_fee(quote)
        q = _places(quote.amount_out, from_id(quote.asset_out))
        out = ((quote.amount_out + fee) * ratio - fee).quantize(q, rounding=ROUND_FLOOR)
        diff = quote.amount_out - out
        if diff <= 0:
            return quote
        fees = quote.fees + (Fee("spread", diff, quote.asset_out),)
        return msgspec.structs.replace(quote, amount_out=max(out, Decimal(0)), fees=fees)
    q = _places(quote.amount_in, from_id(quote.asset_in))
    amount_in = (quote.amount_in / ratio).quantize(q, rounding=ROUND_CEILING)
    diff = amount_in - quote.amount_in
    if diff <= 0:
        return quote
    fees = quote.fees + (Fee("spread", diff, quote.asset_in),)
    return msgspec.structs.replace(quote, amount_in=amount_in, fees=fees)


def _places(amount: Decimal, asset: Asset) -> Decimal:
    """Keep the precision the provider used for ``amount`` (never finer than the asset's)."""
    exponent = amount.as_tuple().exponent
    finest = quantum(asset)
    if isinstance(exponent, int) and exponent < 0:
        return max(Decimal(1).scaleb(exponent), finest)
    return finest
