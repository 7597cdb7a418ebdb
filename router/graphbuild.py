"""Building the asset graph from every source's edges, estimating what no provider prices.

Some providers publish limits but no prices (GatePay's pair list, FaTPay's token list). So that
route search can still consider them, their edges get an *estimated* rate: a reference cross rate
derived from the priced edges (every coin valued in USDT through the feeds, the median of what the
edges touching it say, margins added back) less the provider's all-in margin from the fee model.
Firm quotes then verify the winners. Edges that cannot be estimated stay out of the search.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from decimal import Context, Decimal
from typing import Final

import msgspec

from .assets import from_id
from .edges import Edge
from .feemodel import FeeModel
from .search import Graph

__all__ = ["build_graph", "reference_values"]

_CTX: Final = Context(prec=28)
_NUMERAIRE: Final = "USDT"
_ONE: Final = Decimal(1)


def reference_values(edges: Sequence[Edge], numeraire: str = _NUMERAIRE) -> dict[str, Decimal]:
    """Each coin's value in ``numeraire`` units, from the priced (non-estimated) edges.

    Breadth-first from the numeraire: at each step every edge between a valued and an unvalued coin
    proposes a value for the latter (its rate with the provider's margin added back); the median
    proposal is taken, so one odd provider does not skew the reference.
    """
    values: dict[str, Decimal] = {numeraire: _ONE}
    priced = [(from_id(e.market.asset_in).coin, from_id(e.market.asset_out).coin, e)
              for e in edges if e.rate is not None and e.rate > 0 and not e.estimated]
    while True:
        proposals: dict[str, list[Decimal]] = {}
        for cin, cout, e in priced:
            assert e.rate is not None
            mid = _CTX.divide(e.rate, _ONE - e.margin) if e.margin < _ONE else e.rate
            if cin in values and cout not in values:
                proposals.setdefault(cout, []).append(_CTX.divide(values[cin], mid))
            elif cout in values and cin not in values:
                proposals.setdefault(cin, []).append(_CTX.multiply(values[cout], mid))
        if not proposals:
            return values
        for coin, props in proposals.items():
            values[coin] = statistics.median(props)


def _estimate(edge: Edge, values: dict[str, Decimal], margin: Decimal) -> Edge | None:
    cin, cout = from_id(edge.market.asset_in).coin, from_id(edge.market.asset_out).coin
    if cin not in values or cout not in values:
        return None
    rate = _CTX.multiply(_CTX.divide(values[cin], values[cout]), _ONE - margin)
    return msgspec.structs.replace(edge, rate=rate, margin=margin, estimated=True)


def build_graph(edge_lists: Sequence[Sequence[Edge]], model: FeeModel) -> Graph:
    """One :class:`Graph` over every source's edges; unpriced edges estimated where possible."""
    edges = [e for lst in edge_lists for e in lst]
    values = reference_values(edges)
    usable: list[Edge] = []
    unpriced: list[Edge] = []
    for e in edges:
        if e.rate is not None:
            usable.append(e)
            continue
        margin = model.terms(e.market.provider).margin
        estimated = _estimate(e, values, margin) if margin is not None else None
        if estimated is not None:
            usable.append(estimated)
        else:
            unpriced.append(e)
    graph = Graph(usable, transfer_fees=dict(model.transfer), payout_excluded=model.payout_excluded)
    graph.unpriced = unpriced
    graph.values = values
    return graph
