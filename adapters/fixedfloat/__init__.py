"""FixedFloat adapter (https://ff.io, API v2): quote source, API client, rates feeds, signer.

Build the source from configuration fields ``api_key``, ``api_secret`` and optional ``base_url``::

    source = FixedFloatSource(cfg["api_key"], cfg["api_secret"], base_url=cfg.get("base_url",
                              BASE_URL))

Module roles: ``constants`` (URLs, budget and error tables), ``auth`` (signer), ``wire`` (msgspec
structs), ``feeds`` (rates XML), ``edges`` (export items as :class:`router.snapshot.edges.Edge`),
``quotes`` (pure pricing), ``client`` (HTTP), ``source`` (:class:`router.sources.protocol.QuoteSource`).
"""

from .auth import sign, signed_headers
from .client import Direction, FixedFloatClient
from .constants import (
    BASE_URL,
    DATA_ERRORS,
    DEFAULT_BUDGET_POLICY,
    ERROR_CODES,
    NAME,
    SERVICE_MARGIN,
)
from .feeds import Feed, FeedCache, FeedItem, parse_rates
from .source import FixedFloatSource
from .wire import Currency, Order, PriceData, PriceSide

__all__ = [
    "BASE_URL",
    "DATA_ERRORS",
    "DEFAULT_BUDGET_POLICY",
    "ERROR_CODES",
    "NAME",
    "SERVICE_MARGIN",
    "Currency",
    "Direction",
    "Feed",
    "FeedCache",
    "FeedItem",
    "FixedFloatClient",
    "FixedFloatSource",
    "Order",
    "PriceData",
    "PriceSide",
    "parse_rates",
    "sign",
    "signed_headers",
]
