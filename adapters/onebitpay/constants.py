"""1BitPay constants: URLs, paths, budget policy, markets, minimums and the exact error table.

From 1BitPay's own doc (in Chinese), summed up in ``docs/providers.md``. Figures marked
*assumption* are not documented by 1BitPay: they are our choice and can be overridden per source.
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType
from typing import Final

from router.assets import Asset
from router.budgets import BudgetPolicy
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ProviderError,
    Rejected,
    UnsupportedPair,
)

__all__ = [
    "BAD_SIGNATURE",
    "BASE_URL",
    "CREATE_COST",
    "CRYPTO",
    "CRYPTO_ASSET",
    "CRYPTO_PLACES",
    "DEFAULT_BUDGET_POLICY",
    "DEFAULT_FIATS",
    "DEFAULT_MIN_VOLUME",
    "ERROR_CODES",
    "FIAT_PLACES",
    "LANG",
    "MAX_WORDS",
    "NAME",
    "NETWORK",
    "OK",
    "ORDER_BUY",
    "ORDER_SELL",
    "PAIR_OR_MAX",
    "PATH_CREATE",
    "PATH_RATE",
    "RATE_COST",
    "RATE_TTL",
    "SANDBOX_URL",
    "SIGN_TYPE_MD5",
    "UNKNOWN_CODE_ERROR",
]

NAME: Final = "onebitpay"
BASE_URL: Final = "https://api.1bitpay.io"
SANDBOX_URL: Final = "https://sandbox.1bitpay.io"

PATH_RATE: Final = "/api/otc/rate"
PATH_CREATE: Final = "/api/otc/create"

# --- public (header) parameters [H] --------------------------------------------------------------
SIGN_TYPE_MD5: Final = "1"  # SignType 1 = MD5 (the only one supported)
LANG: Final = "en"

# --- what we trade -----------------------------------------------------------------------------
#: The doc does not name a network; USDT on Tron is assumed (docs/providers.md).
CRYPTO: Final = "USDT"
NETWORK: Final = "TRC20"
CRYPTO_ASSET: Final = Asset.of(CRYPTO, NETWORK).id  # "USDT@TRC20"
#: Fiat currencies offered as markets (configurable per source).
DEFAULT_FIATS: Final[tuple[str, ...]] = ("CNY", "USD", "EUR", "RUB")
#: Minimum order volume in fiat units, about 100 CNY each. *Assumption*: the doc has code 150032
#: ("below the minimum volume") but publishes no figure.
DEFAULT_MIN_VOLUME: Final[MappingProxyType[str, Decimal]] = MappingProxyType(
    {"CNY": Decimal(100), "USD": Decimal(15), "EUR": Decimal(14), "RUB": Decimal(1300)}
)
FIAT_PLACES: Final = 2  # fiat amounts are shown to the cent
CRYPTO_PLACES: Final = 6  # USDT to 6 decimals

#: ``orderType`` of ``otc/create``: 1 buy (user pays fiat, gets USDT), 2 sell.
ORDER_BUY: Final = 1
ORDER_SELL: Final = 2

#: ``otc/rate`` answers are cached this long (seconds): the rate does not depend on the amount.
RATE_TTL: Final = 30.0

# --- budget (assumption: no limit documented) --------------------------------------------------
RATE_COST: Final = 1
CREATE_COST: Final = 1
#: 60 units / 60 s per API key, 10 % margin, 5 units kept for ``otc/create``.
DEFAULT_BUDGET_POLICY: Final = BudgetPolicy(limit=60, window=60.0, margin=0.10, reserve=5)

# --- envelope codes [H]: ``{"code": 200, "message": "Success", "data": ...}`` ---------------------
OK: Final = 200
BAD_SIGNATURE: Final = 150025
#: HTTP status on errors is not documented; assumed 200 with the code in the envelope.
ERROR_CODES: Final[MappingProxyType[int, type[ProviderError]]] = MappingProxyType(
    {
        150025: AuthError,  # bad signature
        150024: AuthError,  # unknown API key
        50017: AuthError,  # apiKey empty
        150030: AuthError,  # merchant unknown or disabled
        50042: AuthError,  # request not allowed for this merchant (IP, permission)
        150019: AuthError,  # timestamp outside the allowed window (the clock, or a replay)
        150026: UnsupportedPair,  # coin does not exist
        150031: UnsupportedPair,  # pair does not exist, or above the maximum: see MAX_WORDS
        150032: AmountOutOfRange,  # below the minimum volume (below_min=True)
        150033: UnsupportedPair,  # fiat currency disabled
        150034: UnsupportedPair,  # fiat currency does not exist
    }
)
#: 150031 is also sent for an amount above the maximum volume: a message naming one of these is
#: :class:`AmountOutOfRange` (above the maximum), any other 150031 an unsupported pair.
PAIR_OR_MAX: Final = 150031
MAX_WORDS: Final = ("max", "最大", "exceed", "超过", "too large", "too much")
#: A code missing from :data:`ERROR_CODES` is a refusal we do not understand: permanent.
UNKNOWN_CODE_ERROR: Final[type[ProviderError]] = Rejected
