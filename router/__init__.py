"""bestrate: the best rate to turn one asset into another across crypto providers.

Public API::

    from router import Router
    async with Router(sources) as r:
        rs = await r.quote("BTC", "USDT", "0.5")
        rs.best, rs.routes, rs.unavailable
"""

from .assets import Asset, parse_asset
from .batch import BatchStats
from .budgets import Budget, BudgetPolicy, BudgetRegistry, BudgetStore, MemoryBudgetStore
from .cache import MemoryQuoteCache, QuoteCache
from .config import Config, load_config
from .engine import Router
from .errors import (
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
from .health import BreakerPolicy, Health
from .model import Fee, Leg, Market, Quote, QuoteRequest, Route, RouteSet, Unavailable
from .render import routeset_to_dict, routeset_to_json
from .secret import Secret
from .source import QuoteSource, SourceContext
from .validation import ImplausibleQuote, Plausibility

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
