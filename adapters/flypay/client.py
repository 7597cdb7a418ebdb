"""FlyPay API client: signing, response verification, budget, transport and error mapping.

Every call goes through :meth:`FlyPayClient._call`: encode the params once as compact JSON
(amounts as JSON numbers), sign exactly those bytes, take the budget **before** sending (1 unit;
``transaction/exchange`` may use the reserve), POST to ``/api/v1/<method>``, then:

1. Outcomes the **status line alone** decides; nothing of the body is read, so its signature does
   not matter:

   - HTTP 429: ``budget.penalize(Retry-After)``, then :class:`RateLimited`;
   - HTTP 401/403: :class:`AuthError`. A wrong ``api_secret`` makes FlyPay refuse our request
     *and* makes its answer fail our check (it is signed with the real secret), so the status
     wins over :class:`SignatureInvalid` here;
   - HTTP 5xx **without** a ``Signature`` header (a gateway's page): :class:`ProviderUnavailable`.

2. Otherwise the ``Signature`` header must be the hex HMAC-SHA256 of the raw body under our
   secret: missing, repeated or wrong → :class:`SignatureInvalid`, and no data of the body is
   used (never cached). This holds for success and error answers alike.
3. Verified: 5xx → :class:`ProviderUnavailable`; not a JSON envelope → :class:`MalformedResponse`;
   ``status: "success"`` → ``data`` (at HTTP 2xx only); ``status: "error"`` → the class
   :data:`~.constants.HTTP_ERRORS` gives the HTTP status; at HTTP 200 (the doc names no statuses,
   so a refusal may come that way) :data:`~.constants.MESSAGE_ERRORS` reads the message for a
   bad key or a rate limit, and a ``Retry-After`` header is a rate limit; another ``status`` →
   :class:`MalformedResponse`. An *unverified* error envelope is read the same way, only to say
   why the call failed (auth, rate limit); anything else unverified is :class:`SignatureInvalid`.

Transport: connection trouble → :class:`ProviderUnavailable` (chained ``from``), timeout →
:class:`ProviderTimeout`. Messages carry method names, statuses and the provider's short
``message`` (verified answers only), never a key, secret or body.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec

from router.budgets import Budget
from router.errors import (
    AuthError,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SignatureInvalid,
)
from router.secret import Secret

from .._http import exchange
from .._http import plain as _plain
from ..base import ProviderClient
from .auth import signed_headers, verify
from .constants import (
    API_PREFIX,
    BASE_URL,
    ENVELOPE_ERROR,
    ENVELOPE_SUCCESS,
    HTTP_ERRORS,
    MESSAGE_ERRORS,
    NAME,
    PATHS,
    RESERVED_METHODS,
    UNKNOWN_STATUS_ERROR,
    method_cost,
)
from .wire import (
    BALANCES_DECODER,
    ENVELOPE_DECODER,
    ESTIMATE_DECODER,
    JSON_ENCODER,
    PAYWAYS_DECODER,
    TRANSACTION_DECODER,
    Balance,
    Estimate,
    ExchangeTransaction,
    PaywaysData,
)

__all__ = ["FlyPayClient", "api_root"]



def api_root(base_url: str) -> str:
    """``<base>/api/v1/`` from a host URL, or from a URL that already ends in ``/api/v1``."""
    base = base_url.rstrip("/")
    prefix = API_PREFIX.rstrip("/")
    return (base if base.endswith(prefix) else base + prefix) + "/"


class FlyPayClient(ProviderClient):
    """One FlyPay credential on a shared session; lifecycle and repr as
    :class:`~adapters.base.ProviderClient`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: Secret,
        api_secret: Secret,
        budget: Budget,
        base_url: str = BASE_URL,
        timeout: float = 15.0,
        budget_timeout: float | None = None,
        provider: str = NAME,
    ) -> None:
        if not isinstance(api_key, Secret) or not isinstance(api_secret, Secret):
            raise TypeError("api_key and api_secret must be router.secret.Secret")
        self._root = api_root(base_url)
        super().__init__(session, budget=budget, provider=provider, endpoint=self._root,
                         identity=api_key, secrets=(api_key, api_secret), timeout=timeout,
                         budget_timeout=budget_timeout)
        self._key = api_key
        self._secret = api_secret

    # -- methods ------------------------------------------------------------------------------
    async def payways(self) -> PaywaysData:
        """``payways``: payment ways and the ``exchange`` fee/limit/rate table (1 unit)."""
        return self._decode(PAYWAYS_DECODER, await self._call("payways", {}), "payways")

    async def estimated_amount(self, currency_from: str, currency_to: str,
                               amount: Decimal) -> Estimate:
        """``exchange/estimated_amount``: what ``amount`` of ``currency_from`` buys (1 unit)."""
        params = {"currency_from": currency_from, "currency_to": currency_to,
                  "amount": _plain(amount)}
        data = await self._call("estimated_amount", params)
        return self._decode(ESTIMATE_DECODER, data, "estimated_amount")

    async def balances(self) -> dict[str, Balance]:
        """``balances``: the account's wallets by currency (1 unit)."""
        got = self._decode(BALANCES_DECODER, await self._call("balances", {}), "balances")
        if isinstance(got, list):
            return {b.symbol: b for b in got}
        return got

    async def exchange(
        self,
        external_id: str,
        currency_from: str,
        currency_to: str,
        amount: Decimal,
        *,
        client_id: str,
        client_ip: str,
        client_email: str,
        callback_url: str | None = None,
    ) -> ExchangeTransaction:
        """``transaction/exchange``: convert ``amount`` of the ``currency_from`` wallet (1 unit,
        may use the budget's reserve)."""
        params: dict[str, Any] = {"external_id": external_id, "currency_from": currency_from,
                                  "currency_to": currency_to, "amount": _plain(amount),
                                  "client_id": client_id, "client_ip": client_ip,
                                  "client_email": client_email}
        if callback_url:
            params["callback_url"] = callback_url
        data = await self._call("exchange", params)
        return self._decode(TRANSACTION_DECODER, data, "exchange")

    # -- plumbing -----------------------------------------------------------------------------
    async def _call(self, method: str, params: Mapping[str, Any]) -> msgspec.Raw:
        self._ensure_open()
        body = JSON_ENCODER.encode(params)
        headers = signed_headers(self._key, self._secret, body)
        await self._budget.acquire(method_cost(method), reserved=method in RESERVED_METHODS,
                                   timeout=self._budget_timeout)
        reply = await exchange(self._session.post(
                self._root + PATHS[method], data=body, headers=headers, timeout=self._timeout
            ), self.provider, method)
        status, raw, retry_after = reply.status, reply.raw, reply.retry_after
        signatures = reply.headers.getall("Signature", [])
        return await self._check(method, status, raw, signatures, retry_after)

    async def _check(self, method: str, status: int, raw: bytes, signatures: list[str],
                     retry_after: float | None) -> msgspec.Raw:
        # 1. the status line alone decides (the body is never read)
        if status == 429:
            await self._budget.penalize(retry_after)
            raise RateLimited(self.provider, f"{method}: too many requests", status=status,
                              retry_after=retry_after)
        verified = len(signatures) == 1 and verify(self._secret.encode(), raw, signatures[0])
        if status in (401, 403) and not verified:
            raise AuthError(self.provider, f"{method}: refused (check api_key and api_secret)",
                            status=status)
        if status >= 500 and not signatures:
            raise ProviderUnavailable(self.provider, f"{method}: server error", status=status)
        # 2. every other answer must verify before anything of it is used; an unverified error
        #    envelope at HTTP 200 may only name *why* we failed (a bad key, a rate limit)
        if not verified:
            unverified = _refusal_class(raw, retry_after)
            if unverified is AuthError:
                raise AuthError(self.provider, f"{method}: refused (check api_key and "
                                "api_secret)", status=status)
            if unverified is RateLimited:
                await self._budget.penalize(retry_after)
                raise RateLimited(self.provider, f"{method}: too many requests", status=status,
                                  retry_after=retry_after)
            what = "missing" if not signatures else "does not verify"
            raise SignatureInvalid(self.provider, f"{method}: response signature {what}",
                                   status=status)
        # 3. verified
        if status >= 500:
            raise ProviderUnavailable(self.provider, f"{method}: server error", status=status)
        try:
            env = ENVELOPE_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            raise MalformedResponse(self.provider, f"{method}: answer is not a JSON envelope",
                                    status=status) from exc
        if env.status == ENVELOPE_SUCCESS:
            if not 200 <= status < 300:
                raise MalformedResponse(self.provider, f"{method}: success with HTTP {status}",
                                        status=status)
            return env.data
        if env.status == ENVELOPE_ERROR:
            error = self._error(method, status, env.message, retry_after)
            if isinstance(error, RateLimited):
                await self._budget.penalize(retry_after)
            raise error
        raise MalformedResponse(self.provider, f"{method}: envelope status "
                                f"{env.status[:20]!r} is neither success nor error", status=status)

    def _error(self, method: str, status: int, message: str | None,
               retry_after: float | None) -> ProviderError:
        cls = HTTP_ERRORS.get(status, UNKNOWN_STATUS_ERROR)
        if 200 <= status < 300:  # a refusal at HTTP 200: only its message says what it is
            cls = _message_class(message, retry_after) or cls
        text = f"{method}: {self._clean(message)}".rstrip(": ")
        if cls is RateLimited:
            return RateLimited(self.provider, text, status=status, retry_after=retry_after)
        return cls(self.provider, text, status=status)


def _message_class(message: str | None, retry_after: float | None) -> type[ProviderError] | None:
    """The error a refusal's ``message`` names (:data:`~.constants.MESSAGE_ERRORS`); a
    ``Retry-After`` header on a refusal is a rate limit whatever it says."""
    if retry_after is not None:
        return RateLimited
    for pattern, cls in MESSAGE_ERRORS:
        if message and pattern.search(message):
            return cls
    return None


def _refusal_class(raw: bytes, retry_after: float | None) -> type[ProviderError] | None:
    """What an unverified answer says went wrong, if it is an error envelope (never its data)."""
    try:
        env = ENVELOPE_DECODER.decode(raw)
    except msgspec.DecodeError:
        return None
    if env.status != ENVELOPE_ERROR:
        return None
    return _message_class(env.message, retry_after)
