"""The engine against scripted sources: fan-out, ranking, deadline, failures, coalescing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import msgspec
import pytest

from router import InvalidRequest, Router
from router.engine import DEADLINE_GRACE
from router.errors import MalformedResponse, ProviderUnavailable, SignatureInvalid
from router.model import Market, Route
from router.pricing.rank import rank_routes
from router.steps import Turns
from tests.support.fakes import FakeSource
from tests.support.vclock import virtual_time

BTC_USDT = [("BTC", "USDT@TRC20")]
D = Decimal


@virtual_time
async def test_ranks_sell_side_by_amount_out_after_fees() -> None:
    cheap = FakeSource("a", BTC_USDT, D("60000"), fee=D("1"))
    better = FakeSource("b", BTC_USDT, D("60010"), fee=D("50"))  # higher rate, but fees eat it
    best = FakeSource("c", BTC_USDT, D("60005"), fee=D("0"))
    async with Router([cheap, better, best]) as r:
        rs = await r.quote("BTC", "USDT", "0.5")
    assert [route.providers[0] for route in rs.routes] == ["c", "a", "b"]
    assert rs.best is not None and rs.best.amount_out == D("30002.5")
    assert rs.best.kind == "firm"
    assert all(route.legs[0].asset_out == "USDT@TRC20" for route in rs.routes)


@virtual_time
async def test_buy_side_ranks_by_least_sent() -> None:
    a = FakeSource("a", BTC_USDT, D("60000"), fee=D("10"))
    b = FakeSource("b", BTC_USDT, D("59000"))
    async with Router([a, b]) as r:
        rs = await r.quote("BTC", "USDT@TRC20", "1000", side="buy")
    assert rs.routes[0].providers == ("a",)
    assert rs.routes[0].amount_out == D("1000")
    assert rs.routes[0].amount_in < rs.routes[1].amount_in


@virtual_time
async def test_deadline_ranks_what_arrived_and_reports_timeout() -> None:
    fast = FakeSource("fast", BTC_USDT, D("60000"))
    slow = FakeSource("slow", BTC_USDT, D("70000"), indicative=False, firm_delay=30)
    async with Router([fast, slow], deadline=5) as r:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        rs = await r.quote("BTC", "USDT", "1", deadline=0.3)
        spent = loop.time() - t0
    assert spent <= 0.3 + DEADLINE_GRACE  # 30 s of stall did not hold the answer
    assert [route.providers for route in rs.routes] == [("fast",)]
    reasons = {(u.provider, u.reason) for u in rs.unavailable}
    assert ("slow", "timeout") in reasons


@virtual_time
async def test_stalled_firm_keeps_indicative_price_labelled() -> None:
    slow = FakeSource("slow", BTC_USDT, D("70000"), firm_delay=30)
    async with Router([slow]) as r:
        rs = await r.quote("BTC", "USDT", "1", deadline=0.2)
    assert rs.best is not None and rs.best.kind == "indicative"
    assert any(u.reason == "timeout" and "outstanding" in u.detail for u in rs.unavailable)


@virtual_time
async def test_limit_min_reported_with_provider_figure() -> None:
    a = FakeSource("a", BTC_USDT, D("60000"), minimum=D("0.01"))
    b = FakeSource("b", BTC_USDT, D("50000"))
    async with Router([a, b]) as r:
        rs = await r.quote("BTC", "USDT", "0.001")
    assert [route.providers for route in rs.routes] == [("b",)]
    entry = next(u for u in rs.unavailable if u.provider == "a")
    assert entry.reason == "limit_min" and entry.limit == D("0.01") and entry.asset == "BTC"


@virtual_time
async def test_transient_firm_error_keeps_indicative_and_reports() -> None:
    a = FakeSource("a", BTC_USDT, D("60000"), firm_error=lambda: ProviderUnavailable("a", "boom", status=503))
    async with Router([a]) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert rs.best is not None and rs.best.kind == "indicative"
    assert [(u.provider, u.reason) for u in rs.unavailable] == [("a", "provider_error")]


@pytest.mark.parametrize("error,reason", [
    (lambda: SignatureInvalid("a", "bad response signature"), "signature_invalid"),
    (lambda: MalformedResponse("a", "amount is negative"), "provider_error"),
])
@virtual_time
async def test_lying_provider_is_dropped_entirely(error, reason) -> None:  # type: ignore[no-untyped-def]
    liar = FakeSource("a", BTC_USDT, D("90000"), firm_error=error)
    honest = FakeSource("b", BTC_USDT, D("60000"))
    async with Router([liar, honest]) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert [route.providers for route in rs.routes] == [("b",)]
    assert ("a", reason) in {(u.provider, u.reason) for u in rs.unavailable}


@virtual_time
async def test_source_bug_never_crashes_a_quote() -> None:
    buggy = FakeSource("a", BTC_USDT, D("90000"), indicative=False, firm_error=lambda: KeyError("oops"))
    ok = FakeSource("b", BTC_USDT, D("60000"))
    async with Router([buggy, ok]) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert [route.providers for route in rs.routes] == [("b",)]
    assert ("a", "provider_error") in {(u.provider, u.reason) for u in rs.unavailable}


@virtual_time
async def test_unsupported_pair_and_markets_failure() -> None:
    a = FakeSource("a", [("ETH", "BTC")], D("0.05"))
    b = FakeSource("b", BTC_USDT, D("1"), markets_error=ProviderUnavailable("b", "down", status=502))
    async with Router([a, b]) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert rs.routes == ()
    assert {(u.provider, u.reason) for u in rs.unavailable} == {("a", "unsupported_pair"), ("b", "provider_error")}


@virtual_time
async def test_network_filter_and_provider_selection() -> None:
    a = FakeSource("a", [("BTC", "USDT@TRC20"), ("BTC", "USDT@ERC20")], D("60000"))
    b = FakeSource("b", BTC_USDT, D("61000"))
    async with Router([a, b]) as r:
        only_erc = await r.quote("BTC", "USDT@ERC20", "1")
        only_a = await r.quote("BTC", "USDT", "1", providers="a")
        not_b = await r.quote("BTC", "USDT", "1", exclude=["b"])
    assert [(x.providers, x.legs[0].asset_out) for x in only_erc.routes] == [(("a",), "USDT@ERC20")]
    assert {x.providers for x in only_a.routes} == {("a",)}
    assert {x.providers for x in not_b.routes} == {("a",)}


@virtual_time
async def test_identical_concurrent_quotes_share_one_firm_call() -> None:
    a = FakeSource("a", BTC_USDT, D("60000"), firm_delay=0.05)
    async with Router([a]) as r:
        results = await asyncio.gather(*(r.quote("BTC", "USDT", "1") for _ in range(100)))
    assert a.firm_calls == 1
    assert all(rs.best is not None and rs.best.kind == "firm" for rs in results)


@virtual_time
async def test_same_asset_in_and_out_is_an_answer_not_an_exception() -> None:
    async with Router([FakeSource("a", BTC_USDT, D("1"))]) as r:
        rs = await r.quote("USDT", "USDT@TRC20", "5")
    assert rs.routes == () and rs.unavailable[0].reason == "unsupported_pair"


@pytest.mark.parametrize("kwargs,field", [
    (dict(sell="NOPE", buy="USDT", amount="1"), "sell"),
    (dict(sell="BTC", buy="usdt@@x", amount="1"), "buy"),
    (dict(sell="BTC", buy="USDT", amount="0"), "amount"),
    (dict(sell="BTC", buy="USDT", amount="-1"), "amount"),
    (dict(sell="BTC", buy="USDT", amount="NaN"), "amount"),
    (dict(sell="BTC", buy="USDT", amount="Infinity"), "amount"),
    (dict(sell="BTC", buy="USDT", amount="1e40"), "amount"),
    (dict(sell="BTC", buy="USDT", amount="0.123456789"), "amount"),  # BTC has 8 decimals
    (dict(sell="BTC", buy="USDT", amount=0.5), "amount"),  # floats are not exact
    (dict(sell="BTC", buy="USDT", amount="1", side="both"), "side"),
    (dict(sell="BTC", buy="USDT", amount="1", rate_type="best"), "rate_type"),
    (dict(sell="BTC", buy="USDT", amount="1", max_hops=9), "max_hops"),
    (dict(sell="BTC", buy="USDT", amount="1", providers="nobody"), "providers"),
    (dict(sell="BTC", buy="USDT", amount="1", deadline=-1), "deadline"),
])
@virtual_time
async def test_bad_input_raises_typed_error_naming_the_field(kwargs, field) -> None:  # type: ignore[no-untyped-def]
    src = FakeSource("a", BTC_USDT, D("1"))
    async with Router([src]) as r:
        with pytest.raises(InvalidRequest) as info:
            await r.quote(**kwargs)
    assert info.value.field == field
    assert info.value.allowed
    assert src.firm_calls == 0  # nothing half-done


@virtual_time
async def test_buy_side_decimals_checked_against_the_buy_asset() -> None:
    async with Router([FakeSource("a", BTC_USDT, D("60000"))]) as r:
        with pytest.raises(InvalidRequest) as info:
            await r.quote("BTC", "USDT", "1.1234567", side="buy")  # USDT has 6 decimals
        rs = await r.quote("BTC", "USDT", "1.123456", side="buy")
    assert info.value.field == "amount" and rs.best is not None


@virtual_time
async def test_lifecycle_is_strict() -> None:
    src = FakeSource("a", BTC_USDT, D("1"))
    r = Router([src])
    with pytest.raises(RuntimeError):
        await r.quote("BTC", "USDT", "1")
    async with r:
        assert src.opened
    assert src.closed
    await r.aclose()  # idempotent
    with pytest.raises(RuntimeError):
        await r.quote("BTC", "USDT", "1")


def test_expired_firm_route_is_never_presented_as_firm() -> None:
    old = Route(legs=(), amount_in=D(1), amount_out=D(10), kind="firm", expires_at=100.0)
    new = Route(legs=(), amount_in=D(1), amount_out=D(9), kind="firm", expires_at=10_000.0)
    ranked = rank_routes([new, old], "sell", now=1_000.0)
    assert [r.kind for r in ranked] == ["indicative", "firm"]
    assert ranked[0].amount_out == D(10)


@virtual_time
async def test_firm_answers_calibrate_the_remaining_indicative_prices() -> None:
    pairs = [("BTC", "USDT@TRC20"), ("BTC", "USDT@ERC20"), ("BTC", "USDT@BSC")]
    rates = {"USDT@ERC20": D("59850"), "USDT@BSC": D("59000")}  # 0.25 % and 1.7 % below TRC20
    src = FakeSource("a", pairs, D("60000"), firm_factor=D("0.99"), rates=rates)
    async with Router([src], firm_per_source=1, firm_rounds=2) as r:
        rs = await r.quote("BTC", "USDT", "1")
    # the others' feed prices are outside the band of the best, and calibrated by the firm answer
    # (1 % worse than its feed) they cannot beat it: no reason to spend another call
    assert src.firm_calls == 1
    assert [x.kind for x in rs.routes] == ["firm", "indicative", "indicative"]
    assert [x.amount_out for x in rs.routes] == [D("59400"), D("59251.5"), D("58410")]
    src.firm_calls = 0
    async with Router([src], firm_per_source=1, firm_rounds=2, error_band="0.003") as r:
        rs = await r.quote("BTC", "USDT", "1")
    # a wider error band: ERC20's estimate is within it of the best one, so it is asked at once
    assert src.firm_calls == 2
    assert [x.kind for x in rs.routes] == ["firm", "firm", "indicative"]
    rest = rs.routes[-1]
    assert rest.amount_out == D("58410")
    assert [f.kind for f in rest.legs[0].fees] == ["spread"]  # a zero network fee is not itemised
    assert rest.legs[0].fees[-1].amount == D("590")


@virtual_time
async def test_bulk_only_mode_spends_no_firm_quotes() -> None:
    src = FakeSource("a", BTC_USDT, D("60000"))
    async with Router([src], firm_rounds=0) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert src.firm_calls == 0 and rs.best is not None and rs.best.kind == "indicative"


@virtual_time
async def test_warm_freezes_what_the_process_holds_only_when_asked() -> None:
    import gc

    src = FakeSource("a", BTC_USDT, D("60000"))
    async with Router([src]) as r:
        before = gc.get_freeze_count()
        await r.warm()
        assert gc.get_freeze_count() == before
        try:
            await r.warm(freeze_gc=True)
            assert gc.get_freeze_count() > before
        finally:
            gc.unfreeze()
        rs = await r.quote("BTC", "USDT", "1")
    assert rs.best is not None and rs.best.kind == "firm"


class _Busy(Turns):
    """A router whose CPU queue never frees up within the test (every turn waits)."""

    def free(self) -> bool:
        return False

    async def turn(self) -> None:
        await asyncio.Event().wait()


@virtual_time
async def test_a_request_queued_for_the_cpu_answers_direct_indicative_routes_by_its_deadline() -> None:
    pairs = [("BTC", "USDT@TRC20"), ("BTC", "ETH"), ("ETH", "USDT@TRC20")]
    a = FakeSource("a", pairs, D("60000"))
    b = FakeSource("b", BTC_USDT, D("59000"))
    async with Router([a, b]) as r:
        await r.warm()
        r._turns = _Busy()  # the full search never gets its turn
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        rs = await r.quote("BTC", "USDT", "1", deadline=0.5)
        spent = loop.time() - t0
        r._quick = _Busy()  # not even the direct lane: nothing to rank
        bare = await r.quote("BTC", "USDT", "1", deadline=0.5)
    assert spent <= 0.5 + DEADLINE_GRACE
    assert [route.providers for route in rs.routes] == [("a",), ("b",)]  # best first, one leg
    assert all(route.kind == "indicative" for route in rs.routes)
    assert a.firm_calls == b.firm_calls == 0
    busy = [u for u in rs.unavailable if u.reason == "overloaded"]
    assert len(busy) == 1 and busy[0].provider == "*" and "direct routes only" in busy[0].detail
    assert not bare.routes and bare.best is None
    assert [u.detail for u in bare.unavailable if u.reason == "overloaded"] == [
        "the router was busy with other requests: no route search within 0.5s"]


@virtual_time
async def test_a_changed_source_does_not_hold_requests_a_new_one_does() -> None:
    a = FakeSource("a", BTC_USDT, D("60000"))
    b = FakeSource("b", [("BTC", "ETH")], D("20"))
    async with Router([a, b]) as r:
        await r.warm()
        loop = asyncio.get_running_loop()
        old = await r._graph_for({"a": await a.edges()})
        changed = [msgspec.structs.replace(e, rate=D("61000")) for e in await a.edges()]  # a re-published
        got = await r._graph_for({"a": changed}, loop.time() + 60)
        assert got is old  # the snapshot current when the request started, at once
        assert r._building is not None
        await r._building  # the new snapshot is built behind it and swapped in whole
        new = await r._graph_for({"a": changed}, loop.time() + 60)
        assert new is not old and {e.rate for e in new.edges if e.market.provider == "a"} == {D("61000")}
        assert any(e.market.provider == "b" for e in new.edges)  # b's edges kept
        extra = [msgspec.structs.replace(e, market=Market("z", "BTC", "XMR", "float", "BTC/XMR"))
             for e in changed]
        t0 = loop.time()
        fresh = await r._graph_for({"a": changed, "z": extra}, loop.time() + 60)
        assert loop.time() - t0 < 60  # built, not timed out
        assert any(e.market.provider == "z" for e in fresh.edges)  # a new source is waited for


@virtual_time
async def test_a_late_request_with_older_edges_does_not_bring_them_back() -> None:
    a = FakeSource("a", BTC_USDT, D("60000"))
    b = FakeSource("b", [("BTC", "ETH")], D("20"))

    def rates(g: object) -> set[Decimal]:
        return {e.rate for e in g.edges if e.market.provider == "a"}  # type: ignore[attr-defined]

    async with Router([a, b]) as r:
        await r.warm()
        loop = asyncio.get_running_loop()
        a1, b1 = await a.edges(), await b.edges()
        a2 = [msgspec.structs.replace(e, rate=D("61000")) for e in a1]  # a re-published
        await r._graph_for({"a": a2}, loop.time() + 5)
        await r._building  # type: ignore[misc]
        # a request that fetched a1 before, then waited for b, arrives after a2 was built
        await r._graph_for({"a": a1, "b": b1}, loop.time() + 5)
        if r._building is not None:
            await r._building
        assert rates(r._screen[1].graph) == {D("61000")}  # type: ignore[index]
        # a batch waits for its own, newer lists even when a stale request lands meanwhile
        a3 = [msgspec.structs.replace(e, rate=D("62000")) for e in a1]
        batch = asyncio.ensure_future(r._graph_for({"a": a3}, None))
        await asyncio.sleep(0)
        await r._graph_for({"a": a1}, loop.time() + 5)
        assert rates(await batch) == {D("62000")}
