"""FlyPay wire structs, named as FlyPay names things (see ``docs/providers.md``).

Only the fields we read are declared; unknown fields are ignored, never forbidden. Money fields
are ``Decimal``: the doc says "Float" (JSON numbers), some PHP back ends send strings, and msgspec
decodes both exactly. Decoders run with ``strict=False`` so ``"is_crypto": 1`` and
``"currency_from_precision": "8"`` are accepted alongside ``true`` and ``8``.

PHP encodes an empty associative array as ``[]``, so every map the doc shows may also arrive as a
JSON array (of entries carrying their own ``symbol``/``payway``/``currency_*`` fields): the types
below accept both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, TypeAlias

import msgspec

__all__ = [
    "BALANCES_DECODER",
    "ENVELOPE_DECODER",
    "ESTIMATE_DECODER",
    "EXCHANGE_PAIR_DECODER",
    "JSON_ENCODER",
    "PAYWAYS_DECODER",
    "TRANSACTION_DECODER",
    "Balance",
    "Envelope",
    "Estimate",
    "ExchangePair",
    "ExchangeTransaction",
    "Payway",
    "PaywayMap",
    "PaywaysData",
]


class Envelope(msgspec.Struct):
    """Every answer: ``{"status": "success"|"error", "message": ..., "data": ...}``."""

    status: str
    message: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")


class Payway(msgspec.Struct):
    """One payment way of a currency in ``payin``/``payout``/``exchange_payin``/``exchange_payout``
    (we read which networks a currency moves on; fees and limits of payways are not used)."""

    payway: str = ""
    symbol: str = ""
    is_crypto: bool | None = None


#: ``{symbol: {payway: Payway}}`` (or arrays, see the module docstring).
PaywayMap: TypeAlias = dict[str, dict[str, Payway] | list[Payway]] | list[Payway]


class ExchangePair(msgspec.Struct):
    """One entry of the ``exchange`` section, keyed ``{currency_from}_{currency_to}``.

    ``percent_fee`` is a percentage (``0.5`` = 0.5 %); ``amount_fee`` a fixed fee; both in
    ``currency_fee``. ``min_amount``/``max_amount`` bound the amount in ``currency_from``.
    """

    currency_from: str
    currency_to: str
    exchange_rate: Decimal
    currency_from_precision: int | None = None
    currency_to_precision: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    percent_fee: Decimal | None = None
    amount_fee: Decimal | None = None
    currency_fee: str | None = None


class PaywaysData(msgspec.Struct):
    """``data`` of ``payways``. ``exchange`` entries stay raw: each is decoded on its own so one
    bad entry does not cost the others (see :mod:`.feeds`)."""

    payin: PaywayMap = msgspec.field(default_factory=dict)
    payout: PaywayMap = msgspec.field(default_factory=dict)
    exchange_payin: PaywayMap = msgspec.field(default_factory=dict)
    exchange_payout: PaywayMap = msgspec.field(default_factory=dict)
    exchange: dict[str, msgspec.Raw] | list[msgspec.Raw] = msgspec.field(default_factory=dict)


class Estimate(msgspec.Struct):
    """``data`` of ``exchange/estimated_amount``."""

    currency_from: str
    currency_to: str
    amount_from: Decimal
    amount_to: Decimal


class Balance(msgspec.Struct):
    """One wallet of ``balances``."""

    symbol: str = ""
    name: str = ""
    amount: Decimal | None = None
    amount_locked: Decimal | None = None
    available_amount: Decimal | None = None
    is_crypto: bool | None = None


class ExchangeTransaction(msgspec.Struct):
    """``data`` of ``transaction/exchange``."""

    id: int | str
    external_id: str | None = None
    currency_from: str = ""
    currency_to: str = ""
    amount_from: Decimal | None = None
    amount_to: Decimal | None = None
    type: str | None = None
    status: str | None = None
    amount_fee: Decimal | None = None
    currency_fee: str | None = None
    create_time: int | None = None
    update_time: int | None = None


#: Compact JSON (what PHP's ``json_encode`` writes too), amounts as JSON **numbers** ("Float").
JSON_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
ENVELOPE_DECODER: Final = msgspec.json.Decoder(Envelope, strict=False)
PAYWAYS_DECODER: Final = msgspec.json.Decoder(PaywaysData, strict=False)
EXCHANGE_PAIR_DECODER: Final = msgspec.json.Decoder(ExchangePair, strict=False)
ESTIMATE_DECODER: Final = msgspec.json.Decoder(Estimate, strict=False)
BALANCES_DECODER: Final = msgspec.json.Decoder(dict[str, Balance] | list[Balance], strict=False)
TRANSACTION_DECODER: Final = msgspec.json.Decoder(ExchangeTransaction, strict=False)
