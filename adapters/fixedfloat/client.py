"""FixedFloat API client: signing, budget, transport and error mapping for ``/api/v2/<method>``.

Every call goes through :meth:`FixedFloatClient._call`: encode the params once as compact JSON
(amounts as JSON numbers, a call without params as ``{}``; the doc allows a string amount and an
empty body too, so the first refusal of our form is retried once in the other and the form that
worked is kept for the key), sign exactly those bytes, take the method's cost from the budget
**before** sending, POST, then decode the envelope and map failures onto :mod:`router.errors`:

==================================  ===========================================================
HTTP 429, or envelope code 429      ``budget.penalize(Retry-After)``, then :class:`RateLimited`
envelope code != 0                  the class in :data:`~.constants.ERROR_CODES` (unknown:
                                    :class:`Rejected`)
HTTP 5xx                            :class:`ProviderUnavailable`
HTTP 401/403 without an envelope    :class:`AuthError`
connection trouble                  :class:`ProviderUnavailable` (chained with ``from``)
timeout                             :class:`ProviderTimeout`
not JSON / undecodable data         :class:`MalformedResponse`
==================================  ===========================================================

Messages carry codes, field names and the provider's short ``msg``, never a key, secret or body.
``asyncio.CancelledError`` passes through untouched (the budget units are spent by then).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import aiohttp
import msgspec

from router.budgets import Budget
from router.errors import (
    AuthError,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Rejected,
)
from router.model import RateType
from router.secret import Secret

from .._http import exchange, refuse_too_many
from .._http import plain as _plain
from ..base import ProviderClient
from ..forms import Reading
from .auth import signed_headers
from .constants import (
    API_PREFIX,
    BASE_URL,
    ERROR_CODES,
    NAME,
    OK,
    UNKNOWN_CODE_ERROR,
    method_cost,
)
from .wire import (
    CCIES_DECODER,
    ENVELOPE_DECODER,
    JSON_ENCODER,
    ORDER_DECODER,
    PRICE_DECODER,
    Currency,
    Order,
    PriceData,
)

__all__ = ["Direction", "FixedFloatClient"]

Direction = Literal["from", "to"]


class FixedFloatClient(ProviderClient):
    """One FixedFloat credential on a shared session; lifecycle and repr as
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
        self._base = base_url.rstrip("/") + API_PREFIX
        super().__init__(session, budget=budget, provider=provider, endpoint=self._base,
                         identity=api_key, secrets=(api_key, api_secret), timeout=timeout,
                         budget_timeout=budget_timeout)
        self._key = api_key
        self._secret = api_secret
        # Two doc readings this credential settles on first use (:class:`~adapters.forms.Reading`):
        # a call without params is signed over ``{}`` or over an empty body; ``amount`` is a
        # JSON number or a JSON string.
        self._empty_body: Reading[bytes] = Reading((b"{}", b""))
        self._amount_text: Reading[bool] = Reading((False, True))

    # -- methods ------------------------------------------------------------------------------
    async def ccies(self) -> list[Currency]:
        """``ccies``: every currency with its availability (1 unit)."""
        return self._decode(CCIES_DECODER, await self._call("ccies", {}), "ccies")

    async def price(
        self, type: RateType, from_ccy: str, to_ccy: str, direction: Direction, amount: Decimal
    ) -> PriceData:
        """``price``: a firm price for ``amount`` (1 unit). Limits come back in ``data.errors``."""
        params = {"type": type, "fromCcy": from_ccy, "toCcy": to_ccy,
                  "direction": direction, "amount": _plain(amount)}
        return self._decode(PRICE_DECODER, await self._call("price", params), "price")

    async def create(
        self,
        type: RateType,
        from_ccy: str,
        to_ccy: str,
        direction: Direction,
        amount: Decimal,
        to_address: str,
        tag: str | None = None,
    ) -> Order:
        """``create``: open an order (50 units, may use the budget's reserve)."""
        params: dict[str, Any] = {"type": type, "fromCcy": from_ccy, "toCcy": to_ccy,
                                  "direction": direction, "amount": _plain(amount),
                                  "toAddress": to_address}
        if tag:
            params["tag"] = tag
        return self._decode(ORDER_DECODER, await self._call("create", params), "create")

    async def order(self, id: str, token: str) -> Order:
        """``order``: the current state of an order (1 unit)."""
        data = await self._call("order", {"id": id, "token": token})
        return self._decode(ORDER_DECODER, data, "order")

    # -- plumbing -----------------------------------------------------------------------------
    async def _call(self, method: str, params: Mapping[str, Any]) -> msgspec.Raw:
        """One call, settling the doc's two readings on first use: a 401 on a call without
        params is retried once signed over the other empty form, a 301 naming ``amount`` once
        with the amount in the other JSON type; the form that worked is kept for this key."""
        self._ensure_open()
        if not params:
            return await self._empty_body.call(lambda body: self._send(method, body),
                                               lambda exc: isinstance(exc, AuthError))
        if "amount" not in params:
            return await self._send(method, JSON_ENCODER.encode(params))

        def encoded(as_text: bool) -> bytes:
            sent = {**params, "amount": str(params["amount"])} if as_text else params
            return JSON_ENCODER.encode(sent)

        return await self._amount_text.call(
            lambda as_text: self._send(method, encoded(as_text)),
            lambda exc: isinstance(exc, Rejected) and "amount" in str(exc).lower())

    async def _send(self, method: str, body: bytes) -> msgspec.Raw:
        headers = signed_headers(self._key, self._secret, body)
        cost = method_cost(method)
        await self._budget.acquire(cost, reserved=cost > 1, timeout=self._budget_timeout)
        reply = await exchange(self._session.post(
                self._base + method, data=body, headers=headers, timeout=self._timeout
            ), self.provider, method)
        status, raw, retry_after = reply.status, reply.raw, reply.retry_after
        await refuse_too_many(reply, self._budget, self.provider, method)
        if status >= 500:
            raise ProviderUnavailable(self.provider, f"{method}: server error", status=status)
        try:
            env = ENVELOPE_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            if status in (401, 403):
                raise AuthError(self.provider, f"{method}: refused", status=status) from exc
            raise MalformedResponse(self.provider, f"{method}: answer is not a JSON envelope",
                                    status=status) from exc
        if env.code == OK:
            if status >= 300:
                raise MalformedResponse(self.provider, f"{method}: code 0 with HTTP {status}",
                                        status=status)
            return env.data
        raise await self._error(method, env.code, env.msg, status, retry_after)

    async def _error(self, method: str, code: int, msg: str | None, status: int,
                     retry_after: float | None) -> ProviderError:
        cls = ERROR_CODES.get(code, UNKNOWN_CODE_ERROR)
        text = f"{method}: {self._clean(msg)}".rstrip(": ")
        if cls is RateLimited:
            await self._budget.penalize(retry_after)
            return RateLimited(self.provider, text, retry_after=retry_after, status=status,
                               code=code)
        return cls(self.provider, text, status=status, code=code)

