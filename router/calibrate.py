"""Correcting indicative prices with what firm quotes revealed.

Bulk feeds price a nominal size from a snapshot; a firm quote for the real amount is usually worse
(size-dependent spread, drift since the snapshot). Once a provider has firm-quoted one market for
this amount, its other markets' indicative prices for the same amount are scaled by the same
firm/indicative ratio and the difference is itemised as a ``spread`` fee, so the ranking compares
like with like. The route stays ``indicative``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import msgspec

from .assets import from_id, quantum
from .model import Fee, Quote, Side

__all__ = ["calibrate", "firm_ratio"]

_ONE = Decimal(1)


def firm_ratio(indicative: Quote, firm: Quote, side: Side) -> Decimal | None:
    """How much worse (<1 sell side, >1 buy side) the firm price was than the indicative one."""
    if side == "sell":
        if indicative.amount_out <= 0 or firm.amount_in != indicative.amount_in:
            return None
        return firm.amount_out / indicative.amount_out
    if indicative.amount_in <= 0 or firm.amount_out != indicative.amount_out:
        return None
    return firm.amount_in / indicative.amount_in


def calibrate(quote: Quote, ratio: Decimal, side: Side) -> Quote:
    """``quote`` scaled by ``ratio`` only when that makes it worse (never flatter an estimate)."""
    if side == "sell":
        if ratio >= _ONE:
            return quote
        q = quantum(from_id(quote.asset_out))
        out = (quote.amount_out * ratio).quantize(q, rounding=ROUND_FLOOR)
        diff = quote.amount_out - out
        if diff <= 0:
            return quote
        fees = quote.fees + (Fee("spread", diff, quote.asset_out),)
        return msgspec.structs.replace(quote, amount_out=out, fees=fees)
    if ratio <= _ONE:
        return quote
    q = quantum(from_id(quote.asset_in))
    amount_in = (quote.amount_in * ratio).quantize(q, rounding=ROUND_CEILING)
    diff = amount_in - quote.amount_in
    if diff <= 0:
        return quote
    fees = quote.fees + (Fee("spread", diff, quote.asset_in),)
    return msgspec.structs.replace(quote, amount_in=amount_in, fees=fees)
