"""GatePay convert wire structs, named as GatePay names things (see ``docs/providers.md``).

Only the fields we read are declared; unknown fields are ignored, never forbidden. Money fields are
``Decimal``: the lists and the preview send strings, the order object sends ``rate`` as a JSON
number; msgspec decodes both exactly. Decoders run with ``strict=False`` so ``"status": "3"`` and
``"status": 3`` are both accepted. Ids that the doc shows both as strings and numbers
(``order_id``, ``userId``, ``createTime``) are accepted as either and read through properties.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import msgspec

from router.errors import InvalidRequest

from .constants import OK_CODE, ORDER_STATUS

__all__ = [
    "CURRENCIES_DECODER",
    "ENVELOPE_DECODER",
    "JSON_ENCODER",
    "ORDER_DECODER",
    "PAIRS_DECODER",
    "PREVIEW_DECODER",
    "CurrencyList",
    "Envelope",
    "Order",
    "Pair",
    "Preview",
    "plain",
]


class Envelope(msgspec.Struct):
    """Every answer: ``{"status", "code", "label", "errorMessage", "data"}``.

    ``code`` is a string (``"000000"`` = success); a numeric code is read as its digits.
    """

    code: str | int
    status: str | None = None
    label: str | None = None
    errorMessage: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")

    @property
    def code_text(self) -> str:
        """The code as the table keys it (``400002``; ``0`` as a number reads ``000000``)."""
        if isinstance(self.code, int):
            return OK_CODE if self.code == 0 else str(self.code)
        return self.code.strip()

    @property
    def ok(self) -> bool:
        return self.code_text == OK_CODE and (self.status or "SUCCESS").upper() != "FAIL"


class CurrencyList(msgspec.Struct):
    """``data`` of ``/v1/pay/convert/currency``: ``{"currency": ["USDT", "GT", ...]}``."""

    currency: list[str] = msgspec.field(default_factory=list)


class Pair(msgspec.Struct):
    """One entry of ``/v1/pay/convert/pair``: sell ``sellCurrency``, receive ``buyCurrency``.

    Limits are per side, each in its own currency's units (strings on the wire).
    """

    sellCurrency: str
    buyCurrency: str
    pair: str = ""
    sellCurrencyMin: Decimal | None = None
    sellCurrencyMax: Decimal | None = None
    buyCurrencyMin: Decimal | None = None
    buyCurrencyMax: Decimal | None = None


class Preview(msgspec.Struct):
    """``data`` of ``/v1/pay/convert/preview``: a firm quote locked under ``quoteId``.

    The doc's table names the rate ``price``; its examples call it ``rate``:
    :attr:`quoted_rate` reads either (``price`` first).
    """

    sellCurrency: str
    buyCurrency: str
    sellAmount: Decimal
    buyAmount: Decimal
    quoteId: str
    price: Decimal | None = None
    rate: Decimal | None = None

    @property
    def quoted_rate(self) -> Decimal | None:
        return self.price if self.price is not None else self.rate


class Order(msgspec.Struct):
    """``data`` of ``/v1/pay/convert`` and ``/v1/pay/convert/order``.

    ``status``: 1 created, 3 success, 6 failed (the doc); ``rate`` a JSON number; ``createTime``
    unix milliseconds.
    """

    order_id: str | int
    sellCurrency: str = ""
    buyCurrency: str = ""
    sellAmount: Decimal | None = None
    buyAmount: Decimal | None = None
    status: int | str | None = None
    rate: Decimal | None = None
    quoteId: str | None = None
    userId: int | str | None = None
    createTime: int | str | None = None

    @property
    def id(self) -> str:
        return str(self.order_id)

    @property
    def status_code(self) -> int | None:
        """``status`` as a number (``None`` when absent or not numeric)."""
        if isinstance(self.status, int):
            return self.status
        try:
            return int(self.status) if self.status is not None else None
        except ValueError:
            return None

    @property
    def state(self) -> str:
        """``created`` / ``success`` / ``failed`` for the documented codes, else ``status=<x>``."""
        code = self.status_code
        return ORDER_STATUS.get(code, f"status={self.status}") if code is not None \
            else f"status={self.status}"

    @property
    def created_at(self) -> float | None:
        """``createTime`` in unix seconds."""
        try:
            return int(self.createTime) / 1000 if self.createTime is not None else None
        except ValueError:
            return None


def plain(amount: Decimal, field: str = "amount") -> str:
    """``amount`` as a plain decimal string (``1E+2`` → ``"100"``); it must be finite and > 0."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise InvalidRequest(field, f"must be a positive finite Decimal, got {amount!r}")
    return format(amount, "f")


#: Compact JSON (no spaces): the signature covers these exact bytes.
JSON_ENCODER: Final = msgspec.json.Encoder()
ENVELOPE_DECODER: Final = msgspec.json.Decoder(Envelope, strict=False)
#: The doc wraps the list as ``{"currency": [...]}``; a bare list is accepted too.
CURRENCIES_DECODER: Final = msgspec.json.Decoder(CurrencyList | list[str], strict=False)
PAIRS_DECODER: Final = msgspec.json.Decoder(list[Pair], strict=False)
PREVIEW_DECODER: Final = msgspec.json.Decoder(Preview, strict=False)
ORDER_DECODER: Final = msgspec.json.Decoder(Order, strict=False)
