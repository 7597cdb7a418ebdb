"""GatePay's indicative layer: the currency and pair lists, with per-side limits and no prices.

``/v1/pay/convert/currency`` names the currencies; ``/v1/pay/convert/pair?currency=X`` lists X's
pairs, each a direction (sell ``sellCurrency``, receive ``buyCurrency``) with limits per side in
that side's units. :func:`fetch_catalog` reads them all (1 + one unit per currency); the source
keeps the result in an :class:`adapters.cache.TtlCache` (``lists_ttl`` seconds, one read in flight
at a time; after a failed read the last catalog, or with none the error, for 30 s or the
provider's ``retry_after``).
:func:`check_amount` is the only "pricing" the lists allow: the amount against the relevant side's
limits (sell side: the sold currency's; buy side: the received currency's).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import msgspec

from router.assets import Asset
from router.errors import AmountOutOfRange, AuthError, PermanentError, ProviderError
from router.model import Side

from .wire import Pair

if TYPE_CHECKING:  # pragma: no cover
    from .client import GatePayClient

__all__ = ["Catalog", "PairLimits", "build_catalog", "check_amount", "decode_catalog",
           "encode_catalog",
           "fetch_catalog"]

_ID_RE: Final = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")  # a canonical coin id (router.assets)


class PairLimits(msgspec.Struct, frozen=True):
    """One direction GatePay converts, its codes, canonical ids and limits (``None``: unknown)."""

    sell: str
    buy: str
    asset_in: str
    asset_out: str
    sell_min: Decimal | None = None
    sell_max: Decimal | None = None
    buy_min: Decimal | None = None
    buy_max: Decimal | None = None

    @property
    def ref(self) -> str:
        """The market's ``ref``: GatePay codes ``SELL/BUY``."""
        return f"{self.sell}/{self.buy}"


class Catalog(msgspec.Struct, frozen=True):
    """Every direction from one read of the lists, keyed by ``(sell, buy)`` GatePay codes."""

    pairs: Mapping[tuple[str, str], PairLimits]
    fetched_at: float = 0.0  # unix seconds
    skipped: int = 0  # pairs or currencies left out (impossible limits, refused lists)

    def get(self, sell: str, buy: str) -> PairLimits | None:
        return self.pairs.get((sell, buy))


def _canonical(code: str) -> str | None:
    """The asset of a GatePay currency code: a coin's home chain named (``BTC`` -> ``BTC@BTC``),
    a token an account balance with no network (``USDT``)."""
    return Asset.of(code).id if _ID_RE.match(code.upper()) else None


def _limits(lo: Decimal | None, hi: Decimal | None) -> tuple[Decimal | None, Decimal | None] | None:
    """Validated ``(min, max)``; a max of 0 reads as "no figure"; ``None`` if impossible."""
    for value in (lo, hi):
        if value is not None and (not value.is_finite() or value < 0):
            return None
    if hi is not None and hi == 0:
        hi = None
    if lo is not None and hi is not None and lo > hi:
        return None
    return lo, hi


def build_catalog(pairs: Iterable[Pair], *, fetched_at: float, skipped: int = 0) -> Catalog:
    """Validate and index ``pairs``; a direction seen twice keeps its first entry."""
    out: dict[tuple[str, str], PairLimits] = {}
    seen: set[tuple[str, str]] = set()
    for p in pairs:
        sell, buy = p.sellCurrency.strip(), p.buyCurrency.strip()
        a, b = _canonical(sell), _canonical(buy)
        sell_lim = _limits(p.sellCurrencyMin, p.sellCurrencyMax)
        buy_lim = _limits(p.buyCurrencyMin, p.buyCurrencyMax)
        if a is None or b is None or a == b or sell_lim is None or buy_lim is None:
            skipped += 1
            continue
        if (a, b) in seen:
            continue
        seen.add((a, b))
        out[(sell, buy)] = PairLimits(sell, buy, a, b, *sell_lim, *buy_lim)
    return Catalog(out, fetched_at, skipped)


class _CatalogFile(msgspec.Struct, frozen=True):
    pairs: list[PairLimits]
    fetched_at: float = 0.0
    skipped: int = 0


def encode_catalog(catalog: Catalog) -> bytes:
    """The catalog as JSON for the bulk cache (each direction names its own codes)."""
    return msgspec.json.encode(_CatalogFile(list(catalog.pairs.values()), catalog.fetched_at,
                                            catalog.skipped))


def decode_catalog(raw: bytes) -> Catalog:
    f = msgspec.json.decode(raw, type=_CatalogFile)
    return Catalog({(p.sell, p.buy): p for p in f.pairs}, f.fetched_at, f.skipped)


async def fetch_catalog(client: GatePayClient, clock: Callable[[], float] = time.time) -> Catalog:
    """Read the currency list, then every currency's pairs concurrently (1 + N units).

    A currency whose pair list is refused permanently (e.g. 400001) is skipped and counted; an
    auth failure or any transient failure fails the whole read (raised as is).
    """
    currencies = list(dict.fromkeys(c.strip() for c in await client.currencies() if c.strip()))
    answers = await asyncio.gather(*(client.pairs(c) for c in currencies),
                                   return_exceptions=True)
    pairs: list[Pair] = []
    skipped = 0
    for answer in answers:
        if isinstance(answer, AuthError) or (isinstance(answer, ProviderError)
                                             and not isinstance(answer, PermanentError)):
            raise answer
        if isinstance(answer, ProviderError):
            skipped += 1
            continue
        if isinstance(answer, BaseException):
            raise answer
        pairs.extend(answer)
    return build_catalog(pairs, fetched_at=clock(), skipped=skipped)


def check_amount(provider: str, pair: PairLimits, amount: Decimal, side: Side) -> None:
    """Raise :class:`AmountOutOfRange` with GatePay's figure if ``amount`` is outside the limits.

    ``side="sell"``: ``amount`` is sold, checked against the sell currency's min/max
    (``asset_in``); ``side="buy"``: it is received, checked against the buy currency's
    (``asset_out``).
    """
    if side == "sell":
        lo, hi, asset, what = pair.sell_min, pair.sell_max, pair.asset_in, "sell"
    else:
        lo, hi, asset, what = pair.buy_min, pair.buy_max, pair.asset_out, "buy"
    if lo is not None and amount < lo:
        raise AmountOutOfRange(provider, f"{pair.ref}: {what} minimum {lo} {asset}",
                               below_min=True, limit=lo, asset=asset)
    if hi is not None and amount > hi:
        raise AmountOutOfRange(provider, f"{pair.ref}: {what} maximum {hi} {asset}",
                               below_min=False, limit=hi, asset=asset)
