"""FixedFloat wire structs, named as FixedFloat names things (see ``docs/providers.md``).

Only the fields we read are declared; unknown fields are ignored, never forbidden. Money fields
are ``Decimal``: FixedFloat sends them as JSON strings, some captures as numbers, and msgspec
decodes both exactly. Decoders run with ``strict=False`` so ``recv: 1`` and ``priority: "5"``
are accepted alongside the documented ``true`` and ``5``. Each struct converts itself to the
router's model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import msgspec

from router.assets import Asset
from router.model import Fee, Market, Quote

__all__ = [
    "CCIES_DECODER",
    "ENVELOPE_DECODER",
    "JSON_ENCODER",
    "ORDER_DECODER",
    "PRICE_DECODER",
    "Currency",
    "Envelope",
    "Order",
    "OrderSide",
    "OrderTime",
    "PriceData",
    "PriceSide",
]


class Envelope(msgspec.Struct):
    """Every answer: ``{"code": 0, "msg": "OK", "data": ...}``; ``data`` is decoded per method."""

    code: int
    msg: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")


class Currency(msgspec.Struct):
    """One entry of ``ccies``: a FixedFloat code for a (coin, network) pair."""

    code: str
    coin: str = ""
    network: str = ""
    name: str = ""
    recv: bool = False  # the client may send it to FixedFloat: usable as ``from``
    send: bool = False  # FixedFloat sends it to the client: usable as ``to``
    tag: str | None = None
    priority: int = 0

    @property
    def asset_id(self) -> str:
        """Canonical asset id (``USDT`` on ``TRX`` → ``USDT@TRC20``)."""
        coin = self.coin or self.code
        return Asset.of(coin, self.network or None).id


class PriceSide(msgspec.Struct):
    """``data.from`` / ``data.to`` of a ``price`` answer; ``min``/``max`` in this side's units."""

    code: str
    amount: Decimal
    network: str = ""
    coin: str = ""
    rate: Decimal | None = None
    precision: int | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    usd: Decimal | None = None
    btc: Decimal | None = None


class PriceData(msgspec.Struct):
    """``data`` of a ``price`` answer. A non-empty ``errors`` means no order can be created."""

    from_: PriceSide = msgspec.field(name="from")
    to: PriceSide = msgspec.field()
    errors: list[str] = msgspec.field(default_factory=list)

    def to_quote(
        self,
        market: Market,
        *,
        fees: tuple[Fee, ...],
        observed_at: float,
        expires_at: float | None,
    ) -> Quote:
        """The firm :class:`Quote` this answer gives for ``market``."""
        return Quote(
            provider=market.provider,
            asset_in=market.asset_in,
            asset_out=market.asset_out,
            amount_in=self.from_.amount,
            amount_out=self.to.amount,
            rate_type=market.rate_type,
            kind="firm",
            fees=fees,
            expires_at=expires_at,
            limit_min=self.from_.min,
            limit_max=self.from_.max,
            observed_at=observed_at,
        )


class OrderTime(msgspec.Struct):
    """``data.time`` of an order (unix seconds)."""

    reg: int | None = None
    expiration: int | None = None
    left: int | None = None


class OrderSide(msgspec.Struct):
    """``data.from`` / ``data.to`` of an order."""

    code: str | None = None
    coin: str | None = None
    network: str | None = None
    amount: Decimal | None = None
    address: str | None = None
    tag: str | None = None


class Order(msgspec.Struct):
    """``data`` of ``create`` and ``order``. ``token`` comes only from ``create``."""

    id: str
    type: str = ""
    status: str = ""
    token: str | None = None
    email: str | None = None
    time: OrderTime = msgspec.field(default_factory=OrderTime)
    from_: OrderSide = msgspec.field(name="from", default_factory=OrderSide)
    to: OrderSide = msgspec.field(default_factory=OrderSide)

    def __repr__(self) -> str:  # the token grants access to the order: keep it out of logs
        return f"Order(id={self.id!r}, type={self.type!r}, status={self.status!r}, token='***')"


#: Compact JSON, amounts as JSON **numbers** as the doc asks (``"amount": 0.5``).
JSON_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
ENVELOPE_DECODER: Final = msgspec.json.Decoder(Envelope, strict=False)
CCIES_DECODER: Final = msgspec.json.Decoder(list[Currency], strict=False)
PRICE_DECODER: Final = msgspec.json.Decoder(PriceData, strict=False)
ORDER_DECODER: Final = msgspec.json.Decoder(Order, strict=False)
