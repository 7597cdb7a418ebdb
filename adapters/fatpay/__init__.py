"""FaTPay adapter (https://api.ramp.fatpay.xyz, on-ramp API v1.0): quote source, client, signer.

Build the source from configuration fields ``partner_id``, ``private_key_pem`` and optional
``base_url``::

    source = FaTPaySource(cfg["partner_id"], cfg["private_key_pem"],
                          base_url=cfg.get("base_url", BASE_URL))

Module roles: ``constants`` (URLs, paths, budget and error tables), ``auth`` (RSA signer),
``wire`` (msgspec structs), ``feeds`` (cached token/currency lists: the indicative layer),
``edges`` (the lists' markets as :class:`router.snapshot.edges.Edge`, priced once answers teach the fees),
``quotes`` (pure pricing and the buy-side planner), ``client`` (HTTP), ``source``
(:class:`router.sources.protocol.QuoteSource`).
"""

from .auth import PrivateKey, Signer, random_nonce, sign, string_to_sign
from .client import FaTPayClient, host_of
from .constants import (
    API_VERSION,
    BASE_URL,
    DEFAULT_BUDGET_POLICY,
    ERROR_CODES,
    NAME,
    OK,
    PRODUCTION_HOST,
)
from .feeds import check_fiat_amount, fiat_range
from .quotes import Observation, check_price, firm_quote, plan_fiat
from .source import FaTPaySource
from .wire import FiatCurrency, PaymentOption, PriceData, Token, widest_range

__all__ = [
    "API_VERSION",
    "BASE_URL",
    "DEFAULT_BUDGET_POLICY",
    "ERROR_CODES",
    "NAME",
    "OK",
    "PRODUCTION_HOST",
    "FaTPayClient",
    "FaTPaySource",
    "FiatCurrency",
    "Observation",
    "PaymentOption",
    "PriceData",
    "PrivateKey",
    "Signer",
    "Token",
    "check_fiat_amount",
    "check_price",
    "fiat_range",
    "firm_quote",
    "host_of",
    "plan_fiat",
    "random_nonce",
    "sign",
    "string_to_sign",
    "widest_range",
]
