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
    priced_links,
    values_from_links,
)
from router.steps import STEP_ITEMS, Steps, drive

__all__ = ["ImplausibleQuote", "Plausibility", "Screened", "check_edge", "check_quote",
           "ScreenCache", "reference_rate", "rejected_entries", "screen_edges", "screen_lists",
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
    yield
    kept: list[Edge] = []
    bad: list[tuple[Edge, str]] = []
    for i, e in enumerate(clean[name]):
        if i % STEP_ITEMS == STEP_ITEMS - 1:
            yield
        ref = None if e.rate is None or e.estimated else reference_rate(
            values, e.market.asset_in, e.market.asset_out)
        why = None if ref is None or e.rate is None else _band(e.rate, e.rate, ref, policy)
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
    return Screened(graph, tuple(rejected), quanta(edges))


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
