"""FaTPay's indicative layer: the token and currency lists, cached, and the limits they carry.

The lists carry no prices, only what can be bought and the fiat limits of each payment option, so
the indicative check is a limit check: :func:`check_fiat_amount` raises
:class:`~router.errors.AmountOutOfRange` with FaTPay's own figure (fiat units) when an amount lies
outside the widest payment option, and otherwise says nothing.

:class:`ListCache` keeps one list for ``ttl`` seconds; concurrent callers share one call (single
flight). After a failure the last good list is served (or, with none, the error re-raised) for
``retry`` seconds before the next try, so a bad key or a paused budget is not asked on every call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Generic, TypeVar

from router.errors import AmountOutOfRange, ProviderError

from .wire import FiatCurrency, PaymentOption, widest_range

__all__ = ["ListCache", "check_fiat_amount", "fiat_range"]

T = TypeVar("T")


class ListCache(Generic[T]):
    """One cached list fetched by ``fetch``; see the module docstring."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        *,
        ttl: float,
        retry: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._retry = retry
        self._clock = clock
        self._value: T | None = None
        self._fetched_at: float | None = None
        self._error: ProviderError | None = None
        self._next = 0.0  # clock() when a new call is due (after a success or a failure)
        self._flight: asyncio.Task[T] | None = None
        self._closed = False

    def peek(self) -> T | None:
        """The last good list, however old, without any call."""
        return self._value

    @property
    def fetched_at(self) -> float | None:
        """``clock()`` when the list :meth:`peek` shows was fetched (``None`` before the first)."""
        return self._fetched_at

    async def get(self) -> T:
        """The list: cached while fresh, else fetched once for every concurrent caller."""
        if self._closed:
            raise RuntimeError("list cache is closed")
        if self._clock() < self._next:
            if self._value is not None:
                return self._value
            if self._error is not None:
                raise self._error.with_traceback(None)
        if self._flight is None:
            self._flight = asyncio.ensure_future(self._fetch())
            self._flight.add_done_callback(self._landed)
        try:
            return await asyncio.shield(self._flight)
        except ProviderError:
            if self._value is None:
                raise
            return self._value  # stale but usable; the next try comes after ``retry``

    def _landed(self, flight: asyncio.Task[T]) -> None:
        self._flight = None
        if flight.cancelled():
            return
        error = flight.exception()
        if error is None:
            self._value, self._error = flight.result(), None
            self._fetched_at = self._clock()
            self._next = self._fetched_at + self._ttl
        elif isinstance(error, ProviderError):
            self._error = error
            wait = getattr(error, "retry_after", None) or 0.0
            self._next = self._clock() + max(self._retry, wait)

    async def aclose(self) -> None:
        """Cancel a call in flight; idempotent."""
        self._closed = True
        flight, self._flight = self._flight, None
        if flight is not None:
            flight.cancel()
            await asyncio.gather(flight, return_exceptions=True)


def fiat_range(options: Sequence[PaymentOption] | FiatCurrency,
               payment: str | None = None) -> tuple[Decimal | None, Decimal | None]:
    """The limits of a currency's (or a price answer's) payment options: of the widest option,
    or of option ``payment`` when given and listed."""
    if isinstance(options, FiatCurrency):
        options = options.options
    if payment is not None:
        chosen = [o for o in options if o.name == payment]
        options = chosen or options
    return widest_range(options)


def check_fiat_amount(provider: str, amount: Decimal, fiat: str,
                      bounds: tuple[Decimal | None, Decimal | None], *, what: str) -> None:
    """Raise :class:`AmountOutOfRange` (limit in ``fiat`` units) if ``amount`` is outside."""
    low, high = bounds
    if low is not None and amount < low:
        raise AmountOutOfRange(provider, f"{what} below the minimum {low} {fiat}",
                               below_min=True, limit=low, asset=fiat)
    if high is not None and amount > high:
        raise AmountOutOfRange(provider, f"{what} above the maximum {high} {fiat}",
                               below_min=False, limit=high, asset=fiat)
