"""FlyPay adapter (https://fly-pay.io/api/v1/): quote source, API client, payways model, signer.

Build the source from configuration fields ``api_key``, ``api_secret`` and optional ``base_url``::

    source = FlyPaySource(cfg["api_key"], cfg["api_secret"], base_url=cfg.get("base_url",
                          BASE_URL))

Module roles: ``constants`` (URLs, paths, budget and error tables), ``auth`` (signer and response
verifier), ``wire`` (msgspec structs), ``feeds`` (the ``payways`` fee/limit/rate model and its
cache), ``edges`` (the model as :class:`router.snapshot.edges.Edge` s), ``quotes`` (pure pricing), ``client``
(HTTP), ``source`` (:class:`router.sources.protocol.QuoteSource`).
"""

from .auth import sign, signed_headers, verify
from .client import FlyPayClient
from .constants import BASE_URL, DEFAULT_BUDGET_POLICY, HTTP_ERRORS, NAME
from .edges import build_edges, pair_edge
from .feeds import PairModel, Payways, PaywaysCache, asset_of, build_payways
from .source import FlyPaySource
from .wire import (
    Balance,
    Estimate,
    ExchangePair,
    ExchangeTransaction,
    Payway,
    PaywaysData,
)

__all__ = [
    "BASE_URL",
    "DEFAULT_BUDGET_POLICY",
    "HTTP_ERRORS",
    "NAME",
    "Balance",
    "Estimate",
    "ExchangePair",
    "ExchangeTransaction",
    "FlyPayClient",
    "FlyPaySource",
    "PairModel",
    "Payway",
    "Payways",
    "PaywaysCache",
    "PaywaysData",
    "asset_of",
    "build_edges",
    "build_payways",
    "pair_edge",
    "sign",
    "signed_headers",
    "verify",
]
