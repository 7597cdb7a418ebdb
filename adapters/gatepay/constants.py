"""GatePay convert constants: URL, paths, budget, quote lifetime and the exact error-code table.

From GatePay's convert API doc, summed up in ``docs/providers.md``. Assumptions (no documented
figure) are marked [?].
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from router.budgets import BudgetPolicy
from router.errors import (
    AuthError,
    ProviderError,
    ProviderUnavailable,
    Rejected,
)

__all__ = [
    "BASE_URL",
    "CONTENT_TYPE",
    "CONVERT_PATH",
    "CURRENCY_PATH",
    "DEFAULT_BUDGET_POLICY",
    "DEFAULT_COST",
    "ERROR_CODES",
    "NAME",
    "OK_CODE",
    "ORDER_PATH",
    "ORDER_STATUS",
    "PAIR_PATH",
    "PREVIEW_PATH",
    "QUOTE_TTL",
    "RESERVED_PATHS",
    "TIMESTAMP_CODE",
    "UNKNOWN_CODE_ERROR",
    "DuplicateOrder",
    "OrderNotFound",
    "RateMoved",
]

NAME: Final = "gatepay"
BASE_URL: Final = "https://openplatform.gateapi.io"
#: The doc's data type; the provider answers 400007 to any other content type.
CONTENT_TYPE: Final = "application/json"

CURRENCY_PATH: Final = "/v1/pay/convert/currency"  # GET ?side=
PAIR_PATH: Final = "/v1/pay/convert/pair"  # GET ?currency=&side=
PREVIEW_PATH: Final = "/v1/pay/convert/preview"  # POST: firm quote, locks a quoteId
CONVERT_PATH: Final = "/v1/pay/convert"  # POST: order creation, idempotent on clientReqId
ORDER_PATH: Final = "/v1/pay/convert/order"  # GET ?orderId=

# --- budget [?]: none documented; assumed 120 units / 60 s per client id (docs/providers.md) -
DEFAULT_COST: Final = 1
#: Calls that create orders and may dip into the budget's reserve.
RESERVED_PATHS: Final = frozenset({CONVERT_PATH})
#: 120 units per 60 s, every call 1 unit, 10 % margin, 10 units kept for ``convert``.
DEFAULT_BUDGET_POLICY: Final = BudgetPolicy(limit=120, window=60.0, margin=0.10, reserve=10)

#: quoteId lifetime [?]: the doc says nothing; we assume 20 s (configurable per source).
QUOTE_TTL: Final = 20.0

#: Order ``status`` values the doc names; others are passed through as numbers [?].
ORDER_STATUS: Final[MappingProxyType[int, str]] = MappingProxyType(
    {1: "created", 3: "success", 6: "failed"}
)


# --- error classes the table needs beyond router.errors (subclasses: the router's choice of
# skip or retry, made from the class, stays the parent's) ----------------------------------------
class RateMoved(ProviderUnavailable):
    """400622: the conversion failed because the rate moved; preview again and retry."""


class DuplicateOrder(Rejected):
    """400201: an order with this ``clientReqId`` exists already (an earlier attempt landed)."""


class OrderNotFound(Rejected):
    """400202: no order with that id."""


# --- envelope codes [H]: strings, ``"000000"`` = success; HTTP 200 unless noted ---------------
OK_CODE: Final = "000000"
#: Code of an expired/skewed ``X-GatePay-Timestamp``; its message tells the user to check the clock.
TIMESTAMP_CODE: Final = "400003"
ERROR_CODES: Final[MappingProxyType[str, type[ProviderError]]] = MappingProxyType(
    {
        "400001": Rejected,  # bad parameters
        "400002": AuthError,  # bad signature (or unknown client id)
        TIMESTAMP_CODE: AuthError,  # timestamp more than 10 s off: our clock is skewed
        "400007": Rejected,  # unsupported content type
        "400020": Rejected,  # bad nonce
        "400201": DuplicateOrder,  # duplicate order (clientReqId already used)
        "400202": OrderNotFound,  # order not found
        "400622": RateMoved,  # conversion failed: the rate moved (transient)
        "300000": ProviderUnavailable,  # system error (HTTP 500)
        "300001": ProviderUnavailable,  # system error (HTTP 500)
        "400000": ProviderUnavailable,  # unknown error (HTTP 500)
    }
)
#: A code missing from :data:`ERROR_CODES` is a refusal we do not understand: permanent.
UNKNOWN_CODE_ERROR: Final[type[ProviderError]] = Rejected
