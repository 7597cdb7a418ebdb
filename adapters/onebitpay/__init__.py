"""1BitPay adapter (https://api.1bitpay.io, C2C OTC): fiat ↔ USDT@TRC20, amount-independent rate.

Build the source from the provider block ``{base_url, merchant_no, api_key, api_secret}``::

    source = OneBitPaySource(cfg["merchant_no"], cfg["api_key"], cfg["api_secret"],
                             base_url=cfg.get("base_url", BASE_URL))

The source only answers indicative quotes (``firm_quotes = False``): 1BitPay's ``otc/rate`` has
no amount, so there is nothing firmer to ask before an order.

Module roles: ``constants`` (URLs, budget, minimums, error table), ``auth`` (MD5 signer over the
header and body parameters), ``wire`` (msgspec structs), ``feeds`` (the rate cache), ``edges``
(a rate answer as :class:`router.snapshot.edges.Edge`), ``quotes`` (pure pricing through the edge),
``client`` (HTTP), ``source`` (:class:`router.sources.protocol.QuoteSource`).
"""

from .auth import Signer, canonical, random_nonce, sign
from .client import OneBitPayClient
from .constants import (
    BASE_URL,
    CRYPTO_ASSET,
    DEFAULT_BUDGET_POLICY,
    DEFAULT_FIATS,
    DEFAULT_MIN_VOLUME,
    ERROR_CODES,
    NAME,
    SANDBOX_URL,
)
from .feeds import RateCache, RateSnapshot
from .quotes import indicative_quote
from .source import OneBitPaySource
from .wire import OtcOrder, OtcRate

__all__ = [
    "BASE_URL",
    "CRYPTO_ASSET",
    "DEFAULT_BUDGET_POLICY",
    "DEFAULT_FIATS",
    "DEFAULT_MIN_VOLUME",
    "ERROR_CODES",
    "NAME",
    "SANDBOX_URL",
    "OneBitPayClient",
    "OneBitPaySource",
    "OtcOrder",
    "OtcRate",
    "RateCache",
    "RateSnapshot",
    "Signer",
    "canonical",
    "indicative_quote",
    "random_nonce",
    "sign",
]
