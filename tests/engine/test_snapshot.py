"""The snapshot patch: a source that re-publishes a few edges gets them swapped into the last
snapshot, and what comes out is exactly what a full build over the same lists gives."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router
from router.snapshot.edges import Edge
from router.snapshot.feemodel import load_fee_model
from router.snapshot.screening import ScreenCache, Screened, screen_lists

FEES = load_fee_model()
Lists = dict[str, list[Edge]]


@pytest.fixture(scope="module")
def lists() -> Lists:
    async def load() -> Lists:
        async with Sandbox(seed=3, frozen=True, no_limits=True) as sb:
            sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
            async with Router(sources) as router:
                await router.warm()
                return {s.name: list(await s.edges()) for s in sources}

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(load())
    finally:
        loop.close()


def assert_same(got: Screened, full: Screened) -> None:
    g, f = got.graph, full.graph
    assert g.edges == f.edges
    assert g.unpriced == f.unpriced
    assert g.values == f.values
    assert g.best_rate == f.best_rate
    assert g.by_pair == f.by_pair
    assert g.by_in == f.by_in
    assert g.by_out == f.by_out
    assert got.rejected == full.rejected
    assert got.quanta == full.quanta


def changed(lists: Mapping[str, Sequence[Edge]], name: str, i: int, **fields: object) -> Lists:
    out = {n: list(lst) for n, lst in lists.items()}
    out[name][i] = msgspec.structs.replace(out[name][i], **fields)
    return out


def priced_index(lst: Sequence[Edge]) -> int:
    return next(i for i, e in enumerate(lst) if e.rate is not None and not e.estimated)


def test_a_learnt_payout_fee_patches_the_snapshot(lists: Lists) -> None:
    cache = ScreenCache()
    screen_lists(lists, FEES, cache=cache)
    i = priced_index(lists["fixedfloat"])
    new = changed(lists, "fixedfloat", i,
                  fee_out=lists["fixedfloat"][i].fee_out + Decimal("0.0001"),
                  quantum_out=Decimal("0.01"))
    got = screen_lists(new, FEES, cache=cache)
    assert (cache.built, cache.patched) == (1, 1)
    assert_same(got, screen_lists(new, FEES))
    assert got.graph.edges != screen_lists(lists, FEES).graph.edges  # the change is in


def test_a_moved_bulk_price_builds_in_full(lists: Lists) -> None:
    cache = ScreenCache()
    screen_lists(lists, FEES, cache=cache)
    i = priced_index(lists["flypay"])
    new = changed(lists, "flypay", i, rate=lists["flypay"][i].rate * Decimal("1.001"))  # type: ignore[operator]
    got = screen_lists(new, FEES, cache=cache)
    assert (cache.built, cache.patched) == (2, 0)  # the reference mids may move
    assert_same(got, screen_lists(new, FEES))


def test_a_learnt_price_leaves_the_reference_alone(lists: Lists) -> None:
    cache = ScreenCache()
    before = screen_lists(lists, FEES, cache=cache)
    i = next(i for i, e in enumerate(lists["gatepay"]) if e.rate is None)
    new = changed(lists, "gatepay", i, rate=Decimal("1e9"), learnt=True)  # far off: rejected
    got = screen_lists(new, FEES, cache=cache)
    assert got.graph.values == before.graph.values
    assert_same(got, screen_lists(new, FEES))


_KINDS = ("fee_out", "quantum", "learnt", "rate", "negative", "unprice", "equal", "drop")


@st.composite
def mutations(draw: st.DrawFn, names: Sequence[str]) -> list[tuple[str, str, int]]:
    return draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(_KINDS),
                                   st.integers(0, 10**6)), min_size=1, max_size=4))


def mutate(lists: Mapping[str, Sequence[Edge]], name: str, kind: str, n: int) -> Lists:
    lst = lists[name]
    i = n % len(lst)
    e = lst[i]
    if kind == "fee_out":
        return changed(lists, name, i, fee_out=e.fee_out + Decimal(n % 7) / 1000)
    if kind == "quantum":
        return changed(lists, name, i, quantum_out=Decimal(1).scaleb(-(n % 9)))
    if kind == "learnt":
        ref = e.rate if e.rate is not None else Decimal(1)
        return changed(lists, name, i, rate=ref * Decimal(100 + n % 3) / 100, learnt=True)
    if kind == "rate" and e.rate is not None:
        return changed(lists, name, i, rate=e.rate * Decimal("1.01"))
    if kind == "negative":
        return changed(lists, name, i, fee_in=Decimal(-1))
    if kind == "unprice":
        return changed(lists, name, i, rate=None, learnt=False)
    if kind == "drop":
        out = {k: list(v) for k, v in lists.items()}
        del out[name][i]
        return out
    return {k: list(v) for k, v in lists.items()}  # equal lists, new objects


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_snapshot_equals_a_full_build(lists: Lists, data: st.DataObject) -> None:
    cache = ScreenCache()
    screen_lists(lists, FEES, cache=cache)
    current: Mapping[str, Sequence[Edge]] = lists
    for name, kind, n in data.draw(mutations(sorted(lists))):
        current = mutate(current, name, kind, n)
        assert_same(screen_lists(current, FEES, cache=cache), screen_lists(current, FEES))
