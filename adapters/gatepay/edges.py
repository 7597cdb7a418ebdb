"""GatePay's markets as :class:`router.snapshot.edges.Edge`: limits only, no prices.

The pair lists carry per-side limits but no rate, so every edge is unpriced (``rate=None``; the
router estimates one and marks it ``estimated``):

* ``min_in`` / ``max_in``: the pair's sell-currency limits (``asset_in`` units);
* ``max_out``: the buy-currency maximum (``asset_out`` units), GatePay's cap on what is received;
* ``quantum_in`` / ``quantum_out``: each coin's precision, at most 8 places (what GatePay accepts,
  see :func:`~.quotes.places`);
* ``observed_at``: when the lists were read.

The edge has no field for the buy-currency *minimum*; :func:`check_edge` checks it beside the
edge's own limits, so ``indicative()`` refuses exactly what it refused before edges existed.
:func:`build_views` makes the markets and the edges from one catalog in one step, so every edge
holds the very :class:`Market` object that ``markets()`` returns.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from router.errors import AmountOutOfRange
from router.model import Market, Side
from router.snapshot.edges import Edge, check_limits

from .feeds import Catalog, PairLimits
from .quotes import places

__all__ = ["Views", "build_views", "check_edge", "pair_edge", "quantum"]


def quantum(asset_id: str) -> Decimal:
    """The smallest step GatePay takes in ``asset_id``: ``1e-8`` for 8 places, ``0.01`` for 2."""
    return Decimal(1).scaleb(-places(asset_id))


def pair_edge(market: Market, pair: PairLimits, *, observed_at: float) -> Edge:
    """The unpriced edge of one listed direction."""
    return Edge(
        market=market,
        rate=None,
        min_in=pair.sell_min,
        max_in=pair.sell_max,
        max_out=pair.buy_max,
        quantum_in=quantum(market.asset_in),
        quantum_out=quantum(market.asset_out),
        observed_at=observed_at,
    )


class Views(msgspec.Struct, frozen=True):
    """What one catalog gives the router: its markets, their edges, and each edge by codes."""

    catalog: Catalog
    markets: list[Market]
    edges: tuple[Edge, ...]
    by_codes: dict[tuple[str, str], Edge]


def build_views(provider: str, catalog: Catalog) -> Views:
    """One :class:`Market` and one :class:`Edge` per direction of ``catalog``."""
    markets: list[Market] = []
    by_codes: dict[tuple[str, str], Edge] = {}
    for codes, pair in catalog.pairs.items():
        market = Market(provider, pair.asset_in, pair.asset_out, "fixed", pair.ref)
        markets.append(market)
        by_codes[codes] = pair_edge(market, pair, observed_at=catalog.fetched_at)
    return Views(catalog, markets, tuple(by_codes.values()), by_codes)


def check_edge(edge: Edge, pair: PairLimits, amount: Decimal, side: Side) -> None:
    """Raise :class:`AmountOutOfRange` with GatePay's figure if ``amount`` is outside the limits.

    The edge checks the sell side's min/max and the buy side's max (``max_out``); the buy side's
    minimum, which an edge cannot hold, is checked here from the pair.
    """
    check_limits(edge, amount, side)
    if side == "buy" and pair.buy_min is not None and amount < pair.buy_min:
        raise AmountOutOfRange(edge.provider, f"{pair.ref}: buy minimum {pair.buy_min} "
                               f"{pair.asset_out}", below_min=True, limit=pair.buy_min,
                               asset=pair.asset_out)
