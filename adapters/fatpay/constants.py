"""FaTPay constants: URLs, paths, budget table and the exact error-code table.

FaTPay documents the envelope, the headers, the codes, the price call and the RSA signature; the
token/currency list layouts and the rate limit are our assumptions. ``docs/providers.md`` says
what rests on what.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from router.budgets import BudgetPolicy
from router.errors import AuthError, ProviderError, Rejected

__all__ = [
    "API_VERSION",
    "BASE_URL",
    "CALL_COST",
    "CURRENCY_PATH",
    "DEFAULT_BUDGET_POLICY",
    "DEFAULT_COIN_PLACES",
    "DEFAULT_FIATS",
    "DEFAULT_FIAT_PLACES",
    "DEFAULT_TOKENS",
    "ERROR_CODES",
    "LEARNT_TTL",
    "LIST_TTL",
    "NAME",
    "OK",
    "PARAMS_ERROR",
    "PRICE_PATH",
    "PRODUCTION_HOST",
    "SIGNATURE_ERROR",
    "TOKEN_PATH",
    "UNKNOWN_CODE_ERROR",
]

NAME: Final = "fatpay"
#: The doc's request domain (HTTPS only) [H].
BASE_URL: Final = "https://api.ramp.fatpay.xyz"
PRODUCTION_HOST: Final = "api.ramp.fatpay.xyz"
#: ``X-Fp-Version`` [H].
API_VERSION: Final = "v1.0"

# --- paths: the price call is documented [H]; the two lists' layouts are our assumption [L] ----
PRICE_PATH: Final = "/open/api/onramp/price"
TOKEN_PATH: Final = "/open/api/onramp/token"
CURRENCY_PATH: Final = "/open/api/onramp/currency"

#: The token and currency lists change rarely: cache them this long (seconds).
LIST_TTL: Final = 600.0
#: A pair's edge is priced from ``price`` answers no older than this (seconds); see ``edges``.
LEARNT_TTL: Final = 300.0
#: What FaTPay is assumed to sell when its token or currency list cannot be had (the paths and
#: fields are undocumented: a 404, or an answer in a layout we cannot read). Token codes follow
#: the doc's ``USDT_ERC20`` form (coin, underscore, network; a coin alone is its home chain).
#: A source takes its own lists (``tokens=``, ``fiats=``); these are the defaults.
DEFAULT_TOKENS: Final[tuple[str, ...]] = ("USDT_ERC20", "USDT_TRC20", "USDT_BSC", "USDC_ERC20",
                                          "BTC", "ETH")
DEFAULT_FIATS: Final[tuple[str, ...]] = ("USD", "EUR", "GBP")
#: Decimals of a fiat amount when the currency list does not say.
DEFAULT_FIAT_PLACES: Final = 2
#: Decimals of a coin amount when the token list does not say.
DEFAULT_COIN_PLACES: Final = 8

# --- budget [L]: no documented limit; assumed 60 units / 60 s per partner id (docs/providers.md)
CALL_COST: Final = 1  # every call (price, token, currency) costs one unit
#: 60 units/min with a 10 % safety margin; no order creation here, so nothing is reserved.
DEFAULT_BUDGET_POLICY: Final = BudgetPolicy(limit=60, window=60.0, margin=0.10, reserve=0)

# --- envelope codes [H]: ``code`` is an integer in practice, a string in one doc table ----------
OK: Final = 10000
PARAMS_ERROR: Final = 10002  # "incorrect params"
SIGNATURE_ERROR: Final = 10003  # bad signature (the emulator also uses it for an unknown partner)
ERROR_CODES: Final[MappingProxyType[int, type[ProviderError]]] = MappingProxyType(
    {
        PARAMS_ERROR: Rejected,  # unless its data shows a limit (see client.FaTPayClient.price)
        SIGNATURE_ERROR: AuthError,
    }
)
#: A code missing from :data:`ERROR_CODES` is a refusal we do not understand: permanent.
UNKNOWN_CODE_ERROR: Final[type[ProviderError]] = Rejected
