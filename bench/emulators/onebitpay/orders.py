"""Validation of 1BitPay's C2C order requests (``otc/create``, ``otc/batch/sell``) and the orders.

Pure functions over decoded JSON: each returns a validated :class:`OrderRequest` or raises
:class:`~.errors.ApiError`. Currency checks come first and in the order the codes suggest: coin
(150026), fiat (150034 unknown, 150033 disabled), pair (150031); then the business fields (400).

Amounts (the doc's notice): ``cryptoAmount`` or ``legalAmount``, one is enough; with both,
``legalAmount`` is ignored. ``legalAmount`` takes no decimals (a JSON integer or a digit string);
``cryptoAmount`` is a JSON number or a decimal string, cut to USDT's 6 decimals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from ..common import to_decimal
from .errors import (
    BAD_PARAM,
    COIN_UNKNOWN,
    FIAT_DISABLED,
    FIAT_UNKNOWN,
    PAIR_UNKNOWN,
    ApiError,
)

__all__ = [
    "BUY",
    "DISABLED_FIATS",
    "KNOWN_COINS",
    "MAX_BATCH",
    "SELL",
    "Order",
    "OrderRequest",
    "check_pair",
    "parse_batch_item",
    "parse_create",
]

BUY: Final = 1
SELL: Final = 2
MAX_BATCH: Final = 100
#: Coins 1BitPay knows (its wallet lists them) though only USDT trades OTC: others give 150031.
KNOWN_COINS: Final = frozenset({"USDT", "BTC", "ETH", "TRX", "USDC", "BNB"})
#: Fiats 1BitPay knows but has switched off: 150033. Anything else unknown: 150034.
DISABLED_FIATS: Final = frozenset({"GBP", "HKD", "TWD", "VND", "INR", "BRL", "TRY"})
_USDT_Q: Final = Decimal("0.000001")
_MAX_AMOUNT: Final = Decimal(10) ** 12
_DIGITS: Final = re.compile(r"^[0-9]{1,15}$")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated order: ``crypto_amount`` or ``legal_amount`` is set (crypto wins)."""

    merchant_order_no: str
    order_type: int
    coin: str
    fiat: str
    crypto_amount: Decimal | None
    legal_amount: Decimal | None
    pay_way: int


@dataclass(slots=True)
class Order:
    """An order the emulator accepted."""

    order_no: str
    token: str
    request: OrderRequest
    rate: Decimal
    legal_volume: Decimal
    created: float
    batch_no: str | None = None


def check_pair(params: Mapping[str, Any], fiats: tuple[str, ...]) -> tuple[str, str]:
    """``(coin, fiat)`` of ``cryptoCurrency`` / ``legalCurrency`` (upper-cased), or the error."""
    coin = _code(params.get("cryptoCurrency"))
    if coin is None or coin not in KNOWN_COINS:
        raise ApiError(COIN_UNKNOWN, "cryptoCurrency")
    fiat = _code(params.get("legalCurrency"))
    if fiat is None or (fiat not in fiats and fiat not in DISABLED_FIATS):
        raise ApiError(FIAT_UNKNOWN, "legalCurrency")
    if fiat in DISABLED_FIATS:
        raise ApiError(FIAT_DISABLED, fiat)
    if coin != "USDT":
        raise ApiError(PAIR_UNKNOWN, f"{coin}/{fiat}")
    return coin, fiat


def parse_create(params: Mapping[str, Any], fiats: tuple[str, ...]) -> OrderRequest:
    """Validate an ``otc/create`` body (see the doc's parameter table)."""
    coin, fiat = check_pair(params, fiats)
    for name in ("userName", "areaCode", "phone", "idCard"):
        _text(params, name)
    _choice(params, "idCardType", (1, 2))
    _choice(params, "kyc", (2,))
    order_type = _choice(params, "orderType", (BUY, SELL))
    pay_way = _choice(params, "payWay", (1, 2, 3))
    h5 = params.get("h5")
    if not isinstance(h5, bool) and h5 not in ("true", "false"):
        raise ApiError(BAD_PARAM, "h5")
    if order_type == SELL:
        if pay_way != 1:
            raise ApiError(BAD_PARAM, "payWay: sell orders take bank cards only (1)")
        _text(params, "bank")
        _text(params, "bankAccount")
    return _finish(params, order_type, coin, fiat, pay_way)


def parse_batch_item(item: object, fiats: tuple[str, ...]) -> OrderRequest:
    """Validate one element of an ``otc/batch/sell`` array (always a sell to a bank card)."""
    if not isinstance(item, dict):
        raise ApiError(BAD_PARAM, "each batch element must be an object")
    coin, fiat = check_pair(item, fiats)
    for name in ("userName", "areaCode", "phone", "idCard", "bank", "bankAccount",
                 "bankBranch"):
        _text(item, name)
    _choice(item, "idCardType", (1, 2))
    if item.get("payWay") not in (None, ""):
        _choice(item, "payWay", (1,))
    return _finish(item, SELL, coin, fiat, 1)


def _finish(params: Mapping[str, Any], order_type: int, coin: str, fiat: str,
            pay_way: int) -> OrderRequest:
    merchant_order_no = _text(params, "merchantOrderNo")
    if len(merchant_order_no) > 64:
        raise ApiError(BAD_PARAM, "merchantOrderNo")
    for name in ("syncUrl", "asyncUrl"):
        url = params.get(name)
        if url not in (None, "") and (not isinstance(url, str)
                                      or not url.startswith(("http://", "https://"))):
            raise ApiError(BAD_PARAM, name)
    crypto = legal = None
    if params.get("cryptoAmount") not in (None, ""):
        crypto = to_decimal(params["cryptoAmount"])
        if crypto is None or crypto > _MAX_AMOUNT:
            raise ApiError(BAD_PARAM, "cryptoAmount")
        crypto = crypto.quantize(_USDT_Q, rounding=ROUND_DOWN)
        if crypto <= 0:
            raise ApiError(BAD_PARAM, "cryptoAmount")
    elif params.get("legalAmount") not in (None, ""):
        legal = _whole(params["legalAmount"])
        if legal is None or legal <= 0 or legal > _MAX_AMOUNT:
            raise ApiError(BAD_PARAM, "legalAmount: a positive whole number")
    else:
        raise ApiError(BAD_PARAM, "cryptoAmount or legalAmount is required")
    return OrderRequest(merchant_order_no, order_type, coin, fiat, crypto, legal, pay_way)


def _code(value: object) -> str | None:
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(BAD_PARAM, name)
    return value.strip()


def _choice(params: Mapping[str, Any], name: str, allowed: tuple[int, ...]) -> int:
    """An Int field: a JSON integer or a digit string (the doc's example sends ``"payWay":"1"``)."""
    value = params.get(name)
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ApiError(BAD_PARAM, name)
    return value


def _whole(value: object) -> Decimal | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return Decimal(value.strip())
    return None
