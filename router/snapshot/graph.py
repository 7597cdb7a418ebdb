"""Building the asset graph from every source's edges, estimating what no provider prices.

Some providers publish limits but no prices (GatePay's pair list, FaTPay's token list). So that
route search can still consider them, their edges get an *estimated* rate: a reference cross rate
derived from the priced edges (every coin valued in USDT through the feeds, the median of what the
edges touching it say, margins added back) less the provider's all-in margin from the fee model.
Firm quotes then verify the winners. Edges that cannot be estimated stay out of the search.
"""

from __future__ import annotations

import copy
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Final

import msgspec

from router.assets import Asset, from_id
from router.snapshot.edges import Edge
from router.snapshot.feemodel import FeeModel
from router.steps import STEP_ITEMS, Steps, drive

__all__ = ["Graph", "Link", "build_graph", "build_graph_steps", "compatible", "estimated_edge",
           "priced_links", "reference_values", "values_from_links"]

_CTX: Final = Context(prec=28)
_NUMERAIRE: Final = "USDT"
_ONE: Final = Decimal(1)


Link = tuple[str, str, Decimal]  # (coin in, coin out, mid rate with the margin added back)
_ZERO: Final = Decimal(0)


def compatible(a: Asset, b: Asset) -> bool:
    """Can funds held as ``a`` be used where ``b`` is expected (same coin, networks agree)?"""
    return a.coin == b.coin and (a.network is None or b.network is None or a.network == b.network)


@dataclass
class Graph:
    """Edges indexed by the coin they take in and the coin they give out.

    ``transfer_fees`` maps an asset id to the withdrawal fee charged when a provider whose quotes
    leave the payout fee to the user (``payout_excluded``: account-based providers) sends it on,
    to another provider or to the user's wallet.
    """

    edges: list[Edge]
    transfer_fees: dict[str, Decimal] = field(default_factory=dict)
    payout_excluded: frozenset[str] = frozenset()
    unpriced: list[Edge] = field(default_factory=list)  # left out of the search: no price, no estimate
    values: dict[str, Decimal] = field(default_factory=dict)  # reference value per coin (USDT)
    by_in: dict[str, list[tuple[Edge, Asset, Asset]]] = field(init=False)
    by_out: dict[str, list[tuple[Edge, Asset, Asset]]] = field(init=False)
    by_pair: dict[tuple[str, str], list[tuple[Edge, Asset, Asset]]] = field(init=False)
    best_rate: dict[tuple[str, str], Decimal] = field(init=False)  # an upper bound per coin pair

    def __post_init__(self) -> None:
        self._payouts: dict[tuple[str, Asset, Asset], tuple[Decimal, str]] = {}
        self._skeletons: dict[tuple[str, int, bool], frozenset[str]] = {}
        self._pair_first: dict[tuple[str, str, bool], list[tuple[Edge, Asset, Asset]]] = {}
        self.by_in, self.by_out, self.by_pair = {}, {}, {}
        for e in self.edges:
            a_in, a_out = from_id(e.market.asset_in), from_id(e.market.asset_out)
            entry = (e, a_in, a_out)
            self.by_in.setdefault(a_in.coin, []).append(entry)
            self.by_out.setdefault(a_out.coin, []).append(entry)
            self.by_pair.setdefault((a_in.coin, a_out.coin), []).append(entry)
        self.best_rate = {pair: max(e.rate for e, _, _ in entries if e.rate is not None)
                          for pair, entries in self.by_pair.items()
                          if any(e.rate is not None for e, _, _ in entries)}

    def replacing(self, swaps: Sequence[tuple[Edge, Edge]]) -> Graph:
        """A new graph with each ``(old, new)`` edge of ``swaps`` in place of ``old`` (an edge of
        this graph, by identity; ``new`` is for the same market), in the same positions, so it
        equals the graph a full build over the new edges gives. Indexes no swap touches are
        shared with this graph (it is never changed: a request holding it keeps its answer)."""
        g = copy.copy(self)
        g.by_in, g.by_out, g.by_pair = dict(self.by_in), dict(self.by_out), dict(self.by_pair)
        g.best_rate = dict(self.best_rate)
        g._pair_first = {}
        new_of = {id(old): new for old, new in swaps}
        g.edges = [new_of.get(id(e), e) for e in self.edges]
        copied: set[int] = set()
        for old, new in swaps:
            a_in, a_out = from_id(old.market.asset_in), from_id(old.market.asset_out)
            pair = (a_in.coin, a_out.coin)
            for index, key in ((g.by_in, a_in.coin), (g.by_out, a_out.coin), (g.by_pair, pair)):
                entries = index[key]  # type: ignore[index]
                if id(entries) not in copied:
                    entries = index[key] = list(entries)  # type: ignore[index]
                    copied.add(id(entries))
                for i, (e, _, _) in enumerate(entries):
                    if e is old:
                        entries[i] = (new, a_in, a_out)
                        break
            rates = [e.rate for e, _, _ in g.by_pair[pair] if e.rate is not None]
            if rates:
                g.best_rate[pair] = max(rates)
            else:
                g.best_rate.pop(pair, None)
        return g

    def pair_first(self, coin_in: str, coin_out: str, forward: bool) -> list[tuple[Edge, Asset, Asset]]:
        """Every edge out of ``coin_in`` (``forward``) or into ``coin_out``, those of the pair
        ``coin_in -> coin_out`` first (built once per graph and pair): the search prices a pair's
        direct legs before the others, which they bound."""
        key = (coin_in, coin_out, forward)
        hit = self._pair_first.get(key)
        if hit is None:
            pair = self.by_pair.get((coin_in, coin_out), [])
            if forward:
                rest = [x for x in self.by_in.get(coin_in, ()) if x[2].coin != coin_out]
            else:
                rest = [x for x in self.by_out.get(coin_out, ()) if x[1].coin != coin_in]
            hit = self._pair_first[key] = pair + rest
        return hit

    def reaching(self, coin: str, hops: int) -> frozenset[str]:
        """The coins from which some path of at most ``hops`` edges leads to ``coin`` (the
        skeleton of every route into it; built once per graph and coin)."""
        return self._skeleton(coin, hops, self.by_out, forward=False)

    def reached(self, coin: str, hops: int) -> frozenset[str]:
        """The coins some path of at most ``hops`` edges leads to from ``coin``."""
        return self._skeleton(coin, hops, self.by_in, forward=True)

    def _skeleton(self, coin: str, hops: int,
                  index: dict[str, list[tuple[Edge, Asset, Asset]]], forward: bool) -> frozenset[str]:
        key = (coin, hops, forward)
        hit = self._skeletons.get(key)
        if hit is not None:
            return hit
        seen = {coin}
        frontier = {coin}
        for _ in range(hops):
            step = {(a_out if forward else a_in).coin
                    for c in frontier for _, a_in, a_out in index.get(c, ())}
            frontier = step - seen
            seen |= step
        out = self._skeletons[key] = frozenset(seen)
        return out

    def transfer_fee(self, src_provider: str, dst_provider: str, held: Asset, wanted: Asset) -> Decimal:
        """Fee to move ``held`` from ``src_provider`` to ``dst_provider`` that expects ``wanted``."""
        if src_provider == dst_provider or src_provider not in self.payout_excluded:
            return _ZERO
        net = wanted.network or held.network
        key = Asset.of(held.coin, net).id
        return self.transfer_fees.get(key, self.transfer_fees.get(held.coin, _ZERO))

    def payout_fee(self, provider: str, out: Asset, wanted: Asset) -> tuple[Decimal, str]:
        """Fee (and the asset id it is paid in) to deliver ``out`` from ``provider`` to the user's
        wallet as ``wanted``: zero where the provider's quotes include the payout; otherwise the
        withdrawal fee of the network named, or of the coin's home (or cheapest) network."""
        if provider not in self.payout_excluded:
            return _ZERO, out.id
        key = (provider, out, wanted)
        hit = self._payouts.get(key)
        if hit is None:
            hit = self._payouts[key] = self._payout_fee(out, wanted)
        return hit

    def _payout_fee(self, out: Asset, wanted: Asset) -> tuple[Decimal, str]:
        net = out.network or wanted.network
        if net is not None:
            key = Asset.of(out.coin, net).id
            return self.transfer_fees.get(key, _ZERO), key
        if out.coin in self.transfer_fees:
            return self.transfer_fees[out.coin], out.coin
        options = [(fee, key) for key, fee in self.transfer_fees.items()
                   if key.partition("@")[0] == out.coin]
        return min(options) if options else (_ZERO, out.id)


def priced_links(edges: Iterable[Edge]) -> list[Link]:
    """The edges of ``edges`` priced from bulk data (neither estimated nor learnt) as links
    between coins, for :func:`values_from_links`."""
    out: list[Link] = []
    for e in edges:
        if e.rate is None or e.rate <= 0 or e.estimated or e.learnt:
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
    """Each coin's value in ``numeraire`` units, from the edges priced from bulk data.

    Breadth-first from the numeraire: at each step every edge between a valued and an unvalued coin
    proposes a value for the latter (its rate with the provider's margin added back); the median
    proposal is taken, so one odd provider does not skew the reference.
    """
    return values_from_links([priced_links(edges)], numeraire)


def estimated_edge(edge: Edge, values: Mapping[str, Decimal], margin: Decimal) -> Edge | None:
    """``edge`` (unpriced) at the reference cross rate less ``margin``; ``None`` when a coin has
    no reference value."""
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
        estimated = estimated_edge(e, values, margin) if margin is not None else None
        if estimated is not None:
            usable.append(estimated)
        else:
            unpriced.append(e)
    yield
    graph = Graph(usable, transfer_fees=dict(model.transfer), payout_excluded=model.payout_excluded)
    graph.unpriced = unpriced
    graph.values = values
    return graph
