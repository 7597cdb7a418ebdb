"""1BitPay API client: signing, budget, transport and error mapping for ``POST /api/otc/*``.

Every call goes through :meth:`OneBitPayClient._call`: encode the params once as compact JSON
(money as JSON strings), sign the public header parameters together with those params (keys
sorted as the doc's example does; a 150025 "bad signature" is retried once in the rule's ASCII
order, and the order that worked is kept for the key), take the
call's cost from the budget **before** sending, POST, then decode the envelope and map failures
onto :mod:`router.errors`:

==================================  ===========================================================
HTTP 429 (any body)                 ``budget.penalize(Retry-After)``, then :class:`RateLimited`
envelope code != 200                the class in :data:`~.constants.ERROR_CODES` (unknown:
                                    :class:`Rejected`); 150032 is :class:`AmountOutOfRange`
                                    (below the minimum) carrying the configured minimum of the
                                    fiat, since the envelope gives no figure
HTTP 5xx                            :class:`ProviderUnavailable`
HTTP 401/403 without an envelope    :class:`AuthError`
connection trouble                  :class:`ProviderUnavailable` (chained with ``from``)
timeout                             :class:`ProviderTimeout`
not JSON / undecodable / impossible :class:`MalformedResponse` (e.g. a rate that is not > 0)
==================================  ===========================================================

Messages carry codes, field names and the provider's short ``message``, never a credential, a
signature or personal data from an order. ``asyncio.CancelledError`` passes through untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

import aiohttp
import msgspec

from router.budgets import Budget
from router.errors import (
    AmountOutOfRange,
    AuthError,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
)
from router.secret import Secret

from .._http import exchange, refuse_too_many
from .._http import plain as _plain
from ..base import ProviderClient
from ..forms import Reading
from .auth import ORDERS, Order, Signer, random_nonce
from .constants import (
    BAD_SIGNATURE,
    BASE_URL,
    CREATE_COST,
    DEFAULT_MIN_VOLUME,
    ERROR_CODES,
    MAX_WORDS,
    NAME,
    OK,
    ORDER_BUY,
    ORDER_SELL,
    PAIR_OR_MAX,
    PATH_CREATE,
    PATH_RATE,
    RATE_COST,
    UNKNOWN_CODE_ERROR,
)
from .wire import (
    CREATE_DECODER,
    ENVELOPE_DECODER,
    JSON_ENCODER,
    RATE_DECODER,
    OtcOrder,
    OtcRate,
)

__all__ = ["OneBitPayClient"]



#: The plausible range of a fiat-per-USDT rate (outside it the answer is broken).
_RATE_MIN: Final = Decimal("1e-9")
_RATE_MAX: Final = Decimal("1e9")


class OneBitPayClient(ProviderClient):
    """One 1BitPay merchant credential on a shared session; lifecycle and repr as
    :class:`~adapters.base.ProviderClient`.

    ``min_volume`` (fiat → minimum, fiat units) is only used to give code 150032 a figure.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        merchant_no: Secret,
        api_key: Secret,
        api_secret: Secret,
        budget: Budget,
        base_url: str = BASE_URL,
        timeout: float = 15.0,
        budget_timeout: float | None = None,
        provider: str = NAME,
        min_volume: Mapping[str, Decimal] = DEFAULT_MIN_VOLUME,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = random_nonce,
    ) -> None:
        creds = (merchant_no, api_key, api_secret)
        if not all(isinstance(c, Secret) for c in creds):
            raise TypeError("merchant_no, api_key and api_secret must be router.secret.Secret")
        self._base = base_url.rstrip("/")
        super().__init__(session, budget=budget, provider=provider, endpoint=self._base,
                         identity=api_key, secrets=creds, timeout=timeout,
                         budget_timeout=budget_timeout)
        self._signer = Signer(merchant_no, api_key, api_secret, clock=clock, nonce=nonce)
        self._order: Reading[Order] = Reading(ORDERS)  # the key order 1BitPay verifies
        self._min_volume = dict(min_volume)

    # -- methods ------------------------------------------------------------------------------
    async def rate(self, crypto: str, fiat: str) -> OtcRate:
        """``otc/rate``: ``(buyRate, sellRate)`` in ``fiat`` per ``crypto`` (1 unit).

        Both must be finite and positive (else :class:`MalformedResponse`). Their order is not
        checked: the doc's own example has ``buyRate`` below ``sellRate``.
        """
        params = {"cryptoCurrency": crypto, "legalCurrency": fiat}
        raw = await self._call(PATH_RATE, params, RATE_COST, fiat=fiat)
        rate = self._decode(RATE_DECODER, raw, "otc/rate")
        for name in ("buyRate", "sellRate"):
            value: Decimal = getattr(rate, name)
            # fiat per USDT: no currency is a billion times more or less than a dollar
            if not value.is_finite() or not _RATE_MIN <= value <= _RATE_MAX:
                raise MalformedResponse(self.provider, f"otc/rate: data.{name} is {value:.6g}")
        return rate

    async def create(
        self,
        *,
        order_type: int,
        crypto: str,
        fiat: str,
        merchant_order_no: str,
        user_name: str,
        area_code: str,
        phone: str,
        id_card_type: int,
        id_card: str,
        pay_way: int,
        crypto_amount: Decimal | None = None,
        legal_amount: int | Decimal | None = None,
        h5: bool = False,
        kyc: int = 2,
        sync_url: str | None = None,
        async_url: str | None = None,
        bank: str | None = None,
        bank_account: str | None = None,
        bank_branch: str | None = None,
    ) -> OtcOrder:
        """``otc/create``: open a C2C order (1 unit, may use the budget's reserve).

        ``order_type`` 1 = the user buys ``crypto`` with ``fiat``, 2 = the user sells it (then
        ``bank`` and ``bank_account`` are required). Give ``crypto_amount`` or ``legal_amount``
        (whole fiat units: the doc allows no decimals there); with both, 1BitPay ignores
        ``legal_amount``.
        """
        if order_type not in (ORDER_BUY, ORDER_SELL):
            raise InvalidRequest("order_type", f"is {order_type!r}", "1 (buy) or 2 (sell)")
        if crypto_amount is None and legal_amount is None:
            raise InvalidRequest("crypto_amount", "missing", "crypto_amount or legal_amount")
        if order_type == ORDER_SELL and not (bank and bank_account):
            raise InvalidRequest("bank", "missing for a sell order", "bank and bank_account")
        params: dict[str, Any] = {
            "userName": user_name, "areaCode": area_code, "phone": phone,
            "syncUrl": sync_url, "asyncUrl": async_url,
            "cryptoCurrency": crypto, "legalCurrency": fiat,
            "idCardType": id_card_type, "idCard": id_card, "kyc": kyc,
            "merchantOrderNo": merchant_order_no, "orderType": order_type, "payWay": pay_way,
            "bank": bank, "bankAccount": bank_account, "bankBranch": bank_branch, "h5": h5,
        }
        if crypto_amount is not None:
            if not crypto_amount.is_finite() or crypto_amount <= 0:
                raise InvalidRequest("crypto_amount", f"is {crypto_amount}", "> 0")
            params["cryptoAmount"] = _plain(crypto_amount)
        if legal_amount is not None:
            whole = Decimal(legal_amount)
            if not whole.is_finite() or whole <= 0 or whole != whole.to_integral_value():
                raise InvalidRequest("legal_amount", f"is {legal_amount}", "a whole number > 0")
            params["legalAmount"] = int(whole)
        params = {k: v for k, v in params.items() if v is not None and v != ""}
        raw = await self._call(PATH_CREATE, params, CREATE_COST, fiat=fiat, reserved=True)
        return self._decode(CREATE_DECODER, raw, "otc/create")

    # -- plumbing -----------------------------------------------------------------------------
    async def _call(self, path: str, params: Mapping[str, Any], cost: int, *, fiat: str,
                    reserved: bool = False) -> msgspec.Raw:
        self._ensure_open()
        return await self._order.call(
            lambda order: self._send(path, params, cost, order, fiat=fiat, reserved=reserved),
            lambda exc: isinstance(exc, AuthError) and exc.code == BAD_SIGNATURE)

    async def _send(self, path: str, params: Mapping[str, Any], cost: int, order: Order, *,
                    fiat: str, reserved: bool) -> msgspec.Raw:
        what = path.removeprefix("/api/")
        body = JSON_ENCODER.encode(params)
        headers = self._signer.headers(params, order)
        await self._budget.acquire(cost, reserved=reserved, timeout=self._budget_timeout)
        reply = await exchange(self._session.post(
                self._base + path, data=body, headers=headers, timeout=self._timeout
            ), self.provider, what)
        status, raw = reply.status, reply.raw
        await refuse_too_many(reply, self._budget, self.provider, what)
        if status >= 500:
            raise ProviderUnavailable(self.provider, f"{what}: server error", status=status)
        try:
            env = ENVELOPE_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            if status in (401, 403):
                raise AuthError(self.provider, f"{what}: refused", status=status) from exc
            raise MalformedResponse(self.provider, f"{what}: answer is not a JSON envelope",
                                    status=status) from exc
        if env.code == OK:
            if status >= 300:
                raise MalformedResponse(self.provider, f"{what}: code 200 with HTTP {status}",
                                        status=status)
            return env.data
        raise self._error(what, env.code, env.message, status, fiat)

    def _error(self, what: str, code: int, msg: str | None, status: int,
               fiat: str) -> ProviderError:
        cls = ERROR_CODES.get(code, UNKNOWN_CODE_ERROR)
        text = f"{what}: {self._clean(msg)}".rstrip(": ")
        if cls is AmountOutOfRange:  # 150032: below the minimum volume; no figure in the answer
            limit = self._min_volume.get(fiat)
            shown = f" (minimum {limit} {fiat}, configured)" if limit is not None else ""
            return AmountOutOfRange(self.provider, text + shown, below_min=True, limit=limit,
                                    asset=fiat, status=status, code=code)
        if code == PAIR_OR_MAX and any(w in (msg or "").lower() for w in MAX_WORDS):
            return AmountOutOfRange(self.provider, text, below_min=False, asset=fiat,
                                    status=status, code=code)
        return cls(self.provider, text, status=status, code=code)
