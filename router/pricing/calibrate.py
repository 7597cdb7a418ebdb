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

from router.assets import Asset, from_id, quantum
from router.model import Fee, Quote, Side

__all__ = ["calibrate", "firm_ratio"]

_ONE = Decimal(1)
_ZERO = Decimal(0)


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


def calibrate(quote: Quote, ratio: Decimal, side: Side, network_fee: Decimal | None = None) -> Quote:
    """``quote`` with its rate scaled by ``ratio`` (only ever made worse), and the payout
    ``network_fee`` a firm answer revealed added when the bulk data left it out."""
    ratio = min(ratio, _ONE)  # never flatter an estimate
    fee = _network_fee(quote)
    extra = network_fee if network_fee is not None and network_fee > fee else _ZERO
    if ratio == _ONE and not extra:
        return quote
    fees = list(quote.fees)
    if extra:
        fees.append(Fee("network", extra - fee, quote.asset_out))
    if side == "sell":
        q = _places(quote.amount_out, from_id(quote.asset_out))
        gross = quote.amount_out + fee
        out = (gross * ratio - fee - (extra - fee if extra else _ZERO)).quantize(q, rounding=ROUND_FLOOR)
        spread = gross - gross * ratio
        if spread > 0:
            fees.append(Fee("spread", spread.quantize(q, rounding=ROUND_FLOOR), quote.asset_out))
        return msgspec.structs.replace(quote, amount_out=max(out, _ZERO), fees=tuple(fees))
    q = _places(quote.amount_in, from_id(quote.asset_in))
    # in = (A + f) / rate: a missing fee scales the input by (A + f') / (A + f)
    a = quote.amount_out
    scale = (a + extra) / (a + fee) if extra else _ONE
    amount_in = (quote.amount_in * scale / ratio).quantize(q, rounding=ROUND_CEILING)
    diff = amount_in - quote.amount_in
    if diff > 0 and ratio < _ONE:
        fees.append(Fee("spread", (quote.amount_in * scale / ratio - quote.amount_in * scale)
                        .quantize(q, rounding=ROUND_CEILING), quote.asset_in))
    return msgspec.structs.replace(quote, amount_in=max(amount_in, quote.amount_in), fees=tuple(fees))


def _places(amount: Decimal, asset: Asset) -> Decimal:
    """Keep the precision the provider used for ``amount`` (never finer than the asset's)."""
    exponent = amount.as_tuple().exponent
    finest = quantum(asset)
    if isinstance(exponent, int) and exponent < 0:
        return max(Decimal(1).scaleb(exponent), finest)
    return finest
