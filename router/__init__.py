"""bestrate: the best rate to turn one asset into another across crypto providers.

Public API::

    from router import Router
    async with Router(sources) as r:
        rs = await r.quote("BTC", "USDT", "0.5")
        rs.best, rs.routes, rs.unavailable
"""

from router.assets import Asset, parse_asset
from router.pricing.batch import BatchStats
from router.budgets import Budget, BudgetPolicy, BudgetRegistry, BudgetStore, MemoryBudgetStore
from router.sources.firmcache import MemoryQuoteCache, QuoteCache
from router.face.config import Config, load_config
from router.engine import Router
from router.errors import (
    AmountOutOfRange,
    AuthError,
    BestrateError,
    BudgetExhausted,
    ConfigError,
    InvalidRequest,
    MalformedResponse,
    PermanentError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    ProviderUnhealthy,
    RateLimited,
    Rejected,
    SignatureInvalid,
    TransientError,
    UnsupportedPair,
)
from router.sources.health import BreakerPolicy, Health
from router.model import Fee, Leg, Market, Quote, QuoteRequest, Route, RouteSet, Unavailable
from router.face.render import routeset_to_dict, routeset_to_json
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext
from router.snapshot.screening import ImplausibleQuote, Plausibility

__all__ = [
    "AmountOutOfRange",
    "Asset",
    "AuthError",
    "BatchStats",
    "BestrateError",
    "BreakerPolicy",
    "Budget",
    "BudgetExhausted",
    "BudgetPolicy",
    "BudgetRegistry",
    "BudgetStore",
    "Config",
    "ConfigError",
    "Fee",
    "Health",
    "ImplausibleQuote",
    "InvalidRequest",
    "Leg",
    "MalformedResponse",
    "Market",
    "MemoryBudgetStore",
    "MemoryQuoteCache",
    "PermanentError",
    "Plausibility",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "ProviderUnhealthy",
    "Quote",
    "QuoteCache",
    "QuoteRequest",
    "QuoteSource",
    "RateLimited",
    "Rejected",
    "Route",
    "RouteSet",
    "Router",
    "Secret",
    "SignatureInvalid",
    "SourceContext",
    "TransientError",
    "Unavailable",
    "UnsupportedPair",
    "load_config",
    "parse_asset",
    "routeset_to_dict",
    "routeset_to_json",
]
