"""GatePay convert adapter (https://openplatform.gateapi.io): quote source, API client, lists, signer.

Build the source from configuration fields ``client_id``, ``api_secret`` and optional
``base_url``::

    source = GatePaySource(cfg["client_id"], cfg["api_secret"],
                           base_url=cfg.get("base_url", BASE_URL))

Module roles: ``constants`` (URL, paths, budget and error tables), ``auth`` (signer), ``wire``
(msgspec structs), ``feeds`` (currency/pair lists: the limits-only indicative layer), ``edges``
(the lists as unpriced :class:`router.snapshot.edges.Edge`), ``quotes`` (pure checks of preview answers),
``client`` (HTTP), ``source`` (:class:`router.sources.protocol.QuoteSource`).
"""

from .auth import Signer, random_nonce, sign, string_to_sign
from .client import GatePayClient, TradeSide, new_client_req_id
from .constants import (
    BASE_URL,
    DEFAULT_BUDGET_POLICY,
    ERROR_CODES,
    NAME,
    QUOTE_TTL,
    DuplicateOrder,
    OrderNotFound,
    RateMoved,
)
from .feeds import Catalog, PairLimits, check_amount
from .source import GatePaySource
from .wire import Order, Pair, Preview

__all__ = [
    "BASE_URL",
    "DEFAULT_BUDGET_POLICY",
    "ERROR_CODES",
    "NAME",
    "QUOTE_TTL",
    "Catalog",
    "DuplicateOrder",
    "GatePayClient",
    "GatePaySource",
    "Order",
    "OrderNotFound",
    "Pair",
    "PairLimits",
    "Preview",
    "RateMoved",
    "Signer",
    "TradeSide",
    "check_amount",
    "new_client_req_id",
    "random_nonce",
    "sign",
    "string_to_sign",
]

