"""FaTPay API client: signing, budget, transport and error mapping for the on-ramp calls.

Every call is a signed ``GET`` through :meth:`FaTPayClient._get`: build the query (values raw in the
signature, percent-encoded on the wire), sign ``GET + host + path + ?...`` with the host of the
configured ``base_url`` (what the request's ``Host`` header says), take one unit from the budget
**before** sending, then decode the envelope and map failures onto :mod:`router.errors`:

==================================  ===========================================================
HTTP 429 (any body)                 ``budget.penalize(Retry-After)``, then :class:`RateLimited`
HTTP 5xx                            :class:`ProviderUnavailable`
code 10000 (integer or string)      success
code 10003                          :class:`AuthError` (bad signature, unknown partner id)
code 10002                          :class:`Rejected`; :class:`AmountOutOfRange` only when the
                                    answer's ``data`` carries limits the amount is outside of
other codes                         :class:`Rejected`
HTTP 401/403 without an envelope    :class:`AuthError`
connection trouble                  :class:`ProviderUnavailable` (chained with ``from``)
timeout                             :class:`ProviderTimeout`
not JSON / undecodable data         :class:`MalformedResponse`
==================================  ===========================================================

Messages carry codes, paths and the provider's short ``msg``, never the partner id or the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote, urlsplit

import aiohttp
import msgspec
from yarl import URL

from router.budgets import Budget
from router.errors import (
    AmountOutOfRange,
    AuthError,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
)

from .._http import exchange, refuse_too_many
from ..base import ProviderClient
from .auth import Signer
from .constants import (
    BASE_URL,
    CALL_COST,
    CURRENCY_PATH,
    ERROR_CODES,
    NAME,
    OK,
    PARAMS_ERROR,
    PRICE_PATH,
    TOKEN_PATH,
    UNKNOWN_CODE_ERROR,
)
from .wire import (
    CURRENCIES_DECODER,
    ENVELOPE_DECODER,
    LIMIT_HINT_DECODER,
    PRICE_DECODER,
    TOKENS_DECODER,
    Envelope,
    FiatCurrency,
    PriceData,
    Token,
    widest_range,
)

__all__ = ["FaTPayClient", "host_of", "plain"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(base_url: str) -> str:
    """The host part FaTPay signs: ``api.ramp.fatpay.xyz``, or ``127.0.0.1:8080`` with a port
    (exactly what an HTTP client puts in ``Host``: the default port is left out)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def plain(amount: Decimal) -> str:
    """``amount`` written without an exponent (``1E+2`` → ``100``)."""
    return format(amount, "f")


class FaTPayClient(ProviderClient):
    """One FaTPay partner on a shared session; lifecycle and repr as
    :class:`~adapters.base.ProviderClient`. ``secrets`` are blanked out of provider messages."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        signer: Signer,
        budget: Budget,
        base_url: str = BASE_URL,
        timeout: float = 15.0,
        budget_timeout: float | None = None,
        provider: str = NAME,
        secrets: tuple[str, ...] = (),
    ) -> None:
        if not isinstance(signer, Signer):
            raise TypeError("signer must be an adapters.fatpay.auth.Signer")
        self._base = base_url.rstrip("/")
        super().__init__(session, budget=budget, provider=provider, endpoint=self._base,
                         identity=signer, label="partner", secrets=secrets, timeout=timeout,
                         budget_timeout=budget_timeout)
        self._signer = signer
        self._host = host_of(self._base)
        self._prefix = urlsplit(self._base).path.rstrip("/")

    # -- calls --------------------------------------------------------------------------------
    async def tokens(self) -> list[Token]:
        """``onramp/token``: every cryptocurrency FaTPay sells (1 unit)."""
        raw = await self._get(TOKEN_PATH, {})
        return self._decode(TOKENS_DECODER, raw, "token")

    async def currencies(self) -> list[FiatCurrency]:
        """``onramp/currency``: every fiat currency with its payment options (1 unit)."""
        raw = await self._get(CURRENCY_PATH, {})
        return self._decode(CURRENCIES_DECODER, raw, "currency")

    async def price(self, fiat: str, amount: Decimal, crypto_code: str,
                    payment: str | None = None) -> PriceData:
        """``onramp/price``: what ``amount`` of ``fiat`` buys of ``crypto_code`` (1 unit)."""
        query = {"fiatCurrency": fiat, "currencyAmount": plain(amount),
                 "cryptoCurrencyCode": crypto_code}
        if payment:
            query["payment"] = payment
        raw = await self._get(PRICE_PATH, query, limit_check=(amount, fiat))
        return self._decode(PRICE_DECODER, raw, "price")

    # -- plumbing -----------------------------------------------------------------------------
    async def _get(self, path: str, query: Mapping[str, str], *,
                   limit_check: tuple[Decimal, str] | None = None) -> msgspec.Raw:
        self._ensure_open()
        call = path.rsplit("/", 1)[-1]
        full_path = self._prefix + path
        query = {k: v for k, v in query.items() if v != ""}
        headers = self._signer.headers("GET", self._host, full_path, query)
        headers["Accept"] = "application/json"
        encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                           for k, v in sorted(query.items()))
        url = URL(self._base + path + ("?" + encoded if encoded else ""), encoded=True)
        await self._budget.acquire(CALL_COST, timeout=self._budget_timeout)
        reply = await exchange(self._session.get(url, headers=headers, timeout=self._timeout,
                                         allow_redirects=False), self.provider, call)
        status, raw = reply.status, reply.raw
        await refuse_too_many(reply, self._budget, self.provider, call)
        if status >= 500:
            raise ProviderUnavailable(self.provider, f"{call}: server error", status=status)
        try:
            env = ENVELOPE_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            if status in (401, 403):
                raise AuthError(self.provider, f"{call}: refused", status=status) from exc
            raise MalformedResponse(self.provider, f"{call}: answer is not a JSON envelope",
                                    status=status) from exc
        code = env.code_number
        if code == OK:
            if status >= 300:
                raise MalformedResponse(self.provider, f"{call}: code {OK} with HTTP {status}",
                                        status=status)
            return env.data
        raise self._error(call, code, env, status, limit_check)

    def _error(self, call: str, code: int | None, env: Envelope, status: int,
               limit_check: tuple[Decimal, str] | None) -> ProviderError:
        shown: int | str = code if code is not None else str(env.code)[:16]
        text = f"{call}: {self._clean(env.msg)}".rstrip(": ")
        if code == PARAMS_ERROR and limit_check is not None:
            limit = self._limit_error(text, env.data, *limit_check, status=status)
            if limit is not None:
                return limit
        cls = ERROR_CODES.get(code, UNKNOWN_CODE_ERROR) if code is not None else UNKNOWN_CODE_ERROR
        return cls(self.provider, text, status=status, code=shown)

    def _limit_error(self, text: str, data: msgspec.Raw, amount: Decimal, fiat: str, *,
                     status: int) -> AmountOutOfRange | None:
        """A ``10002`` whose ``data`` carries limits that exclude ``amount`` (by structure only)."""
        try:
            hint = LIMIT_HINT_DECODER.decode(data)
        except msgspec.DecodeError:
            return None
        low, high = widest_range(hint.options)
        asset = fiat.upper()
        if low is not None and amount < low:
            return AmountOutOfRange(self.provider, f"{text} (minimum {low} {asset})",
                                    below_min=True, limit=low, asset=asset, status=status,
                                    code=PARAMS_ERROR)
        if high is not None and amount > high:
            return AmountOutOfRange(self.provider, f"{text} (maximum {high} {asset})",
                                    below_min=False, limit=high, asset=asset, status=status,
                                    code=PARAMS_ERROR)
        return None
