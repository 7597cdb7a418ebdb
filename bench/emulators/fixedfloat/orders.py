"""FixedFloat orders: the record kept per order, its JSON object as the doc shows it, QR images.

Orders never progress on their own in the sandbox: an order stays ``NEW`` until it expires (30
minutes of world time), then reads ``EXPIRED``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .currencies import FFCurrency

__all__ = ["ORDER_TTL", "Order", "qr_png"]

ORDER_TTL: Final = 1800


def _amount(d: Decimal, precision: int) -> str:
    return f"{d:.{precision}f}"


def _tx() -> dict[str, Any]:
    return {"id": None, "amount": None, "fee": None, "ccyfee": None, "timeReg": None,
            "timeBlock": None, "confirmations": None}


def _mix(address: str | None, tag: str | None) -> str | None:
    if address is None:
        return None
    return f"{address}:{tag}" if tag else address


@dataclass(slots=True)
class Order:
    """One created order (mutable: email and emergency choice may change)."""

    id: str
    token: str
    type: str
    reg: int
    src: FFCurrency
    dst: FFCurrency
    src_precision: int
    dst_precision: int
    src_amount: Decimal
    dst_amount: Decimal
    deposit_address: str
    deposit_tag: str | None
    to_address: str
    to_tag: str | None
    email: str = ""
    choice: str = "NONE"
    back_address: str | None = None
    back_tag: str | None = None

    def status(self, now: float) -> str:
        return "EXPIRED" if now >= self.reg + ORDER_TTL else "NEW"

    def to_json(self, now: float, *, with_token: bool) -> dict[str, Any]:
        """The order object of ``/api/v2/create`` (with token) and ``/api/v2/order`` (without)."""
        expiration = self.reg + ORDER_TTL
        src, dst = self.src, self.dst
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "email": self.email,
            "status": self.status(now),
            "time": {"reg": self.reg, "start": None, "finish": None, "update": self.reg,
                     "expiration": expiration, "left": max(int(expiration - now), 0)},
            "from": {"code": src.code, "coin": src.coin, "network": src.network, "name": src.name,
                     "alias": src.alias, "amount": _amount(self.src_amount, self.src_precision),
                     "address": self.deposit_address, "addressAlt": None, "tag": self.deposit_tag,
                     "tagName": src.tag,
                     "addressMix": _mix(self.deposit_address, self.deposit_tag),
                     "reqConfirmations": 1, "maxConfirmations": 6, "tx": _tx()},
            "to": {"code": dst.code, "coin": dst.coin, "network": dst.network, "name": dst.name,
                   "alias": dst.alias, "amount": _amount(self.dst_amount, self.dst_precision),
                   "address": self.to_address, "tag": self.to_tag, "tagName": dst.tag,
                   "addressMix": _mix(self.to_address, self.to_tag), "tx": _tx()},
            "back": {"code": None, "coin": None, "network": None, "name": None, "alias": None,
                     "amount": None, "address": self.back_address, "tag": self.back_tag,
                     "tagName": None, "addressMix": _mix(self.back_address, self.back_tag),
                     "tx": _tx()},
            "emergency": {"status": [], "choice": self.choice, "repeat": 0},
        }
        if with_token:
            data["token"] = self.token
        return data

    def qr(self) -> list[dict[str, Any]]:
        """The ``/api/v2/qr`` answer: a QR with the amount (default) and one of the address."""
        uri = f"{self.src.alias}:{self.deposit_address}?amount={self.src_amount}"
        return [
            {"title": "With amount", "src": qr_png(uri.encode()), "checked": True},
            {"title": "Address", "src": qr_png(self.deposit_address.encode()), "checked": False},
        ]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_png(payload: bytes, size: int = 29) -> str:
    """A small valid 1-bit PNG (a QR-looking pattern drawn from ``payload``) as a data URI.

    It is not a scannable QR code: the sandbox only needs the shape of the answer.
    """
    stride = (size + 7) // 8
    bits = hashlib.shake_256(payload).digest(stride * size)
    rows = b"".join(b"\x00" + bits[r * stride:(r + 1) * stride] for r in range(size))
    png = (b"\x89PNG\r\n\x1a\n"
           + _chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0))
           + _chunk(b"IDAT", zlib.compress(rows, 9))
           + _chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()
