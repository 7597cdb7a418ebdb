"""FixedFloat constants: URLs, paths, budget table, margins and the exact error tables.

From FixedFloat's v2 API doc and what peer clients do, summed up in ``docs/providers.md``.
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

from router.budgets import BudgetPolicy
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Rejected,
)
from router.model import RateType

__all__ = [
    "API_PREFIX",
    "BASE_URL",
    "BROWSER_USER_AGENT",
    "CREATE_COST",
    "DATA_ERRORS",
    "DEFAULT_BUDGET_POLICY",
    "DEFAULT_COST",
    "DOC_RATES_PATH",
    "ERROR_CODES",
    "METHOD_COSTS",
    "NAME",
    "OK",
    "RATES_PATHS",
    "SERVICE_MARGIN",
    "UNKNOWN_CODE_ERROR",
    "UNKNOWN_DATA_ERROR",
    "DataErrorRule",
    "method_cost",
]

NAME: Final = "fixedfloat"
BASE_URL: Final = "https://ff.io"
API_PREFIX: Final = "/api/v2/"

#: Bulk rate exports (BestChange format): no key, no signature, no budget cost [M].
RATES_PATHS: Final[MappingProxyType[RateType, str]] = MappingProxyType(
    {"fixed": "/rates/fixed.xml", "float": "/rates/float.xml"}
)
#: The doc's one export (``https://ff.io/rates.xml``), read for the fixed rates when the
#: per-type file real clients use is 404.
DOC_RATES_PATH: Final = "/rates.xml"

#: The live host rejects plain scripts on the rates files: present as a browser.
BROWSER_USER_AGENT: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

# --- budget [H]: 250 units per minute per key; create costs 50, every other call 1 -------------
DEFAULT_COST: Final = 1
CREATE_COST: Final = 50
METHOD_COSTS: Final[MappingProxyType[str, int]] = MappingProxyType({"create": CREATE_COST})

#: 250 units/min with a 5 % safety margin; 50 units (one ``create``) kept back for order creation.
#: After a "too many" the key is blocked for a while, longer at each later offence [H], and a call
#: while blocked is an offence. The doc gives no duration, so the first pause lasts a whole
#: window (60 s: the emulator's first block), doubling per offence up to an hour: a shorter pause
#: would re-probe a key that is still blocked and lengthen its block.
DEFAULT_BUDGET_POLICY: Final = BudgetPolicy(
    limit=250, window=60.0, margin=0.05, reserve=CREATE_COST, penalty_base=60.0,
    penalty_max=3600.0,
)


def method_cost(method: str) -> int:
    """Budget units one call of ``method`` costs."""
    return METHOD_COSTS.get(method, DEFAULT_COST)


# --- service margin [H], from the doc's afftax section: FF = 1 % fixed, 0.5 % float ------------
SERVICE_MARGIN: Final[MappingProxyType[RateType, Decimal]] = MappingProxyType(
    {"fixed": Decimal("0.01"), "float": Decimal("0.005")}
)

# --- envelope codes [M]: API errors come back with HTTP 200 and a non-zero ``code`` -------------
OK: Final = 0
ERROR_CODES: Final[MappingProxyType[int, type[ProviderError]]] = MappingProxyType(
    {
        301: Rejected,  # invalid input: bad address, incorrect direction, bad currency...
        300: ProviderUnavailable,  # internal error
        429: RateLimited,  # too many requests: the key is blocked for a while
        401: AuthError,  # bad key or signature [L]
    }
)
#: A code missing from :data:`ERROR_CODES` is a refusal we do not understand: permanent.
UNKNOWN_CODE_ERROR: Final[type[ProviderError]] = Rejected


class DataErrorRule(NamedTuple):
    """How one ``data.errors`` entry of a ``price`` answer maps onto the error tree.

    For :class:`AmountOutOfRange`, ``below_min`` says which bound was crossed and ``bound`` which of
    the provider's figures (``min`` or ``max`` of ``data.from``/``data.to``) is the limit.
    """

    error: type[ProviderError]
    below_min: bool = False
    bound: Literal["min", "max"] | None = None


#: Out-of-range is **not** an error code: it is ``code 0`` with ``data.errors`` set. Checked in
#: this order, so the most specific, permanent reason (the amount) wins over a transient one.
DATA_ERRORS: Final[MappingProxyType[str, DataErrorRule]] = MappingProxyType(
    {
        "LIMIT_MIN": DataErrorRule(AmountOutOfRange, below_min=True, bound="min"),
        "LIMIT_MAX": DataErrorRule(AmountOutOfRange, below_min=False, bound="max"),
        # not enough reserve: FixedFloat's ``max`` already reflects the reserve
        "RESERVE_FROM": DataErrorRule(AmountOutOfRange, below_min=False, bound="max"),
        "RESERVE_TO": DataErrorRule(AmountOutOfRange, below_min=False, bound="max"),
        "OFFLINE_FROM": DataErrorRule(ProviderUnavailable),
        "OFFLINE_TO": DataErrorRule(ProviderUnavailable),
        "MAINTENANCE_FROM": DataErrorRule(ProviderUnavailable),
        "MAINTENANCE_TO": DataErrorRule(ProviderUnavailable),
    }
)
#: A ``data.errors`` entry we do not know still means "cannot create an order with these".
UNKNOWN_DATA_ERROR: Final = DataErrorRule(Rejected)
