"""FaTPay on-ramp emulator: signed GETs under ``/open/api/onramp/`` (token, currency, price,
order) verified with the partner's RSA public key, the ``{code, msg, data}`` envelope (10000 ok,
10002 incorrect params, 10003 signature error), 60 units / 60 s per partner id.
"""

from .app import API_PREFIX, STATE_KEY, VARIANTS, create_app
from .auth import (
    PRODUCTION_HOST,
    candidate_hosts,
    credentials,
    signing_map,
    string_to_sign,
)
from .catalog import FIATS, PAYMENT_METHODS, TOKENS, FPToken, PaymentMethod
from .errors import CODE_OK, CODE_PARAMS, CODE_SIGNATURE, ApiError
from .model import (
    BUDGET_LIMIT,
    BUDGET_WINDOW,
    METHODS,
    TIMESTAMP_TOLERANCE,
    FaTPayModel,
)
from .pricing import OptionLimits, PriceQuote, Pricer

__all__ = [
    "API_PREFIX",
    "BUDGET_LIMIT",
    "BUDGET_WINDOW",
    "CODE_OK",
    "CODE_PARAMS",
    "CODE_SIGNATURE",
    "FIATS",
    "METHODS",
    "PAYMENT_METHODS",
    "PRODUCTION_HOST",
    "STATE_KEY",
    "TIMESTAMP_TOLERANCE",
    "TOKENS",
    "VARIANTS",
    "ApiError",
    "FPToken",
    "FaTPayModel",
    "OptionLimits",
    "PaymentMethod",
    "PriceQuote",
    "Pricer",
    "candidate_hosts",
    "create_app",
    "credentials",
    "signing_map",
    "string_to_sign",
]
