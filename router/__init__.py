"""bestrate: the best rate to turn one asset into another across crypto providers.

Public API::

    from router import Router
    async with Router(sources) as r:                # or Router.from_config(): bestrate.toml + env
        rs = await r.quote("BTC", "USDT", "0.5")
        rs.best, rs.routes, rs.unavailable, rs.to_dict()

A third-party provider implements :class:`QuoteSource` with the names exported here
(:class:`Market`, :class:`Edge`, :class:`Quote`, :class:`Fee`, ``Side``, ``RateType``,
:class:`SourceContext` and the :class:`ProviderError` family).

The path of one request, in the order of the subpackages:

1. :mod:`router.request` turns the caller's input into a validated ``QuoteRequest``;
2. :mod:`router.snapshot`: every source's edges, screened (:mod:`~router.snapshot.screening`) and
   valued, built into the graph snapshot (:mod:`~router.snapshot.graph`) off the request path;
3. :mod:`router.search` finds direct and multi-hop candidates on that snapshot;
4. :mod:`router.pricing` prices the winners firm (:mod:`~router.pricing.answer`), calibrates the
   rest from what firm quotes revealed and ranks them; the batch planner runs the same stages;
5. :mod:`router.sources` is how every stage reaches a provider: one quote's calls under its
   deadline, circuit breakers, the firm-quote cache; :mod:`router.budgets` keeps each provider's
   rate-limit budget;
6. :mod:`router.face`: configuration, rendering, batch files; ``router.cli`` is the command.

:mod:`router.engine` (the :class:`Router`) drives the stages; :mod:`router.model` and
:mod:`router.errors` are what they pass and raise.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the names below are imported on first use (`bestrate --version` starts fast)
    from router.assets import Asset, parse_asset
    from router.budgets import (
        Budget,
        BudgetPolicy,
        BudgetRegistry,
        BudgetStore,
        MemoryBudgetStore,
    )
    from router.engine import Router
    from router.face.config import (
        Config,
        InsecureConfigWarning,
        UnknownVariableWarning,
        load_config,
    )
    from router.face.render import routeset_to_dict, routeset_to_json
    from router.model import (
        Amount,
        Fee,
        FeeKind,
        Leg,
        Market,
        Quote,
        QuoteKind,
        QuoteRequest,
        RateType,
        RateTypeFilter,
        Reason,
        Route,
        RouteSet,
        Side,
        Unavailable,
    )
    from router.pricing.batch import BatchStats
    from router.secret import Secret
    from router.snapshot.edges import Edge
    from router.snapshot.screening import ImplausibleQuote, Plausibility
    from router.sources.firmcache import MemoryQuoteCache, QuoteCache
    from router.sources.health import BreakerPolicy, Health
    from router.sources.protocol import QuoteSource, SourceContext
    from router.sources.sharedcache import RedisQuoteCache

#: Where each lazily imported name lives: ``router.X`` is imported on first use of ``X``.
_LAZY: dict[str, str] = {
    "Asset": "router.assets",
    "parse_asset": "router.assets",
    "Budget": "router.budgets",
    "BudgetPolicy": "router.budgets",
    "BudgetRegistry": "router.budgets",
    "BudgetStore": "router.budgets",
    "MemoryBudgetStore": "router.budgets",
    "Router": "router.engine",
    "Config": "router.face.config",
    "InsecureConfigWarning": "router.face.config",
    "UnknownVariableWarning": "router.face.config",
    "load_config": "router.face.config",
    "routeset_to_dict": "router.face.render",
    "routeset_to_json": "router.face.render",
    "Amount": "router.model",
    "Fee": "router.model",
    "FeeKind": "router.model",
    "Leg": "router.model",
    "Market": "router.model",
    "Quote": "router.model",
    "QuoteKind": "router.model",
    "QuoteRequest": "router.model",
    "RateType": "router.model",
    "RateTypeFilter": "router.model",
    "Reason": "router.model",
    "Route": "router.model",
    "RouteSet": "router.model",
    "Side": "router.model",
    "Unavailable": "router.model",
    "BatchStats": "router.pricing.batch",
    "Secret": "router.secret",
    "Edge": "router.snapshot.edges",
    "ImplausibleQuote": "router.snapshot.screening",
    "Plausibility": "router.snapshot.screening",
    "MemoryQuoteCache": "router.sources.firmcache",
    "QuoteCache": "router.sources.firmcache",
    "BreakerPolicy": "router.sources.health",
    "Health": "router.sources.health",
    "QuoteSource": "router.sources.protocol",
    "SourceContext": "router.sources.protocol",
    "RedisQuoteCache": "router.sources.sharedcache",
}

__all__ = [
    "Amount",
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
    "Edge",
    "Fee",
    "FeeKind",
    "Health",
    "ImplausibleQuote",
    "InsecureConfigWarning",
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
    "QuoteKind",
    "QuoteRequest",
    "QuoteSource",
    "RateLimited",
    "RateType",
    "RateTypeFilter",
    "Reason",
    "RedisQuoteCache",
    "Rejected",
    "Route",
    "RouteSet",
    "Router",
    "Secret",
    "Side",
    "SignatureInvalid",
    "SourceContext",
    "TransientError",
    "Unavailable",
    "UnknownVariableWarning",
    "UnsupportedPair",
    "load_config",
    "parse_asset",
    "routeset_to_dict",
    "routeset_to_json",
]


if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":  # from the package metadata, read on first use (router._version)
        from router._version import version

        return version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'router' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"__version__"})
