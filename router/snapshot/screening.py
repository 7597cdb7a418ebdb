"""Response validation: every quote and edge a source returns is checked before it is used.

A provider can answer with a well-formed lie: a negative fee, a quote for another amount, a rate
no market could offer, a quote that has already expired. Decoding cannot see that; this module
does. What fails is never ranked: a quote raises :class:`ImplausibleQuote` (a
:class:`~router.errors.MalformedResponse`, reason ``provider_error``, the detail says why, and
the circuit breaker counts it as a failure); an edge is left out of the graph
(:func:`screen_edges`) and reported when a request touches its market.

Checks on a quote for ``amount`` of ``market`` (:func:`check_quote`):

* it is for that market: same provider, assets and rate type;
* ``amount_in`` and ``amount_out`` are finite and positive; sell side: ``amount_in`` is the
  amount asked for, within the provider's precision (the market's quantum, else 1e-8) and a
  relative 1e-6; buy side: ``amount_out`` is at least the amount asked for, within the same;
* fees are finite, non-negative and paid in one of the leg's two coins;
* ``expires_at``, if set, is in the future;
* against the reference mid the graph knows for the two coins (:attr:`Graph.values
  <router.snapshot.graph.Graph.values>`): the rate net of every fee is no more than ``max_gain`` (50 %)
  better (nobody sells money at a loss like that), and the rate with the quote's own fees added
  back is no worse than ``min_ratio`` (1/20) of the mid (a unit or decimal-point error).

Edges (:func:`check_edge`) get the structural checks (finite positive rate, margin in [0, 1),
non-negative fees and limits, ``min_in <= max_in``, positive quanta) and the same band on their
rate, against a reference computed without them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from router.assets import from_id
from router.errors import MalformedResponse
from router.model import Market, Quote, QuoteRequest, Side, Unavailable
from router.snapshot.edges import Edge
from router.snapshot.feemodel import FeeModel
from router.snapshot.graph import (
    Graph,
    Link,
    build_graph_steps,
    estimated_edge,
    priced_links,
    values_from_links,
)
from router.steps import STEP_ITEMS, Steps, drive

__all__ = ["ImplausibleQuote", "Plausibility", "ScreenCache", "Screened", "check_edge",
           "check_quote", "reference_rate", "rejected_entries", "screen_edges", "screen_lists",
           "screen_steps"]

_ZERO: Final = Decimal(0)
_DEFAULT_QUANTUM: Final = Decimal("1e-8")


class ImplausibleQuote(MalformedResponse):
    """A well-formed answer that cannot be true (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Plausibility:
    """How far from the reference mid an answer may be: ``max_gain`` better (net of fees) or
    ``min_ratio`` of it (fees added back); ``amount_slack``: relative slack on the amounts."""

    max_gain: Decimal = Decimal("0.5")
    min_ratio: Decimal = Decimal("0.05")
    amount_slack: Decimal = Decimal("1e-6")


DEFAULT: Final = Plausibility()


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _coin(asset: str) -> str:
    return asset.partition("@")[0]


def reference_rate(values: Mapping[str, Decimal], asset_in: str, asset_out: str) -> Decimal | None:
    """The reference mid (units of ``asset_out`` per ``asset_in``) from coin values, if known."""
    try:
        a, b = values.get(from_id(asset_in).coin), values.get(from_id(asset_out).coin)
    except ValueError:
        return None
    if a is None or b is None or not a > 0 or not b > 0:
        return None
    return a / b


def _band(rate: Decimal, gross: Decimal, ref: Decimal | None, policy: Plausibility) -> str | None:
    if ref is None:
        return None
    if rate > ref * (1 + policy.max_gain):
        return (f"rate {rate:.6g} is {(rate / ref - 1) * 100:.0f}% better than the reference "
                f"mid {ref:.6g}")
    if gross < ref * policy.min_ratio:
        return f"rate {gross:.6g} is off the reference mid {ref:.6g} by a factor {ref / gross:.3g}"
    return None


def check_quote(q: Quote, market: Market, amount: Decimal, side: Side, *,
                reference: Decimal | None = None, quantum_in: Decimal | None = None,
                quantum_out: Decimal | None = None, now: float | None = None,
                policy: Plausibility = DEFAULT) -> None:
    """Raise :class:`ImplausibleQuote` unless ``q`` is a believable answer for ``amount`` of
    ``market`` on ``side`` (see the module docstring)."""
    problem = _quote_problem(q, market, amount, side, reference, quantum_in, quantum_out,
                             time.time() if now is None else now, policy)
    if problem is not None:
        raise ImplausibleQuote(market.provider, f"{market.asset_in}->{market.asset_out} "
                               f"{market.rate_type}: {problem}")


def _quote_problem(q: Quote, market: Market, amount: Decimal, side: Side, ref: Decimal | None,
                   quantum_in: Decimal | None, quantum_out: Decimal | None, now: float,
                   policy: Plausibility) -> str | None:
    if not isinstance(q, Quote):
        return f"answer is a {type(q).__name__}, not a quote"
    if (q.provider, q.asset_in, q.asset_out, q.rate_type) != (
            market.provider, market.asset_in, market.asset_out, market.rate_type):
        return (f"answer is for {q.provider} {q.asset_in}->{q.asset_out} {q.rate_type}, "
                "not the market asked")
    if not (_finite(q.amount_in) and _finite(q.amount_out)):
        return "an amount is not a finite number"
    if q.amount_in <= 0 or q.amount_out <= 0:
        return f"amounts must be positive (in {q.amount_in}, out {q.amount_out})"
    if side == "sell":
        slack = max(quantum_in or _DEFAULT_QUANTUM, amount * policy.amount_slack)
        if abs(q.amount_in - amount) > slack:
            return f"quoted {q.amount_in} in, asked for {amount}"
    else:
        slack = max(quantum_out or _DEFAULT_QUANTUM, amount * policy.amount_slack)
        if q.amount_out < amount - slack:
            return f"quoted {q.amount_out} out, asked for {amount}"
    coins = (_coin(q.asset_in), _coin(q.asset_out))
    fee_in = fee_out = _ZERO
    for fee in q.fees:
        if not _finite(fee.amount) or fee.amount < 0:
            return f"{fee.kind} fee {fee.amount} is not a non-negative number"
        coin = _coin(fee.asset)
        if coin not in coins:
            return f"{fee.kind} fee in {fee.asset}, not in the leg's assets"
        if coin == coins[1]:
            fee_out += fee.amount
        else:
            fee_in += fee.amount
    if q.expires_at is not None:
        if not isinstance(q.expires_at, (int, float)) or not math.isfinite(q.expires_at):
            return "expires_at is not a time"
        if q.expires_at <= now:
            return f"quote expired {now - q.expires_at:.1f}s ago"
    rate = q.amount_out / q.amount_in
    gross_in = q.amount_in - fee_in if coins[0] != coins[1] else q.amount_in
    gross = (q.amount_out + fee_out) / gross_in if gross_in > 0 else rate
    return _band(rate, gross, ref, policy)


def check_edge(e: Edge, reference: Decimal | None = None,
               policy: Plausibility = DEFAULT) -> str | None:
    """Why ``e`` cannot be used (``None``: it can)."""
    if e.rate is not None and (not _finite(e.rate) or e.rate <= 0):
        return f"rate {e.rate} is not a positive number"
    if not _finite(e.margin) or not _ZERO <= e.margin < 1:
        return f"margin {e.margin} is not in [0, 1)"
    for name in ("fee_in", "fee_out"):
        value = getattr(e, name)
        if not _finite(value) or value < 0:
            return f"{name} {value} is not a non-negative number"
    for name in ("min_in", "max_in", "max_out"):
        value = getattr(e, name)
        if value is not None and (not _finite(value) or value < 0):
            return f"{name} {value} is not a non-negative number"
    if e.min_in is not None and e.max_in is not None and e.min_in > e.max_in:
        return f"min_in {e.min_in} is above max_in {e.max_in}"
    for name in ("quantum_in", "quantum_out"):
        value = getattr(e, name)
        if not _finite(value) or value <= 0:
            return f"{name} {value} is not a positive number"
    if e.rate is not None and not e.estimated:
        return _band(e.rate, e.rate, reference, policy)
    return None


def screen_edges(edges: Iterable[Edge], values: Mapping[str, Decimal] | None = None,
                 policy: Plausibility = DEFAULT) -> tuple[list[Edge], list[tuple[Edge, str]]]:
    """Split ``edges`` into those fit to use and ``(edge, why)`` for the others; with ``values``
    the rate band is checked too."""
    return drive(_screen_edge_steps(edges, values, policy))


def _screen_edge_steps(edges: Iterable[Edge], values: Mapping[str, Decimal] | None,
                       policy: Plausibility) -> Steps[tuple[list[Edge], list[tuple[Edge, str]]]]:
    kept: list[Edge] = []
    dropped: list[tuple[Edge, str]] = []
    for i, e in enumerate(edges):
        if i % STEP_ITEMS == STEP_ITEMS - 1:
            yield
        ref = None
        if values is not None and e.rate is not None and not e.estimated:
            ref = reference_rate(values, e.market.asset_in, e.market.asset_out)
        why = check_edge(e, ref, policy)
        if why is None:
            kept.append(e)
        else:
            dropped.append((e, why))
    return kept, dropped


def quanta(edges: Sequence[Edge]) -> dict[Market, tuple[Decimal, Decimal]]:
    """Each market's ``(quantum_in, quantum_out)``: the precision its provider works in."""
    return {e.market: (e.quantum_in, e.quantum_out) for e in edges}


@dataclass(frozen=True, slots=True)
class Screened:
    """The graph over every source's edges that passed :func:`check_edge`, and those that did
    not (``(edge, why)``)."""

    graph: Graph
    rejected: tuple[tuple[Edge, str], ...]
    quanta: dict[Market, tuple[Decimal, Decimal]]


class ScreenCache:
    """What :func:`screen_lists` worked out per source, reused while the inputs are the same
    objects: the structural checks of a source's edges until that source publishes a new list,
    and the rate band of its edges until it or another source does. A source that re-publishes
    (new bulk data, or a price it learnt) costs its own checks, not everyone's."""

    def __init__(self) -> None:
        self.structural: dict[str, tuple[Sequence[Edge], list[Edge], list[tuple[Edge, str]]]] = {}
        self.band: dict[str, tuple[tuple[list[Edge], tuple[tuple[str, list[Link]], ...]],
                                   list[Edge], list[tuple[Edge, str]]]] = {}
        self.links: dict[int, tuple[list[Edge], list[Link]]] = {}  # by id of a checked list
        self.band_values: dict[str, dict[str, Decimal]] = {}  # the reference each band used
        self.last: _Last | None = None  # the lists of the last snapshot, and what came of them
        self.built = 0  # snapshots screened in full
        self.patched = 0  # ... and patched from the one before (see _patch_steps)

    def links_of(self, edges: list[Edge]) -> list[Link]:
        """:func:`~router.snapshot.graph.priced_links` of ``edges``, kept while it is the same list."""
        hit = self.links.get(id(edges))
        if hit is not None and hit[0] is edges:
            return hit[1]
        links = priced_links(edges)
        self.links[id(edges)] = (edges, links)
        return links

    def forget_unused(self, keep: Iterable[list[Edge]]) -> None:
        alive = {id(lst) for lst in keep}
        for key in [k for k in self.links if k not in alive]:
            del self.links[key]


def _structural(name: str, lst: Sequence[Edge], policy: Plausibility,
                cache: ScreenCache) -> Steps[tuple[list[Edge], list[tuple[Edge, str]]]]:
    hit = cache.structural.get(name)
    if hit is not None and hit[0] is lst:
        return hit[1], hit[2]
    kept, bad = yield from _screen_edge_steps(lst, None, policy)
    cache.structural[name] = (lst, kept, bad)
    return kept, bad


def _band_problem(e: Edge, values: Mapping[str, Decimal], policy: Plausibility) -> str | None:
    """Why ``e``'s rate is outside the band of the reference ``values`` (``None``: it is not, or
    it has no price of its own to judge)."""
    if e.rate is None or e.estimated:
        return None
    ref = reference_rate(values, e.market.asset_in, e.market.asset_out)
    return None if ref is None else _band(e.rate, e.rate, ref, policy)


def _banded(name: str, clean: Mapping[str, list[Edge]], policy: Plausibility,
            cache: ScreenCache) -> Steps[tuple[list[Edge], list[tuple[Edge, str]]]]:
    """``name``'s edges whose rate sits within the band of the *other* sources' reference."""
    own = clean[name]
    # the reference depends on the other sources' prices only: a source that re-publishes with
    # the same prices (new limits, a learnt fee) does not cost anyone else's band check
    others = tuple((n, cache.links_of(lst)) for n, lst in clean.items() if n != name)
    hit = cache.band.get(name)
    if hit is not None and hit[0][0] is own and hit[0][1] == others:
        return hit[1], hit[2]
    values = values_from_links(links for _, links in others)
    cache.band_values[name] = values
    yield
    kept: list[Edge] = []
    bad: list[tuple[Edge, str]] = []
    for i, e in enumerate(clean[name]):
        if i % STEP_ITEMS == STEP_ITEMS - 1:
            yield
        why = _band_problem(e, values, policy)
        if why is None:
            kept.append(e)
        else:
            bad.append((e, why))
    cache.band[name] = ((own, others), kept, bad)
    return kept, bad


def screen_lists(lists: Mapping[str, Sequence[Edge]], fees: FeeModel,
                 policy: Plausibility = DEFAULT, cache: ScreenCache | None = None) -> Screened:
    """Check every edge and build the graph from the good ones. The rate band of a provider's
    edges is checked against the reference mids of the *other* providers' edges, so one
    provider's lie cannot move the reference it is judged by. With a ``cache``, only what
    changed since the last call is checked again."""
    return drive(screen_steps(lists, fees, policy, cache))


def screen_steps(lists: Mapping[str, Sequence[Edge]], fees: FeeModel,
                 policy: Plausibility = DEFAULT, cache: ScreenCache | None = None
                 ) -> Steps[Screened]:
    """:func:`screen_lists` in steps: it yields between pieces of work of a few hundred edges,
    so a caller on the event loop can let other tasks run (:func:`drive_async`)."""
    cache = cache if cache is not None else ScreenCache()
    patched = yield from _patch_steps(lists, fees, policy, cache)
    if patched is not None:
        cache.patched += 1
        return patched
    cache.built += 1
    clean: dict[str, list[Edge]] = {}
    rejected: list[tuple[Edge, str]] = []
    for name, lst in lists.items():
        clean[name], bad = yield from _structural(name, lst, policy, cache)
        rejected += bad
    if len(clean) > 1:
        # one source after the other, each judged against the others as cleaned so far (a
        # source's rejected lies no longer count in the reference the next one is judged by)
        for name in list(clean):
            if not any(e.rate is not None and not e.estimated for e in clean[name]):
                continue
            clean[name], bad = yield from _banded(name, clean, policy, cache)
            rejected += bad
    links = [cache.links_of(lst) for lst in clean.values()]
    yield
    graph = yield from build_graph_steps(list(clean.values()), fees, links)
    cache.forget_unused([*clean.values(), *(hit[1] for hit in cache.structural.values())])
    edges = [e for lst in clean.values() for e in lst]
    screened = Screened(graph, tuple(rejected), quanta(edges))
    cache.last = _Last(dict(lists), clean, screened)
    return screened


@dataclass(frozen=True, slots=True)
class _Last:
    """The lists the last snapshot was screened from, each source's edges that passed, and the
    snapshot."""

    lists: dict[str, Sequence[Edge]]
    clean: dict[str, list[Edge]]
    screened: Screened


#: Changed edges a snapshot is patched for at most; more, and it is built again in full.
PATCH_MAX: Final = 256


def _patch_steps(lists: Mapping[str, Sequence[Edge]], fees: FeeModel, policy: Plausibility,
                 cache: ScreenCache) -> Steps[Screened | None]:
    """The snapshot for ``lists`` made from the last one by swapping the edges that changed, or
    ``None`` when that cannot give exactly what a full build would.

    A source re-publishes most often for what it learnt from firm answers: a payout fee, a
    precision, a learnt price (``Edge.learnt``), each touching a few edges and none of the
    reference mids. So when every changed list holds the same markets in the same order, no
    changed edge was or is rejected, and the changed edges' reference links are the same (the
    mids, and so every other edge's band and estimate, cannot move), each changed edge is
    checked alone (its structure, and its band against the reference its source was judged by),
    estimated if unpriced, and swapped into a copy of the graph (:meth:`Graph.replacing`). Any
    other change (a new market, a moved price, a rejection) takes the full build."""
    last = cache.last
    if last is None or list(lists) != list(last.lists):
        return None
    graph = last.screened.graph
    rejected = {id(e) for e, _ in last.screened.rejected}
    changes: list[tuple[str, Edge, Edge]] = []
    for name, lst in lists.items():
        old_list = last.lists[name]
        if lst is old_list:
            continue
        if len(lst) != len(old_list):
            return None
        for i, (a, b) in enumerate(zip(old_list, lst)):
            if i % STEP_ITEMS == STEP_ITEMS - 1:
                yield
            if a is b or a == b:
                continue
            if a.market != b.market or id(a) in rejected or len(changes) == PATCH_MAX:
                return None
            changes.append((name, a, b))
    yield
    usable_of: dict[Market, Edge] = {}
    for _name, _a, b in changes:
        if b.market not in usable_of:  # the graph's version of each changed market
            usable_of.update((e.market, e) for e, _, _ in graph.by_pair.get(
                (from_id(b.market.asset_in).coin, from_id(b.market.asset_out).coin), ()))
    swaps: list[tuple[Edge, Edge]] = []
    unpriced = graph.unpriced
    for name, a, b in changes:
        if priced_links([a]) != priced_links([b]) or check_edge(b, None, policy) is not None:
            return None
        if b.rate is not None and not b.estimated and len(lists) > 1:
            values = cache.band_values.get(name)
            banded = cache.band.get(name)
            if values is None or banded is None or banded[0][0] is not cache.structural[name][1]:
                return None  # this source's band was not checked last time
            if _band_problem(b, values, policy) is not None:
                return None
        old = usable_of.get(a.market)
        if b.rate is None:
            margin = fees.terms(b.market.provider).margin
            new = estimated_edge(b, graph.values, margin) if margin is not None else None
        else:
            new = b
        if old is None or new is None:  # unpriced before or after
            if old is not None or new is not None:
                return None
            unpriced = [b if e is a else e for e in unpriced]
            continue
        swaps.append((old, new))
    yield
    new_graph = graph.replacing(swaps)
    new_graph.unpriced = unpriced
    new_quanta = dict(last.screened.quanta)
    for _, _, b in changes:
        new_quanta[b.market] = (b.quantum_in, b.quantum_out)
    screened = Screened(new_graph, last.screened.rejected, new_quanta)
    _record_patch(lists, changes, screened, last, cache)
    return screened


def _record_patch(lists: Mapping[str, Sequence[Edge]], changes: list[tuple[str, Edge, Edge]],
                  screened: Screened, last: _Last, cache: ScreenCache) -> None:
    """Bring the per-source checks up to the patched lists, so a later build (full or patch)
    finds them as if it had made them."""
    by_source: dict[str, dict[int, Edge]] = {}
    for name, a, b in changes:
        by_source.setdefault(name, {})[id(a)] = b
    clean = dict(last.clean)
    for name, new_of in by_source.items():
        def swapped(edges: list[Edge], new_of: dict[int, Edge] = new_of) -> list[Edge]:
            return [new_of.get(id(e), e) for e in edges]
        # a source's clean list is its band's list when its band ran, else its structural one
        old_struct = cache.structural[name]
        struct = clean[name] = swapped(old_struct[1])
        cache.structural[name] = (lists[name], struct, old_struct[2])
        banded = cache.band.get(name)
        if banded is not None and banded[0][0] is old_struct[1]:
            cache.band[name] = ((struct, banded[0][1]), swapped(banded[1]), banded[2])
            if last.clean[name] is banded[1]:
                clean[name] = cache.band[name][1]
        # the same reference links (checked): others' bands keep matching their cache
        cache.links[id(clean[name])] = (clean[name], cache.links_of(last.clean[name]))
    for name, lst in lists.items():
        if name not in by_source and lst is not last.lists[name]:  # equal, another object
            held = cache.structural.get(name)
            if held is not None:
                cache.structural[name] = (lst, held[1], held[2])
    cache.forget_unused([*clean.values(), *(hit[1] for hit in cache.structural.values())])
    cache.last = _Last(dict(lists), clean, screened)


def rejected_entries(screened: Screened, req: QuoteRequest,
                     providers: Iterable[str]) -> list[Unavailable]:
    """``provider_error`` entries for ``providers``' edges of ``req``'s pair that were left out."""
    sell, buy = from_id(req.sell).coin, from_id(req.buy).coin
    chosen = set(providers)
    out = []
    for edge, why in screened.rejected:
        m = edge.market
        if m.provider in chosen and from_id(m.asset_in).coin == sell \
                and from_id(m.asset_out).coin == buy:
            out.append(Unavailable(provider=m.provider, reason="provider_error",
                                   detail=f"{m.asset_in}->{m.asset_out} {m.rate_type}: bulk "
                                          f"data rejected: {why}"))
    return out
