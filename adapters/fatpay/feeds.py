"""FaTPay's indicative layer: the token and currency lists, cached, and the limits they carry.

The lists carry no prices, only what can be bought and the fiat limits of each payment option, so
the indicative check is a limit check: :func:`check_fiat_amount` raises
:class:`~router.errors.AmountOutOfRange` with FaTPay's own figure (fiat units) when an amount lies
outside the widest payment option, and otherwise says nothing.

The source keeps each list in an :class:`adapters.cache.TtlCache` with its default policy: fresh
``list_ttl`` seconds; concurrent callers share one call (single flight); after a failure the last
good list is served (or, with none, the error re-raised) for 30 s before the next try, so a bad
key or a paused budget is not asked on every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from router.errors import AmountOutOfRange

from .wire import FiatCurrency, PaymentOption, widest_range

__all__ = ["check_fiat_amount", "fiat_range"]


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
