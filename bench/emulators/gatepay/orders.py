"""Gate Pay convert records: issued quotes and orders, and the order object as the doc shows it.

The order object: ``order_id`` (snake case, an 18-digit string), ``userId`` (an integer, as in the
doc's examples), amounts as strings, ``status`` an integer (1 created, 3 success, 6 failed),
``rate`` a JSON **number** (encode with ``decimal_format="number"``), ``createTime`` in ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .pricing import Preview, fmt

__all__ = ["STATUS_CREATED", "STATUS_FAILED", "STATUS_SUCCESS", "Order", "QuoteRecord"]

STATUS_CREATED: Final = 1
STATUS_SUCCESS: Final = 3
STATUS_FAILED: Final = 6


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    """A preview issued to a client; ``issued`` is wall-clock seconds."""

    quote_id: str
    client_id: str
    preview: Preview
    issued: float


@dataclass(frozen=True, slots=True)
class Order:
    """One conversion order; ``key`` is what an idempotent replay must repeat."""

    order_id: str
    client_id: str
    user_id: int
    key: tuple[str, str, str, Decimal, Decimal]  # quoteId, sell, buy, sellAmount, buyAmount
    rate: Decimal
    create_time: int  # ms

    def to_json(self, status: int) -> dict[str, Any]:
        quote_id, sell, buy, sell_amount, buy_amount = self.key
        return {"order_id": self.order_id, "userId": self.user_id, "sellCurrency": sell,
                "buyCurrency": buy, "sellAmount": fmt(sell_amount), "buyAmount": fmt(buy_amount),
                "status": status, "rate": self.rate, "quoteId": quote_id,
                "createTime": self.create_time}
