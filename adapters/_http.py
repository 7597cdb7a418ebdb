"""What every provider client shares: sending and reading a request, 429 handling, Retry-After,
decoding, plain JSON numbers, message hygiene."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import NamedTuple, TypeVar

import aiohttp
import msgspec
from multidict import CIMultiDictProxy

from router.budgets import Budget
from router.errors import (
    MalformedResponse,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from router.secret import Secret

__all__ = ["MSG_MAX", "Reply", "clean", "decode", "exchange", "plain", "refuse_too_many",
           "retry_after"]

T = TypeVar("T")
#: Provider messages are cut to this many characters before they reach an error.
MSG_MAX = 160


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The ``Retry-After`` header in seconds, if it is sane (0 to a day): delta-seconds
    (``120``) or an HTTP-date (``Wed, 21 Oct 2026 07:28:00 GMT``, RFC 9110 section 10.2.3),
    counted from ``now()``, the wall clock the date is written in; a date already past is 0."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    value: float | None
    try:
        value = float(raw)
    except ValueError:
        value = _seconds_until(raw, now)
    return value if value is not None and 0 <= value < 86400 else None


def _seconds_until(raw: str, now: Callable[[], float]) -> float | None:
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110: an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def decode(decoder: msgspec.json.Decoder[T], data: msgspec.Raw | bytes, provider: str, what: str) -> T:
    """``decoder.decode(data)``; a shape the provider's docs do not allow is a MalformedResponse."""
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise MalformedResponse(provider, f"{what}: data does not match the documented "
                                f"shape ({exc})") from exc


def clean(msg: str | None, secrets: Iterable[Secret | str | None]) -> str:
    """A provider's message, short, with our credentials blanked out just in case."""
    text = (msg or "").strip()[:MSG_MAX]
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            text = text.replace(value, "***")
    return text


class Reply(NamedTuple):
    """A provider's answer, read whole: status, raw body, headers, sane ``Retry-After``."""

    status: int
    raw: bytes
    headers: CIMultiDictProxy[str]
    retry_after: float | None


async def exchange(request: AbstractAsyncContextManager[aiohttp.ClientResponse], provider: str,
                   what: str) -> Reply:
    """Send ``request`` (an un-entered aiohttp request) and read the answer; a timeout is a
    :class:`ProviderTimeout`, any transport failure a :class:`ProviderUnavailable`."""
    try:
        async with request as resp:
            raw = await resp.read()
            return Reply(resp.status, raw, resp.headers, retry_after(resp.headers))
    except TimeoutError as exc:
        raise ProviderTimeout(provider, f"{what}: no answer in time") from exc
    except aiohttp.ClientError as exc:
        raise ProviderUnavailable(provider, f"{what}: {type(exc).__name__}") from exc


async def refuse_too_many(reply: Reply, budget: Budget, provider: str, what: str) -> None:
    """HTTP 429: pause the budget (honouring ``Retry-After``) and raise :class:`RateLimited`."""
    if reply.status == 429:
        await budget.penalize(reply.retry_after)
        raise RateLimited(provider, f"{what}: too many requests", status=reply.status,
                          retry_after=reply.retry_after)


def plain(amount: Decimal) -> Decimal:
    """``amount`` written without an exponent (``1E+2`` → ``100``) so a JSON number is plain."""
    return Decimal(format(amount, "f"))
