"""FaTPay's pure state: the partner's public key, the budget, stats, the lists and the quotes.

No HTTP here: :meth:`FaTPayModel.authenticate` checks the common headers and the signature of a
request described by plain values, and the ``m_*`` methods take the decoded query and return the
envelope's ``data``; both raise :class:`~.errors.ApiError` (10002 params, 10003 signature).

Header rules (the doc's common header table): ``X-Fp-Nonce`` a positive integer (digits; the doc's
example has 6, peer clients send 5, so any length up to 18), ``X-Fp-Timestamp`` a 10-digit unix
time in **seconds** within 60 s of the wall clock, ``X-Fp-Version`` exactly ``v1.0``. A missing or
malformed common header is 10002 (incorrect params); a timestamp off by more than 60 s, a missing
or wrong signature, or an unknown partner id is 10003 (signature error).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from ...world import PROFILE_BUILDERS, ProviderProfile, World
from ...world.profile_fatpay import build_fatpay
from ..common import Decision, SlidingWindowLimiter, Stats
from .auth import (
    candidate_hosts,
    load_public_key,
    signing_map,
    string_to_sign,
    verify_signature,
)
from .catalog import FIAT_PRECISION, FIATS, PAYMENT_METHODS, TOKENS, FPToken
from .errors import ApiError
from .pricing import PriceQuote, Pricer

__all__ = ["BUDGET_LIMIT", "BUDGET_WINDOW", "METHODS", "TIMESTAMP_TOLERANCE", "FaTPayModel",
           "json_number"]

BUDGET_LIMIT: Final = 60
BUDGET_WINDOW: Final = 60.0
TIMESTAMP_TOLERANCE: Final = 60
VERSION: Final = "v1.0"
#: path suffix under ``/open/api/onramp/`` -> (model method, budget units)
METHODS: Final[Mapping[str, tuple[str, int]]] = {
    "token": ("m_token", 1), "currency": ("m_currency", 1), "price": ("m_price", 1),
    "order": ("m_order", 1),
}
_NONCE_RE: Final = re.compile(r"[0-9]{1,18}")
_TS_RE: Final = re.compile(r"[0-9]{10}")
_AMOUNT_RE: Final = re.compile(r"[0-9]{1,12}(\.[0-9]+)?")
_INT_RE: Final = re.compile(r"[0-9]{1,12}")
_MAX_PAGE_SIZE: Final = 100
_FIAT_STEP: Final = Decimal(1).scaleb(-FIAT_PRECISION)


def json_number(d: Decimal) -> int | Decimal:
    """A Decimal as it should appear as a JSON number: an int if whole, else trimmed."""
    if d == d.to_integral_value():
        return int(d)
    return d.normalize()


class FaTPayModel:
    """All of one FaTPay emulator's state, fed by ``world``.

    ``credentials`` is the provider block (``partner_id``, ``private_key_pem``); only the public
    key is kept. ``clock`` drives the budget window, ``wall_clock`` the timestamp check (unix
    seconds); world time drives prices.
    """

    def __init__(self, world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, faults: object = None) -> None:
        partner = credentials.get("partner_id", "")
        if not partner:
            raise ValueError("FaTPay credentials need a partner_id")
        self.world = world
        self.partner_id: Final = partner
        self._public_key = load_public_key(credentials)
        self.profile: ProviderProfile = (world.profile("fatpay") if "fatpay" in PROFILE_BUILDERS
                                         else build_fatpay(world))
        self.pricer = Pricer(world, self.profile)
        self.tokens: Mapping[str, FPToken] = {t.code: t for t in TOKENS
                                              if self.profile.supports(t.asset)}
        self.fiats: tuple[str, ...] = tuple(f for f in FIATS if self.profile.supports(f))
        self.limiter = None if no_limits else SlidingWindowLimiter(
            BUDGET_LIMIT, BUDGET_WINDOW, BUDGET_WINDOW, clock)
        self._clock = clock
        self._wall_clock = wall_clock
        self.faults = faults
        self.stats = Stats()

    def reset(self) -> None:
        """Forget budgets and stats (``POST /_sandbox/reset``)."""
        self.stats.reset()
        if self.limiter is not None:
            self.limiter.reset()

    # --- auth and budget ------------------------------------------------------------------------
    def known_partner(self, partner_id: str) -> bool:
        return bool(partner_id) and partner_id == self.partner_id

    def charge(self, partner_id: str, cost: int) -> Decision:
        """Book ``cost`` units for ``partner_id``; counts units, refusals and blocks in stats."""
        if self.limiter is None:
            self.stats.units += cost
            return Decision(True)
        decision = self.limiter.acquire(partner_id, cost)
        if decision.allowed:
            self.stats.units += cost
        else:
            self.stats.rate_limited += 1
            self.stats.blocks += decision.new_block
        return decision

    def retry_after(self, decision: Decision) -> int:
        """Whole seconds until a refused partner may call again (at least 1)."""
        return max(1, math.ceil(decision.blocked_until - self._clock()))

    def authenticate(self, method: str, host: str, path: str, headers: Mapping[str, str],
                     query: Mapping[str, str]) -> None:
        """Check the common headers, the timestamp window and the signature (raises ApiError)."""
        nonce = headers.get("X-Fp-Nonce", "")
        if not _NONCE_RE.fullmatch(nonce) or int(nonce) == 0:
            raise ApiError.params("X-Fp-Nonce must be a positive integer")
        stamp = headers.get("X-Fp-Timestamp", "")
        if not _TS_RE.fullmatch(stamp):
            raise ApiError.params("X-Fp-Timestamp must be a unix time in seconds (10 digits)")
        if headers.get("X-Fp-Version", "") != VERSION:
            raise ApiError.params(f"X-Fp-Version must be {VERSION}")
        signature = headers.get("X-Fp-Signature", "")
        if not signature:
            raise ApiError.signature("missing X-Fp-Signature")
        if abs(int(stamp) - self._wall_clock()) > TIMESTAMP_TOLERANCE:
            raise ApiError.signature("X-Fp-Timestamp expired")
        params = signing_map(headers, query)
        messages = (string_to_sign(method, h, path, params) for h in candidate_hosts(host))
        if not verify_signature(self._public_key, signature, messages):
            raise ApiError.signature("signature verification failed")

    # --- methods --------------------------------------------------------------------------------
    def call(self, method: str, query: Mapping[str, str]) -> Any:
        return getattr(self, METHODS[method][0])(query)

    def m_token(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        return [t.row() for t in self.tokens.values()]

    def m_currency(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        return [{"fiatCurrency": fiat, "precision": FIAT_PRECISION,
                 "paymentOptions": [{"name": o.name, "minAmount": json_number(o.min),
                                     "maxAmount": json_number(o.max)}
                                    for o in self.pricer.limits(fiat)]}
                for fiat in self.fiats]

    def m_price(self, query: Mapping[str, str]) -> dict[str, Any]:
        q = self.quote(query)
        return {
            "fiatCurrency": q.fiat, "currencyAmount": json_number(q.amount),
            "cryptoCurrency": q.token.coin, "network": q.token.network,
            "cryptoCurrencyCode": q.token.code,
            "cryptoCurrencyAmount": json_number(q.crypto_amount),
            "cryptoCurrencyUnitPrice": json_number(q.unit_price),
            "gasFee": json_number(q.gas_fee), "platformFee": json_number(q.platform_fee),
            "totalFee": json_number(q.total_fee),
            "paymentOptions": [
                {"name": o.name, "processingTime": PAYMENT_METHODS[o.name].processing_time,
                 "icon": PAYMENT_METHODS[o.name].icon, "minAmount": json_number(o.min),
                 "maxAmount": json_number(o.max)} for o in q.options],
        }

    def m_order(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Orders are made in FaTPay's hosted page, never through this API: the list is empty."""
        start, end = _int_param(query, "startTime"), _int_param(query, "endTime")
        if end < start:
            raise ApiError.params("endTime is before startTime")
        page = _int_param(query, "page", 1)
        size = _int_param(query, "size", 20)
        if page < 1 or not 1 <= size <= _MAX_PAGE_SIZE:
            raise ApiError.params(f"page must be >= 1 and size within 1..{_MAX_PAGE_SIZE}")
        return {"list": [], "totalCount": 0, "page": page, "size": size}

    def quote(self, query: Mapping[str, str]) -> PriceQuote:
        """Validate an ``onramp/price`` query and price it."""
        fiat = _required(query, "fiatCurrency")
        if fiat not in self.fiats:
            raise ApiError.params(f"fiatCurrency {fiat} is not supported")
        code = _required(query, "cryptoCurrencyCode")
        token = self.tokens.get(code)
        if token is None:
            raise ApiError.params(f"cryptoCurrencyCode {code} is not supported")
        raw = _required(query, "currencyAmount")
        if not _AMOUNT_RE.fullmatch(raw):
            raise ApiError.params("currencyAmount must be a positive decimal number")
        amount = Decimal(raw)
        if amount <= 0:
            raise ApiError.params("currencyAmount must be positive")
        if amount != amount.quantize(_FIAT_STEP):
            raise ApiError.params(f"currencyAmount has more than {FIAT_PRECISION} decimals")
        payment = query.get("payment") or None
        return self.pricer.quote(fiat, amount, token, self.world.now(), payment)


def single_values(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Query items as a dict; a repeated key is 10002 (its signed value would be ambiguous)."""
    out: dict[str, str] = {}
    for k, v in items:
        if k in out:
            raise ApiError.params(f"repeated parameter {k}")
        out[k] = v
    return out


def _required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "")
    if value == "":
        raise ApiError.params(f"missing {name}")
    return value


def _int_param(query: Mapping[str, str], name: str, default: int | None = None) -> int:
    value = query.get(name, "")
    if value == "" and default is not None:
        return default
    if not _INT_RE.fullmatch(value):
        raise ApiError.params(f"{name} must be an integer" if value else f"missing {name}")
    return int(value)
