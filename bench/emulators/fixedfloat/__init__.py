"""FixedFloat v2 emulator: ``POST /api/v2/<method>`` with HMAC-SHA256 over the raw body, the
``{code, msg, data}`` envelope, 250 units/min per key with escalating blocks, and the BestChange
rates export at ``/rates/fixed.xml`` and ``/rates/float.xml``.
"""

from .app import STATE_KEY, VARIANTS, create_app
from .currencies import CURRENCIES, FFCurrency
from .feed import FeedItem, FeedSnapshot, render_rates_xml, synthetic_items
from .model import BUDGET_LIMIT, METHOD_COSTS, ApiError, FixedFloatModel
from .pricing import Pricer, Quote

__all__ = [
    "BUDGET_LIMIT",
    "CURRENCIES",
    "METHOD_COSTS",
    "STATE_KEY",
    "VARIANTS",
    "ApiError",
    "FFCurrency",
    "FeedItem",
    "FeedSnapshot",
    "FixedFloatModel",
    "Pricer",
    "Quote",
    "create_app",
    "render_rates_xml",
    "synthetic_items",
]
