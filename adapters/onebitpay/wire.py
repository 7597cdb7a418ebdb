"""1BitPay wire structs, named as 1BitPay names things (see ``docs/providers.md``).

Only the fields we read are declared; unknown fields are ignored, never forbidden. Rates are
``Decimal``: the doc's example sends them as JSON strings (``"buyRate":"6.47"``), and msgspec
decodes strings and numbers alike, exactly. Decoders run with ``strict=False`` so a code sent as
``"200"`` still reads as 200.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import msgspec

__all__ = [
    "CREATE_DECODER",
    "ENVELOPE_DECODER",
    "JSON_ENCODER",
    "RATE_DECODER",
    "Envelope",
    "OtcOrder",
    "OtcRate",
]


class Envelope(msgspec.Struct):
    """Every answer: ``{"code": 200, "message": "Success", "data": ...}``."""

    code: int
    message: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")


class OtcRate(msgspec.Struct, frozen=True):
    """``data`` of ``otc/rate``: fiat per coin. ``buyRate`` applies when the user buys the coin
    (pays fiat), ``sellRate`` when the user sells it (receives fiat)."""

    buyRate: Decimal  # noqa: N815 -- the provider's name
    sellRate: Decimal  # noqa: N815


class OtcOrder(msgspec.Struct):
    """``data`` of ``otc/create``. ``url`` opens the user's checkout: it is kept out of reprs."""

    orderNo: str | int  # noqa: N815 -- a string in the doc; a number would lose nothing here
    url: str = ""
    isNew: bool = True  # noqa: N815

    def __post_init__(self) -> None:
        self.orderNo = str(self.orderNo)

    def __repr__(self) -> str:
        return f"OtcOrder(orderNo={self.orderNo!r}, isNew={self.isNew!r}, url='***')"


#: Compact JSON; ``Decimal`` written as JSON strings (``"cryptoAmount":"10"``, as the doc shows).
JSON_ENCODER: Final = msgspec.json.Encoder(decimal_format="string")
ENVELOPE_DECODER: Final = msgspec.json.Decoder(Envelope, strict=False)
RATE_DECODER: Final = msgspec.json.Decoder(OtcRate, strict=False)
CREATE_DECODER: Final = msgspec.json.Decoder(OtcOrder, strict=False)
