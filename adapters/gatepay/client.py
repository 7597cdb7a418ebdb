"""GatePay convert API client: signing, budget, transport and error mapping.

Every call goes through :meth:`GatePayClient._call`: encode the body once as compact JSON (amounts
as strings, as the doc shows), sign exactly those bytes (``""`` for a GET) with a fresh nonce and
timestamp, take one unit from the budget **before** sending (``convert`` may use the reserve),
send, then decode the envelope and map failures onto :mod:`router.errors`:

==================================  ===========================================================
HTTP 429 (any body)                 ``budget.penalize(Retry-After)``, then :class:`RateLimited`
HTTP 5xx                            :class:`ProviderUnavailable` (with the envelope's code if any)
envelope code != ``000000``         the class in :data:`~.constants.ERROR_CODES` (unknown:
                                    :class:`Rejected`); 400003 says "check your clock"
HTTP 401/403 without an envelope    :class:`AuthError`
connection trouble                  :class:`ProviderUnavailable` (chained with ``from``)
timeout                             :class:`ProviderTimeout`
not JSON / undecodable data         :class:`MalformedResponse`
==================================  ===========================================================

Messages carry paths, codes, the provider's ``label`` and a short ``errorMessage`` with our
credentials blanked, never a secret or a body. ``asyncio.CancelledError`` passes through.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Literal

import aiohttp
import msgspec

from router.budgets import Budget
from router.errors import (
    AuthError,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from router.secret import Secret

from .._http import exchange, refuse_too_many
from ..base import ProviderClient
from .auth import Signer, random_nonce
from .constants import (
    BASE_URL,
    CONVERT_PATH,
    CURRENCY_PATH,
    DEFAULT_COST,
    ERROR_CODES,
    NAME,
    OK_CODE,
    ORDER_PATH,
    PAIR_PATH,
    PREVIEW_PATH,
    RESERVED_PATHS,
    TIMESTAMP_CODE,
    UNKNOWN_CODE_ERROR,
    DuplicateOrder,
    RateMoved,
)
from .wire import (
    CURRENCIES_DECODER,
    ENVELOPE_DECODER,
    JSON_ENCODER,
    ORDER_DECODER,
    PAIRS_DECODER,
    PREVIEW_DECODER,
    CurrencyList,
    Order,
    Pair,
    Preview,
    plain,
)

__all__ = ["GatePayClient", "TradeSide", "new_client_req_id"]

TradeSide = Literal["buy", "sell"]


def new_client_req_id() -> str:
    """A fresh ``clientReqId`` for :meth:`GatePayClient.convert` (keep it to retry safely)."""
    return secrets.token_hex(16)


class GatePayClient(ProviderClient):
    """One GatePay client id on a shared session; lifecycle and repr as
    :class:`~adapters.base.ProviderClient`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: Secret,
        api_secret: Secret,
        budget: Budget,
        base_url: str = BASE_URL,
        timeout: float = 15.0,
        budget_timeout: float | None = None,
        provider: str = NAME,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = random_nonce,
    ) -> None:
        if not isinstance(client_id, Secret) or not isinstance(api_secret, Secret):
            raise TypeError("client_id and api_secret must be router.secret.Secret")
        self._base = base_url.rstrip("/")
        super().__init__(session, budget=budget, provider=provider, endpoint=self._base,
                         identity=client_id, label="client_id", secrets=(client_id, api_secret),
                         timeout=timeout, budget_timeout=budget_timeout)
        self._signer = Signer(client_id, api_secret, clock=clock, nonce=nonce)

    # -- methods ------------------------------------------------------------------------------
    async def currencies(self, side: TradeSide | None = None) -> list[str]:
        """``GET /v1/pay/convert/currency``: the currencies convert supports (1 unit)."""
        params = {"side": side} if side else {}
        data = await self._call("GET", CURRENCY_PATH, params=params)
        got = self._decode(CURRENCIES_DECODER, data, CURRENCY_PATH)
        return got.currency if isinstance(got, CurrencyList) else got

    async def pairs(self, currency: str, side: TradeSide | None = None) -> list[Pair]:
        """``GET /v1/pay/convert/pair``: the pairs of ``currency`` with per-side limits (1 unit)."""
        params = {"currency": currency}
        if side:
            params["side"] = side
        data = await self._call("GET", PAIR_PATH, params=params)
        return self._decode(PAIRS_DECODER, data, PAIR_PATH)

    async def preview(
        self,
        sell_currency: str,
        buy_currency: str,
        sell_amount: Decimal | None = None,
        buy_amount: Decimal | None = None,
    ) -> Preview:
        """``POST /v1/pay/convert/preview``: a firm quote with a ``quoteId`` (1 unit).

        Give exactly one of ``sell_amount`` (what is sold) and ``buy_amount`` (what is received).
        """
        if (sell_amount is None) == (buy_amount is None):
            raise InvalidRequest("amount", "give exactly one of sell_amount and buy_amount")
        body: dict[str, str] = {"sellCurrency": sell_currency, "buyCurrency": buy_currency}
        if sell_amount is not None:
            body["sellAmount"] = plain(sell_amount, "sell_amount")
        else:
            assert buy_amount is not None
            body["buyAmount"] = plain(buy_amount, "buy_amount")
        data = await self._call("POST", PREVIEW_PATH, body=JSON_ENCODER.encode(body))
        return self._decode(PREVIEW_DECODER, data, PREVIEW_PATH)

    async def convert(
        self,
        quote_id: str,
        client_req_id: str,
        *,
        sell_currency: str,
        buy_currency: str,
        sell_amount: Decimal,
        buy_amount: Decimal,
        attempts: int = 2,
    ) -> Order:
        """``POST /v1/pay/convert``: execute a previewed quote (1 unit each try, from the reserve).

        Currencies and amounts must be exactly the preview's (pass the :class:`Preview`'s own
        Decimals: their text is kept). ``clientReqId`` is the idempotency key: after a timeout or
        an outage the call is retried (up to ``attempts`` tries in all) with the **same**
        ``client_req_id`` and body, so the order is never created twice. :class:`RateMoved`
        (400622) is not retried: preview again. A :class:`DuplicateOrder` on a retry means an
        earlier try landed.
        """
        if not client_req_id:
            raise InvalidRequest("client_req_id", "is empty", "a unique id per order")
        body = JSON_ENCODER.encode({
            "clientReqId": client_req_id,
            "quoteId": quote_id,
            "sellCurrency": sell_currency,
            "buyCurrency": buy_currency,
            "sellAmount": plain(sell_amount, "sell_amount"),
            "buyAmount": plain(buy_amount, "buy_amount"),
        })
        last: ProviderError | None = None
        for attempt in range(max(1, attempts)):
            try:
                data = await self._call("POST", CONVERT_PATH, body=body)
            except RateMoved:
                raise
            except (ProviderTimeout, ProviderUnavailable) as exc:
                last = exc
                continue
            except DuplicateOrder as exc:
                if attempt == 0:
                    raise
                raise DuplicateOrder(self.provider, f"{CONVERT_PATH}: an earlier try with this "
                                     "clientReqId created the order", status=exc.status,
                                     code=exc.code) from exc
            return self._decode(ORDER_DECODER, data, CONVERT_PATH)
        assert last is not None
        raise last

    async def order(self, order_id: str) -> Order:
        """``GET /v1/pay/convert/order?orderId=``: one order's state (1 unit).

        The doc's table spells the parameter ``OrderID``, its example ``orderId``: we send
        both, with the same value (both are signed), so whichever GatePay reads finds it.
        """
        oid = str(order_id)
        data = await self._call("GET", ORDER_PATH, params={"orderId": oid, "OrderID": oid})
        return self._decode(ORDER_DECODER, data, ORDER_PATH)

    # -- plumbing -----------------------------------------------------------------------------
    async def _call(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> msgspec.Raw:
        self._ensure_open()
        await self._budget.acquire(DEFAULT_COST, reserved=path in RESERVED_PATHS,
                                   timeout=self._budget_timeout)
        headers = self._signer.headers(body)  # after the wait: the timestamp must be fresh
        reply = await exchange(self._session.request(
                method, self._base + path, params=params or None,
                data=body if method == "POST" else None, headers=headers, timeout=self._timeout,
            ), self.provider, path)
        status, raw = reply.status, reply.raw
        await refuse_too_many(reply, self._budget, self.provider, path)
        try:
            env = ENVELOPE_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            if status >= 500:
                raise ProviderUnavailable(self.provider, f"{path}: server error",
                                          status=status) from exc
            if status in (401, 403):
                raise AuthError(self.provider, f"{path}: refused", status=status) from exc
            raise MalformedResponse(self.provider, f"{path}: answer is not a JSON envelope",
                                    status=status) from exc
        if status >= 500:
            code = None if env.ok else env.code_text
            raise ProviderUnavailable(self.provider, self._text(path, env.label,
                                      env.errorMessage, "server error"), status=status, code=code)
        if env.ok:
            if status >= 300:
                raise MalformedResponse(self.provider, f"{path}: success code with HTTP {status}",
                                        status=status)
            return env.data
        if env.code_text == OK_CODE:
            raise MalformedResponse(self.provider, f"{path}: success code with status "
                                    f"{self._clean(env.status)!r}", status=status)
        raise self._error(path, env.code_text, env.label, env.errorMessage, status)

    def _text(self, path: str, label: str | None, message: str | None, fallback: str) -> str:
        parts = [p for p in (self._clean(label), self._clean(message)) if p]
        return f"{path}: {' '.join(parts) if parts else fallback}"

    def _error(self, path: str, code: str, label: str | None, message: str | None,
               status: int) -> ProviderError:
        cls = ERROR_CODES.get(code, UNKNOWN_CODE_ERROR)
        text = self._text(path, label, message, "refused")
        if code == TIMESTAMP_CODE:
            text += " (timestamp rejected: the local clock is more than 10 s off GatePay's; " \
                    "sync it with NTP)"
        return cls(self.provider, text, status=status, code=code)
