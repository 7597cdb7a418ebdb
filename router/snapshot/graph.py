"""Building the asset graph from every source's edges, estimating what no provider prices.

Some providers publish limits but no prices (GatePay's pair list, FaTPay's token list). So that
route search can still consider them, their edges get an *estimated* rate: a reference cross rate
derived from the priced edges (every coin valued in USDT through the feeds, the median of what the
edges touching it say, margins added back) less the provider's all-in margin from the fee model.
Firm quotes then verify the winners. Edges that cannot be estimated stay out of the search.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from decimal import Context, Decimal
from typing import Final

import msgspec

from router.assets import from_id
from router.snapshot.edges import Edge
from router.snapshot.feemodel import FeeModel
from router.search.paths import Graph
from router.steps import STEP_ITEMS, Steps, drive

__all__ = ["Link", "build_graph", "build_graph_steps", "priced_links", "reference_values",
           "values_from_links"]

_CTX: Final = Context(prec=28)
_NUMERAIRE: Final = "USDT"
_ONE: Final = Decimal(1)


Link = tuple[str, str, Decimal]  # (coin in, coin out, mid rate with the margin added back)


def priced_links(edges: Iterable[Edge]) -> list[Link]:
    """The priced (non-estimated) edges of ``edges`` as links between coins, for
    :func:`values_from_links`."""
    out: list[Link] = []
    for e in edges:
        if e.rate is None or e.rate <= 0 or e.estimated:
            continue
        mid = _CTX.divide(e.rate, _ONE - e.margin) if e.margin < _ONE else e.rate
        out.append((from_id(e.market.asset_in).coin, from_id(e.market.asset_out).coin, mid))
    return out


def values_from_links(parts: Iterable[Sequence[Link]],
                      numeraire: str = _NUMERAIRE) -> dict[str, Decimal]:
    """Each coin's value in ``numeraire`` units (see :func:`reference_values`), from links."""
    near: dict[str, list[tuple[str, Decimal, bool]]] = {}
    for links in parts:
        for cin, cout, mid in links:
            near.setdefault(cin, []).append((cout, mid, True))
            near.setdefault(cout, []).append((cin, mid, False))
    values: dict[str, Decimal] = {numeraire: _ONE}
    frontier = [numeraire]
    while frontier:
        # every link between a coin valued at the last step and an unvalued one proposes a value
        # (coins valued earlier have no unvalued neighbours left); the median proposal is taken
        proposals: dict[str, list[Decimal]] = {}
        for coin in frontier:
            value = values[coin]
            for other, mid, forward in near.get(coin, ()):
                if other in values:
                    continue
                proposals.setdefault(other, []).append(
                    _CTX.divide(value, mid) if forward else _CTX.multiply(value, mid))
        for coin, props in proposals.items():
            values[coin] = statistics.median(props)
        frontier = list(proposals)
    return values


def reference_values(edges: Sequence[Edge], numeraire: str = _NUMERAIRE) -> dict[str, Decimal]:
    """Each coin's value in ``numeraire`` units, from the priced (non-estimated) edges.

    Breadth-first from the numeraire: at each step every edge between a valued and an unvalued coin
    proposes a value for the latter (its rate with the provider's margin added back); the median
    proposal is taken, so one odd provider does not skew the reference.
    """
    return values_from_links([priced_links(edges)], numeraire)


def _estimate(edge: Edge, values: dict[str, Decimal], margin: Decimal) -> Edge | None:
    cin, cout = from_id(edge.market.asset_in).coin, from_id(edge.market.asset_out).coin
    if cin not in values or cout not in values:
        return None
    rate = _CTX.multiply(_CTX.divide(values[cin], values[cout]), _ONE - margin)
    return msgspec.structs.replace(edge, rate=rate, margin=margin, estimated=True)


def build_graph(edge_lists: Sequence[Sequence[Edge]], model: FeeModel,
                links: Sequence[Sequence[Link]] | None = None) -> Graph:
    """One :class:`Graph` over every source's edges; unpriced edges estimated where possible.
    ``links``: each list's :func:`priced_links`, when the caller has them already."""
    return drive(build_graph_steps(edge_lists, model, links))


def build_graph_steps(edge_lists: Sequence[Sequence[Edge]], model: FeeModel,
                      links: Sequence[Sequence[Link]] | None = None) -> Steps[Graph]:
    """:func:`build_graph` in steps (it yields between pieces of work)."""
    edges = [e for lst in edge_lists for e in lst]
    values = values_from_links(links if links is not None
                               else [priced_links(lst) for lst in edge_lists])
    yield
    usable: list[Edge] = []
    unpriced: list[Edge] = []
    for i, e in enumerate(edges):
        if i % STEP_ITEMS == STEP_ITEMS - 1:
            yield
        if e.rate is not None:
            usable.append(e)
            continue
        margin = model.terms(e.market.provider).margin
        estimated = _estimate(e, values, margin) if margin is not None else None
        if estimated is not None:
            usable.append(estimated)
        else:
            unpriced.append(e)
    yield
    graph = Graph(usable, transfer_fees=dict(model.transfer), payout_excluded=model.payout_excluded)
    graph.unpriced = unpriced
    graph.values = values
    return graph
