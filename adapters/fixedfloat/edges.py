"""FixedFloat rates-export items as :class:`router.snapshot.edges.Edge` (pure: no I/O, no clock).

One export item maps onto the linear edge exactly::

    rate     = out / in          already net of the service margin (FixedFloat's ``out`` is what
                                  the client gets per ``in``, before the payout network fee)
    margin   = SERVICE_MARGIN[rate_type]          (for itemising only: it is inside ``rate``)
    fee_out  = tofee, or the payout fee learnt from an earlier ``price`` answer, else 0
    min_in / max_in = minamount / maxamount       (``from`` units)
    max_out  = amount                             (the reserve of ``to``)
    quantum_in / quantum_out = 10**-precision of each side's currency

so ``price_forward`` gives ``floor(amount * out/in - tofee)`` and ``price_backward``
``ceil((amount + tofee) / (out/in))`` at the currencies' precisions: FixedFloat's own arithmetic.
The only difference from multiplying by ``in/out`` is that ``out/in`` is held to 40 significant
digits, which can move a buy-side input by one quantum only when ``in`` is not 1 (the exports
always say 1) and the exact input falls on a quantum boundary.
Two small differences from the pre-edge indicative path, both inside :mod:`router.snapshot.edges`: on the
buy side the reserve is checked before ``minamount``/``maxamount`` (an amount breaking both now
reports the reserve), and an output eaten by the fee with no ``minamount`` stated reports the
smallest input that covers the fee instead of no figure; a ``tofee`` of 0 is no longer itemised.

A market with no export item (the export is unavailable, or does not list the pair) has
``rate=None`` and no limits: FixedFloat publishes nothing for it outside a ``price`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Context, Decimal
from typing import Final

from router.model import Market, RateType
from router.snapshot.edges import Edge

from .constants import SERVICE_MARGIN
from .feeds import Feed, FeedItem

__all__ = ["build_edges", "feed_edge", "market_edge", "quantum", "split_ref", "unpriced_edge"]

_CTX: Final = Context(prec=40)
_ZERO: Final = Decimal(0)
_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in range(19)}


def quantum(places: int) -> Decimal:
    """The smallest step at ``places`` decimals (``8`` → ``1E-8``)."""
    return _QUANTA.get(places) or Decimal(1).scaleb(-places)


def split_ref(market: Market) -> tuple[str, str] | None:
    """FixedFloat's ``(from, to)`` codes of ``market.ref`` (``"BTC/USDTTRC"``), or ``None``."""
    src, sep, dst = market.ref.partition("/")
    return (src, dst) if sep and src and dst else None


def feed_edge(
    market: Market,
    item: FeedItem,
    *,
    places_in: int,
    places_out: int,
    observed_at: float | None,
    payout_fee: Decimal | None = None,
) -> Edge:
    """The edge one export item describes; ``payout_fee`` stands in for a missing ``tofee``."""
    fee = item.tofee if item.tofee is not None else payout_fee
    return Edge(
        market=market,
        rate=_CTX.divide(item.out, item.in_),
        margin=SERVICE_MARGIN[market.rate_type],
        fee_out=fee if fee is not None else _ZERO,
        min_in=item.min,
        max_in=item.max,
        max_out=item.reserve,
        quantum_in=quantum(places_in),
        quantum_out=quantum(places_out),
        observed_at=observed_at,
    )


def unpriced_edge(market: Market, *, places_in: int, places_out: int) -> Edge:
    """A market FixedFloat lists but the export does not price: no rate, no limits."""
    return Edge(market=market, rate=None, quantum_in=quantum(places_in),
                quantum_out=quantum(places_out))


def market_edge(
    market: Market,
    ref: tuple[str, str],
    feed: Feed | None,
    *,
    places_in: int,
    places_out: int,
    payout_fee: Decimal | None = None,
) -> Edge:
    """``market``'s edge (FixedFloat codes ``ref``) from its rate type's export, if any."""
    item = feed.get(*ref) if feed is not None else None
    if feed is None or item is None:
        return unpriced_edge(market, places_in=places_in, places_out=places_out)
    return feed_edge(market, item, places_in=places_in, places_out=places_out,
                     observed_at=feed.fetched_at, payout_fee=payout_fee)


def build_edges(
    markets: Sequence[Market],
    feeds: Mapping[RateType, Feed | None],
    places_of: Callable[[str, str], int],
    payout_fees: Mapping[str, Decimal],
) -> list[Edge]:
    """One edge per market, in the order of ``markets``.

    ``places_of(code, asset_id)`` gives a currency's precision; ``payout_fees`` maps ``to`` codes
    to payout fees learnt from ``price`` answers (used where the export leaves ``tofee`` out).
    """
    places: dict[str, int] = {}

    def precision(code: str, asset: str) -> int:
        known = places.get(code)
        if known is None:
            known = places[code] = places_of(code, asset)
        return known

    edges: list[Edge] = []
    for market in markets:
        ref = split_ref(market)
        if ref is None:  # not built by this adapter (markets() never lists one): no data
            edges.append(Edge(market=market, rate=None))
            continue
        src, dst = ref
        edges.append(market_edge(
            market, ref, feeds.get(market.rate_type),
            places_in=precision(src, market.asset_in), places_out=precision(dst, market.asset_out),
            payout_fee=payout_fees.get(dst)))
    return edges
