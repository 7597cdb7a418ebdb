"""Gate Pay convert emulator: conversions between coins inside a Gate Pay account.

``GET /v1/pay/convert/currency``, ``GET /v1/pay/convert/pair``, ``POST /v1/pay/convert/preview``,
``POST /v1/pay/convert``, ``GET /v1/pay/convert/order``, signed with HMAC-SHA512 over
``ts\\nnonce\\nbody\\n``, the ``{status, code, label, errorMessage, data}`` envelope, 120 units per
60 s per client id. Prices come from the seeded world through :func:`bench.world.profile_gatepay.
build_gatepay`.
"""

from .app import LABELS, RATE_LIMIT_CODE, STATE_KEY, VARIANTS, create_app
from .auth import credentials, sign
from .budget import BUDGET_LIMIT, BUDGET_WINDOW, WindowBudget
from .model import PRICE_TOLERANCE, QUOTE_TTL, ApiError, GatePayModel
from .orders import STATUS_CREATED, STATUS_FAILED, STATUS_SUCCESS, Order, QuoteRecord
from .pricing import QUOTE_PRIORITY, PairLimits, Preview, Pricer

__all__ = [
    "BUDGET_LIMIT",
    "BUDGET_WINDOW",
    "LABELS",
    "PRICE_TOLERANCE",
    "QUOTE_PRIORITY",
    "QUOTE_TTL",
    "RATE_LIMIT_CODE",
    "STATE_KEY",
    "STATUS_CREATED",
    "STATUS_FAILED",
    "STATUS_SUCCESS",
    "VARIANTS",
    "ApiError",
    "GatePayModel",
    "Order",
    "PairLimits",
    "Preview",
    "Pricer",
    "QuoteRecord",
    "WindowBudget",
    "create_app",
    "credentials",
    "sign",
]
