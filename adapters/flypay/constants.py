"""FlyPay constants: URLs, paths, budget table and the exact error table.

From FlyPay's API doc (in Russian), summed up in ``docs/providers.md``.

FlyPay documents **no error codes**: an error is ``{"status": "error", "message": ...}``. Errors
are therefore classified by the HTTP status and the envelope's ``status`` alone, never by the
message text. The HTTP statuses below are our assumption [?], chosen as a REST API usually uses
them; a status missing from the table is a refusal we do not understand (permanent:
:class:`Rejected`). 5xx is always :class:`ProviderUnavailable`.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

from router.budgets import BudgetPolicy
from router.errors import AuthError, ProviderError, RateLimited, Rejected

__all__ = [
    "API_PREFIX",
    "BASE_URL",
    "DEFAULT_BUDGET_POLICY",
    "DEFAULT_COST",
    "ENVELOPE_ERROR",
    "ENVELOPE_SUCCESS",
    "HTTP_ERRORS",
    "MESSAGE_ERRORS",
    "METHOD_COSTS",
    "NAME",
    "PATHS",
    "RESERVED_METHODS",
    "UNKNOWN_STATUS_ERROR",
    "method_cost",
]

NAME: Final = "flypay"
#: The doc's URL is ``https://fly-pay.io/api/v1/<method>``: host here, prefix below.
BASE_URL: Final = "https://fly-pay.io"
API_PREFIX: Final = "/api/v1/"

#: The methods we call, by the doc's names.
PATHS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "payways": "payways",
        "estimated_amount": "exchange/estimated_amount",
        "balances": "balances",
        "exchange": "transaction/exchange",
    }
)

# --- budget [?]: no limit is documented; assumed 60 units / 60 s per api key (docs/providers.md)
DEFAULT_COST: Final = 1
METHOD_COSTS: Final[MappingProxyType[str, int]] = MappingProxyType({})
#: Calls that may spend the reserve (order creation).
RESERVED_METHODS: Final = frozenset({"exchange"})

#: 60 units/min with a 10 % safety margin (cap 54); 5 units kept back for ``transaction/exchange``.
DEFAULT_BUDGET_POLICY: Final = BudgetPolicy(limit=60, window=60.0, margin=0.10, reserve=5)


def method_cost(method: str) -> int:
    """Budget units one call of ``method`` costs (every call: 1)."""
    return METHOD_COSTS.get(method, DEFAULT_COST)


# --- envelope ------------------------------------------------------------------------------------
ENVELOPE_SUCCESS: Final = "success"
ENVELOPE_ERROR: Final = "error"

#: HTTP status of a verified ``{"status": "error"}`` envelope → error class [?]. 429 also
#: penalises the budget; 5xx (any) is :class:`ProviderUnavailable`.
HTTP_ERRORS: Final[MappingProxyType[int, type[ProviderError]]] = MappingProxyType(
    {
        200: Rejected,  # a refusal carried at HTTP 200: reason undocumented
        400: Rejected,  # bad parameters (the source re-explains pair/limit refusals)
        401: AuthError,  # unknown key or bad signature
        403: AuthError,
        404: Rejected,  # unknown method or object (the source re-explains unknown pairs)
        409: Rejected,
        422: Rejected,  # valid JSON, refused values (e.g. out of limits)
        429: RateLimited,
    }
)
#: FlyPay's doc defines no HTTP statuses, only ``status: "error"`` and a ``message``, so a
#: refusal may come at HTTP 200. Such a refusal (and an unverifiable one: a wrong secret makes
#: the answer fail our check) is read by its message: these patterns, first match wins; anything
#: else stays a plain :class:`Rejected` (verified) or :class:`SignatureInvalid` (unverified).
MESSAGE_ERRORS: Final[tuple[tuple[re.Pattern[str], type[ProviderError]], ...]] = (
    (re.compile(r"too many|rate.?limit", re.IGNORECASE), RateLimited),
    (re.compile(r"api.?key|signature|unauthori[sz]ed|forbidden|credential", re.IGNORECASE),
     AuthError),
)
#: A status missing from :data:`HTTP_ERRORS` (and below 500): permanent, not understood.
UNKNOWN_STATUS_ERROR: Final[type[ProviderError]] = Rejected
