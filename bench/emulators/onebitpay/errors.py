"""1BitPay answer codes and their messages (``Lang`` en / zh), and the :class:`ApiError` they ride.

Documented codes: 200 success; 50017 apiKey empty; 150024 unknown API key; 150025 bad signature;
150026 coin does not exist; 150031 trading pair does not exist; 150032 below the minimum volume;
150033 fiat disabled; 150034 fiat does not exist. Every error comes back with HTTP 200.

Not documented, chosen here (an adapter should treat them as generic rejections): 400 malformed
request or missing/invalid business parameter, 429 budget exceeded (the only answer with HTTP 429,
plus ``Retry-After``), 500 the emulator's own failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "API_KEY_EMPTY",
    "BAD_PARAM",
    "BAD_SIGNATURE",
    "BELOW_MIN_VOLUME",
    "COIN_UNKNOWN",
    "FIAT_DISABLED",
    "FIAT_UNKNOWN",
    "INTERNAL",
    "MESSAGES",
    "OK",
    "PAIR_UNKNOWN",
    "TOO_MANY",
    "UNKNOWN_API_KEY",
    "ApiError",
    "message",
]

OK: Final = 200
API_KEY_EMPTY: Final = 50017
UNKNOWN_API_KEY: Final = 150024
BAD_SIGNATURE: Final = 150025
COIN_UNKNOWN: Final = 150026
PAIR_UNKNOWN: Final = 150031
BELOW_MIN_VOLUME: Final = 150032
FIAT_DISABLED: Final = 150033
FIAT_UNKNOWN: Final = 150034
BAD_PARAM: Final = 400
TOO_MANY: Final = 429
INTERNAL: Final = 500

MESSAGES: Final[Mapping[int, tuple[str, str]]] = MappingProxyType({
    OK: ("Success", "Success"),
    API_KEY_EMPTY: ("apiKey is empty", "apiKey不能为空"),
    UNKNOWN_API_KEY: ("ApiKey does not exist", "ApiKey不存在"),
    BAD_SIGNATURE: ("Signature verification failed", "签名验证失败"),
    COIN_UNKNOWN: ("Coin does not exist", "币种不存在"),
    PAIR_UNKNOWN: ("Trading pair does not exist", "交易对不存在"),
    BELOW_MIN_VOLUME: ("Below the minimum trading volume", "低于最小交易量"),
    FIAT_DISABLED: ("Legal currency is disabled", "法币已禁用"),
    FIAT_UNKNOWN: ("Legal currency does not exist", "法币不存在"),
    BAD_PARAM: ("Parameter error", "参数错误"),
    TOO_MANY: ("Too many requests", "请求过于频繁"),
    INTERNAL: ("System error", "系统错误"),
})


def message(code: int, lang: str, detail: str = "") -> str:
    """The message for ``code`` in ``lang`` (zh or en), with ``detail`` appended if any."""
    en, zh = MESSAGES.get(code, MESSAGES[BAD_PARAM])
    text = zh if lang == "zh" else en
    return f"{text}: {detail}" if detail else text


class ApiError(Exception):
    """An answer with a non-200 envelope code; ``detail`` names the offending field, no secrets."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
