"""The ``payways`` document: every payin/payout/exchange way with its fees and limits.

Layout (the doc's, with its pseudo-arrays read as objects)::

    {"payin":           {"<symbol>": {"<payway>": {symbol, name, min_amount, max_amount,
                                                    percent_fee, amount_fee, append_fee, is_crypto,
                                                    has_memo_id, payway, auto_conversation}}},
     "payout":          {...same...},
     "exchange_payin":  {...same, crypto currencies that can be exchanged into something...},
     "exchange_payout": {...same, crypto currencies something can be exchanged into...},
     "exchange":        {"<from>_<to>": {currency_from, currency_to, currency_from_precision,
                                         currency_to_precision, exchange_rate, min_amount,
                                         max_amount, percent_fee, amount_fee, currency_fee}}}

``percent_fee`` is a percent (0.3 = 0.3 %); ``append_fee`` true means the fee is added on top of the
amount (payouts), false that it is taken out of it (payins); ``auto_conversation`` lists the
currencies a payin can be converted into (empty for payouts). ``exchange_rate`` is the nominal-size
rate at the start of the world minute ``at`` falls in.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Final

from .currencies import FPCurrency, FPPayway
from .pricing import Pricer, WayTerms, plain

__all__ = ["SNAPSHOT_PERIOD", "payways_document", "snapshot_time"]

SNAPSHOT_PERIOD: Final = 60
_NOMINAL: Final = Decimal(0)  # size of the published rate: base spread only


def snapshot_time(at: float) -> int:
    """Start of the world minute ``at`` falls in: the time the published rates are priced at."""
    return math.floor(at / SNAPSHOT_PERIOD) * SNAPSHOT_PERIOD


def _entry(ccy: FPCurrency, way: FPPayway, terms: WayTerms,
           conversion: list[str]) -> dict[str, Any]:
    return {"symbol": ccy.code, "name": way.name, "min_amount": terms.min_amount,
            "max_amount": terms.max_amount, "percent_fee": terms.percent_fee,
            "amount_fee": terms.amount_fee, "append_fee": terms.append_fee,
            "is_crypto": ccy.is_crypto, "has_memo_id": way.has_memo_id, "payway": way.payway,
            "auto_conversation": conversion}


def payways_document(pricer: Pricer, at: float) -> dict[str, Any]:
    """The ``data`` of ``payways`` as of world time ``at`` (rates as of its minute's start)."""
    snap = snapshot_time(at)
    data: dict[str, dict[str, Any]] = {"payin": {}, "payout": {}, "exchange_payin": {},
                                       "exchange_payout": {}, "exchange": {}}
    sinks = {p.dst.code for p in pricer.pairs.values()}
    for ccy in pricer.currencies.values():
        targets = pricer.targets(ccy.code)
        for way in ccy.payways:
            if not pricer.profile.supports(way.asset):
                continue
            pin, pout = pricer.payin_terms(ccy, way), pricer.payout_terms(ccy, way)
            data["payin"].setdefault(ccy.code, {})[way.payway] = _entry(ccy, way, pin, targets)
            data["payout"].setdefault(ccy.code, {})[way.payway] = _entry(ccy, way, pout, [])
            if targets:
                data["exchange_payin"].setdefault(ccy.code, {})[way.payway] = _entry(
                    ccy, way, pin, targets)
            if ccy.code in sinks:
                data["exchange_payout"].setdefault(ccy.code, {})[way.payway] = _entry(
                    ccy, way, pout, [])
    for pair in pricer.pairs.values():
        data["exchange"][pair.key] = {
            "currency_from": pair.src.code, "currency_to": pair.dst.code,
            "currency_from_precision": pair.src.precision,
            "currency_to_precision": pair.dst.precision,
            "exchange_rate": plain(pricer.rate(pair, _NOMINAL, snap)),
            "min_amount": pair.min_amount, "max_amount": pair.max_amount,
            "percent_fee": pair.percent_fee, "amount_fee": pair.amount_fee,
            "currency_fee": pair.src.code}
    return data
