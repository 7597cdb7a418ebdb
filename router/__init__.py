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
    RateLimited,
    Rejected,
    SignatureInvalid,
    TransientError,
    UnsupportedPair,
)
from .model import Fee, Leg, Market, Quote, QuoteRequest, Route, RouteSet, Unavailable
from .render import routeset_to_dict, routeset_to_json
from .secret import Secret
from .source import QuoteSource, SourceContext

__all__ = [
    "AmountOutOfRange",
    "Asset",
    "AuthError",
    "BatchStats",
    "BestrateError",
    "Budget",
    "BudgetExhausted",
    "BudgetPolicy",
    "BudgetRegistry",
    "BudgetStore",
    "Config",
    "ConfigError",
    "Fee",
    "InvalidRequest",
    "Leg",
    "MalformedResponse",
    "Market",
    "MemoryBudgetStore",
    "MemoryQuoteCache",
    "PermanentError",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
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
