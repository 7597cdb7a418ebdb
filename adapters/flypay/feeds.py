"""FlyPay's indicative layer: the ``payways`` answer as a fee/limit/rate model, cached politely.

One signed ``payways`` call (1 budget unit) gives every exchange pair with its rate, precisions,
limits and fees (the ``exchange`` section, keyed ``{currency_from}_{currency_to}``) and, in the
``payin``/``payout``/``exchange_payin``/``exchange_payout`` sections, the payment ways (networks)
each currency moves on.

Assets. An exchange debits the ``currency_from`` wallet and credits ``currency_to`` (the doc's
``transaction/exchange``): wallets hold a currency without a network, and the network is the
payway money arrives or leaves by. A currency is therefore offered as an input on every network
its ``payin``/``exchange_payin`` payways name (``usdt`` on ``trc20`` → ``USDT@TRC20``) and as an
output on every network of its ``payout``/``exchange_payout`` payways; a currency without any
payway is the coin alone (``Asset.of(code)``). Payway fees are **not** part of the model: the
quotes price the exchange only, as ``exchange/estimated_amount`` does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

import msgspec

from router.assets import Asset, canonical_network

from ..cache import TtlCache

if TYPE_CHECKING:  # pragma: no cover
    from router.sources.bulkstore import Persisted
from .constants import NAME
from .wire import EXCHANGE_PAIR_DECODER, ExchangePair, Payway, PaywayMap, PaywaysData

__all__ = ["PairModel", "Payways", "PaywaysCache", "asset_of", "build_payways"]

_HUNDRED: Final = Decimal(100)
_NOT_ALNUM: Final = re.compile(r"[^A-Z0-9]")


class PairModel(msgspec.Struct, frozen=True):
    """One exchange direction: rate, precisions, limits (``currency_from`` units) and fees.

    ``percent`` is a fraction (the doc's ``percent_fee`` / 100); ``percent`` and ``fixed`` are
    charged in ``fee_currency``, which is the input (``fee_side == "from"``) or the output.
    ``places_*`` is ``None`` when FlyPay does not say.
    """

    key: str
    currency_from: str
    currency_to: str
    rate: Decimal  # units of currency_to per unit of currency_from
    places_from: int | None
    places_to: int | None
    min: Decimal | None
    max: Decimal | None
    percent: Decimal
    fixed: Decimal
    fee_side: Literal["from", "to"]
    fee_currency: str


class Payways(msgspec.Struct, frozen=True):
    """The model of one ``payways`` answer."""

    pairs: Mapping[str, PairModel]  # by the ``exchange`` key
    assets_in: Mapping[str, tuple[str, ...]]  # currency code → canonical ids it can come in as
    assets_out: Mapping[str, tuple[str, ...]]  # currency code → canonical ids it can leave as
    skipped: int = 0  # exchange entries left out as unusable
    fetched_at: float = 0.0  # unix seconds

    def inputs(self, code: str) -> tuple[str, ...]:
        return self.assets_in.get(code) or (asset_of(code),)

    def outputs(self, code: str) -> tuple[str, ...]:
        return self.assets_out.get(code) or (asset_of(code),)


def _network(code: str, payway: str) -> str | None:
    """The canonical network a payway names (``trc20``, ``usdt_trc20``, ``bep20``); ``None`` for
    the coin's own chain (a payway named like the coin)."""
    way = payway.strip().lower()
    coin = code.strip().lower()
    if way != coin and way.startswith(coin):
        way = way[len(coin):].lstrip("_- ")
    elif way != coin and way.endswith(coin):
        way = way[: -len(coin)].rstrip("_- ")
    if not way or way == coin:
        return None
    return _NOT_ALNUM.sub("", canonical_network(way)) or None


def asset_of(code: str, payway: str | None = None, *, is_crypto: bool | None = None) -> str:
    """Canonical asset id of FlyPay currency ``code`` moved by ``payway`` (``None``: the coin)."""
    coin = code.strip()
    network = None
    if payway and is_crypto is not False:
        network = _network(coin, payway)
    return Asset.of(coin, network).id


def _ways(section: PaywayMap) -> Iterable[tuple[str, str, Payway]]:
    """``(symbol, payway name, entry)`` of one payway section, in either layout."""
    if isinstance(section, list):
        for way in section:
            yield way.symbol, way.payway, way
        return
    for symbol, group in section.items():
        entries = group.items() if isinstance(group, dict) else ((w.payway, w) for w in group)
        for name, way in entries:
            yield symbol, way.payway or name, way


def _assets(*sections: PaywayMap) -> dict[str, tuple[str, ...]]:
    found: dict[str, dict[str, None]] = {}
    for section in sections:
        for symbol, name, way in _ways(section):
            code = (symbol or way.symbol).strip().lower()
            if code:
                found.setdefault(code, {})[asset_of(code, name, is_crypto=way.is_crypto)] = None
    return {code: tuple(ids) for code, ids in found.items()}


def _places(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= 18 else None


def _pair(key: str, entry: ExchangePair) -> PairModel | None:
    """The model of one entry, or ``None`` if it cannot be priced."""
    src, dst = entry.currency_from.strip().lower(), entry.currency_to.strip().lower()
    fee_ccy = (entry.currency_fee or "").strip().lower()
    percent = entry.percent_fee if entry.percent_fee is not None else Decimal(0)
    fixed = entry.amount_fee if entry.amount_fee is not None else Decimal(0)
    lo = entry.min_amount if entry.min_amount else None  # 0 / null: no minimum
    hi = entry.max_amount if entry.max_amount else None  # 0 / null: no maximum [?]
    numbers = [entry.exchange_rate, percent, fixed, *(x for x in (lo, hi) if x is not None)]
    if (
        not src or not dst or src == dst
        or not all(x.is_finite() for x in numbers)
        or entry.exchange_rate <= 0 or not 0 <= percent < _HUNDRED or fixed < 0
        or (lo is not None and lo < 0) or (hi is not None and hi < 0)
        or (lo is not None and hi is not None and hi < lo)
        or fee_ccy not in ("", src, dst)  # a third currency: we could not price it
    ):
        return None
    return PairModel(
        key=key, currency_from=src, currency_to=dst, rate=entry.exchange_rate,
        places_from=_places(entry.currency_from_precision),
        places_to=_places(entry.currency_to_precision),
        min=lo, max=hi, percent=percent / _HUNDRED, fixed=fixed,
        fee_side="to" if fee_ccy == dst else "from",  # unnamed: charged on what is paid in [?]
        fee_currency=fee_ccy or src,
    )


def build_payways(data: PaywaysData, fetched_at: float) -> Payways:
    """The model of a decoded ``payways`` answer; unusable exchange entries are skipped."""
    raw = data.exchange.items() if isinstance(data.exchange, dict) else (
        ("", item) for item in data.exchange)
    pairs: dict[str, PairModel] = {}
    skipped = 0
    for key, item in raw:
        try:
            entry = EXCHANGE_PAIR_DECODER.decode(item)
        except msgspec.DecodeError:
            skipped += 1
            continue
        model = _pair(key or f"{entry.currency_from}_{entry.currency_to}", entry)
        if model is None or model.key in pairs:
            skipped += 1
            continue
        pairs[model.key] = model
    return Payways(
        pairs=pairs,
        assets_in=_assets(data.payin, data.exchange_payin),
        assets_out=_assets(data.payout, data.exchange_payout),
        skipped=skipped,
        fetched_at=fetched_at,
    )


class PaywaysCache(TtlCache[Payways]):
    """The ``payways`` model, fetched at most once per ``min_interval`` seconds: a
    :class:`~adapters.cache.TtlCache` of :func:`build_payways` over ``fetch``.

    * Single flight: concurrent callers share one call; a caller's cancellation does not cancel it.
    * Stale-while-revalidate: :meth:`get` waits for a fetch only when it has no usable data;
      otherwise it returns what it has and, when due, refreshes in the background.
    * After a failure the last good model is served until ``max_age`` seconds old; with none,
      the error is raised again without asking FlyPay until ``retry_interval`` (or the
      provider's ``retry_after``) has passed. Failed answers (e.g. a bad signature) are never
      cached: the fetch raises before anything is decoded.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[PaywaysData]],
        *,
        min_interval: float = 60.0,
        retry_interval: float = 30.0,
        max_age: float = 900.0,
        provider: str = NAME,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        persist: Persisted[Payways] | None = None,
    ) -> None:
        super().__init__(self._load, ttl=min_interval, retry=retry_interval, stale=max_age,
                         background=True, clock=clock, persist=persist)
        self._payways = fetch
        self._provider = provider
        self._wall = wall_clock

    async def _load(self) -> Payways:
        return build_payways(await self._payways(), self._wall())
