"""Reliability of the engine: the deadline holds, hedged retries, circuit breakers, validation.

Every async test here runs on the virtual loop of :mod:`tests.support.vclock`: stalls take no real
time and each deadline is exact, so the bounds below are the engine's own promise (an answer by
the deadline plus :data:`router.engine.DEADLINE_GRACE`) and no load on the machine can break them.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import Router
from router.budgets import BudgetPolicy, BudgetRegistry
from router.engine import DEADLINE_GRACE
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UnsupportedPair,
)
from router.model import Fee, Market, Quote, Side
from router.snapshot.edges import Edge
from router.snapshot.screening import ImplausibleQuote, check_edge, check_quote
from router.sources.health import Breaker, BreakerPolicy, Health
from router.sources.protocol import SourceContext
from tests.support.fakes import FakeSource
from tests.support.vclock import FakeClock, virtual_time

D = Decimal
BTC_USDT = [("BTC", "USDT@TRC20")]


# -- helpers -----------------------------------------------------------------------------------
@asynccontextmanager
async def no_leaks() -> AsyncIterator[list[dict[str, Any]]]:
    """Fail on anything the loop reports: "Task was destroyed but it is pending", "exception was
    never retrieved", errors in callbacks."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx))
    try:
        yield seen
        await asyncio.sleep(0)
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(old)
    assert not seen, [c.get("message") for c in seen]


class Scripted(FakeSource):
    """``script(n)`` for the n-th firm call (from 1): ``(delay, error or None)``."""

    def __init__(self, *args: Any, script: Callable[[int], tuple[float, Any]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.script = script
        self.cancelled = 0

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        self.firm_calls += 1
        delay, error = self.script(self.firm_calls)
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if error is not None:
            raise error
        return self._price(market, amount, side, self.rate * self.firm_factor, "firm")


class Stubborn(FakeSource):
    """A badly written source: its firm call swallows cancellation (a few times)."""

    def __init__(self, *args: Any, ignore: int = 3, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ignore = ignore

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        self.firm_calls += 1
        for _ in range(self.ignore):
            try:
                await asyncio.sleep(0.2)
            except asyncio.CancelledError:
                continue
        await asyncio.sleep(30)
        raise AssertionError("unreachable")


class StalledEdges(FakeSource):
    async def edges(self) -> Sequence[Edge]:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")


class Lying(FakeSource):
    """Answers firm calls with ``lie(honest quote)``."""

    def __init__(self, *args: Any, lie: Callable[[Quote], Quote], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lie = lie

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        return self.lie(await super().firm(market, amount, side))


class Budgeted(Scripted):
    """Spends one unit of a real budget per firm call, as adapters do."""

    def __init__(self, *args: Any, policy: BudgetPolicy, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.policy = policy

    async def open(self, ctx: SourceContext) -> None:
        self.budget = ctx.budgets.get(self.name, "key", self.policy)

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        await self.budget.acquire(1)
        return await super().firm(market, amount, side)


def reasons(rs: Any) -> set[tuple[str, str]]:
    return {(u.provider, u.reason) for u in rs.unavailable}


# -- 1. the deadline ---------------------------------------------------------------------------
@virtual_time
async def test_stalled_bulk_data_costs_neither_the_deadline_nor_the_others_firm_quotes() -> None:
    stalled = StalledEdges("stalled", BTC_USDT, D("70000"))
    ok = FakeSource("ok", BTC_USDT, D("60000"))
    async with no_leaks(), Router([stalled, ok]) as r:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        rs = await r.quote("BTC", "USDT", "1", deadline=0.6)
        spent = loop.time() - t0
    assert spent < 0.6 + DEADLINE_GRACE
    assert rs.best is not None and rs.best.kind == "firm" and rs.best.providers == ("ok",)
    assert ("stalled", "timeout") in reasons(rs)


@pytest.mark.parametrize("cache", [True, False])
@virtual_time
async def test_a_source_that_swallows_cancellation_cannot_hold_the_answer(cache: bool) -> None:
    stubborn = Stubborn("stubborn", BTC_USDT, D("70000"), indicative=False)
    ok = FakeSource("ok", BTC_USDT, D("60000"))
    async with no_leaks():
        async with Router([stubborn, ok], cache=cache, hedge=False) as r:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            rs = await r.quote("BTC", "USDT", "1", deadline=0.3)
            spent = loop.time() - t0
            assert spent < 0.3 + DEADLINE_GRACE
            assert ("stubborn", "timeout") in reasons(rs)
            assert rs.best is not None and rs.best.providers == ("ok",)
        # closing the router gets rid of the stubborn call too (it gives in eventually)


@virtual_time
async def test_stall_in_a_multi_hop_leg_and_the_second_pass() -> None:
    # CNY -> USDT (fast) then USDT -> BTC (stalls): the route's second leg never answers
    first = FakeSource("first", [("CNY", "USDT@TRC20")], D("0.14"))
    second = Scripted("second", [("USDT@TRC20", "BTC")], D("0.0000166"),
                      script=lambda n: (30.0, None))
    async with no_leaks(), Router([first, second]) as r:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        rs = await r.quote("CNY", "BTC", "10000", deadline=0.5)
        spent = loop.time() - t0
    assert spent < 0.5 + DEADLINE_GRACE
    assert rs.best is not None and rs.best.providers == ("first", "second")
    assert rs.best.kind == "indicative"
    assert ("second", "timeout") in reasons(rs)


@virtual_time
async def test_caller_cancellation_is_prompt_and_leaks_nothing() -> None:
    slow = Scripted("slow", BTC_USDT, D("60000"), script=lambda n: (30.0, None))
    async with no_leaks(), Router([slow], deadline=10) as r:
        task = asyncio.ensure_future(r.quote("BTC", "USDT", "1"))
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0.05)
        t0 = loop.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert loop.time() - t0 <= DEADLINE_GRACE
    assert slow.cancelled >= 1  # closing the router cancelled the provider call


@virtual_time
async def test_many_concurrent_quotes_with_stalls_all_answer_in_time() -> None:
    sources = [
        Scripted("a", BTC_USDT, D("60000"), script=lambda n: (0.01 if n % 3 else 5.0, None)),
        Scripted("b", BTC_USDT, D("60100"), script=lambda n: (
            0.02, ProviderUnavailable("b", "down", status=503) if n % 2 else None)),
        StalledEdges("c", BTC_USDT, D("60200")),
    ]
    async with no_leaks(), Router(sources, cache=False) as r:
        loop = asyncio.get_running_loop()

        async def one(i: int) -> float:
            t0 = loop.time()
            await r.quote("BTC", "USDT", str(1 + i % 7), deadline=0.4)
            return loop.time() - t0

        spent = await asyncio.gather(*(one(i) for i in range(200)))
    assert max(spent) < 0.4 + DEADLINE_GRACE


# -- 2. hedged retries -------------------------------------------------------------------------
@virtual_time
async def test_slow_firm_call_is_hedged_and_the_first_answer_wins() -> None:
    src = Scripted("a", BTC_USDT, D("60000"), script=lambda n: (5.0 if n == 1 else 0.01, None))
    async with no_leaks(), Router([src], hedge_delay=0.05) as r:
        rs = await r.quote("BTC", "USDT", "1", deadline=2)
        assert r.stats.hedged == 1 and r.stats.hedge_won == 1
    assert rs.best is not None and rs.best.kind == "firm"
    assert rs.elapsed_ms == pytest.approx(60, abs=0.5)  # the hedge went at 50 ms, answered in 10
    assert src.firm_calls == 2 and src.cancelled == 1  # the slow one was cancelled


@virtual_time
async def test_identical_concurrent_asks_share_one_hedged_flight() -> None:
    src = Scripted("a", BTC_USDT, D("60000"), script=lambda n: (5.0 if n == 1 else 0.05, None))
    async with no_leaks(), Router([src], hedge_delay=0.05) as r:
        results = await asyncio.gather(*(r.quote("BTC", "USDT", "1", deadline=2)
                                         for _ in range(50)))
    assert src.firm_calls == 2  # one call and one hedge for all fifty
    assert all(rs.best is not None and rs.best.kind == "firm" for rs in results)


@virtual_time
async def test_transient_failure_is_retried_once_permanent_never() -> None:
    flaky = Scripted("a", BTC_USDT, D("60000"),
                     script=lambda n: (0, ProviderUnavailable("a", "503", status=503)
                                       if n == 1 else None))
    async with Router([flaky]) as r:
        rs = await r.quote("BTC", "USDT", "1", deadline=1)
        assert r.stats.retried == 1
    assert flaky.firm_calls == 2 and rs.best is not None and rs.best.kind == "firm"

    for error in (AmountOutOfRange("b", below_min=True, limit=D(2), asset="BTC"),
                  UnsupportedPair("b"), AuthError("b", status=401),
                  RateLimited("b", retry_after=1.0)):
        permanent = Scripted("b", BTC_USDT, D("60000"), script=lambda n, e=error: (0, e))
        async with Router([permanent]) as r:
            await r.quote("BTC", "USDT", "1", deadline=1)
        assert permanent.firm_calls == 1, error


@virtual_time
async def test_a_permanent_answer_is_believed_even_while_a_hedge_is_out() -> None:
    src = Scripted("a", BTC_USDT, D("60000"), script=lambda n: (
        (0.15, AmountOutOfRange("a", below_min=True, limit=D(2), asset="BTC")) if n == 1
        else (5.0, None)))
    async with no_leaks(), Router([src], hedge_delay=0.05) as r:
        rs = await r.quote("BTC", "USDT", "1", deadline=2)
    assert rs.elapsed_ms == pytest.approx(150, abs=0.5)  # at the permanent answer, not the hedge
    assert ("a", "limit_min") in reasons(rs) and rs.routes == ()


@virtual_time
async def test_no_hedge_without_time_budget_or_when_disabled() -> None:
    def slow_script(n: int) -> tuple[float, None]:
        return (0.15, None)

    src = Scripted("a", BTC_USDT, D("60000"), script=slow_script)
    async with Router([src], hedge=False, hedge_delay=0.05) as r:
        await r.quote("BTC", "USDT", "1", deadline=1)
    assert src.firm_calls == 1

    src = Scripted("a", BTC_USDT, D("60000"), script=lambda n: (0.3, None))
    async with Router([src], hedge_delay=0.25) as r:
        await r.quote("BTC", "USDT", "1", deadline=0.28)  # 30 ms left: not worth a duplicate
    assert src.firm_calls == 1

    registry = BudgetRegistry()
    src = Budgeted("a", BTC_USDT, D("60000"), script=slow_script,
                   policy=BudgetPolicy(limit=10, margin=0.0))
    async with Router([src], budgets=registry, hedge_delay=0.05, cache=False) as r:
        for i in range(9):
            await r.quote("BTC", "USDT", str(i + 1), deadline=2)
    spent = registry.spent()["a"]
    assert spent <= 10  # never more than the budget, hedges included
    assert r.stats.hedged < 9  # hedges stopped when headroom ran low

    async with Router([Scripted("a", BTC_USDT, D("60000"), script=slow_script)]) as r:
        await r.quote_many([{"sell": "BTC", "buy": "USDT", "amount": "1"}]).__anext__()
        assert r.stats.hedged == 0  # a batch has no deadline to hedge against


# -- 3. circuit breaker ------------------------------------------------------------------------


def test_breaker_opens_half_opens_and_closes() -> None:
    clock = FakeClock()
    b = Breaker(BreakerPolicy(threshold=3, window=10, cooldown=5, max_cooldown=20), clock)
    for _ in range(2):
        b.failure()
    assert b.state == "closed"
    b.success()  # consecutive means consecutive
    for _ in range(2):
        b.failure()
    assert b.state == "closed"
    b.failure()
    assert b.state == "open"
    denied = b.admit()
    assert not denied.allowed and denied.retry_after == 5
    clock.now += 5
    assert b.state == "half_open"
    probe = b.admit()
    assert probe.allowed and probe.probe
    assert not b.admit().allowed  # one probe at a time
    b.failure()  # the probe failed: open again, twice as long
    assert b.state == "open" and b.admit().retry_after == 10
    clock.now += 10
    assert b.admit().probe
    b.release()  # the probe was not needed after all: the next caller probes
    assert b.admit().probe
    b.success()
    assert b.state == "closed" and b.admit().allowed
    for _ in range(3):
        b.failure()
    assert b.admit().retry_after == 5  # closing reset the backoff


def test_breaker_window_and_neutral_outcomes() -> None:
    clock = FakeClock()
    b = Breaker(BreakerPolicy(threshold=3, window=10), clock)
    for _ in range(5):  # failures further apart than the window never add up
        b.failure()
        clock.now += 11
    assert b.state == "closed"
    for exc in (RateLimited("a", retry_after=1), AuthError("a"), AuthError("a"), AuthError("a")):
        b.record(exc)
    assert b.state == "closed"
    for exc in (ProviderTimeout("a"), ImplausibleQuote("a", "lie"), KeyError("bug")):
        b.record(exc)
    assert b.state == "open"


def test_health_admits_per_quote_and_scores() -> None:
    clock = FakeClock()
    health = Health(BreakerPolicy(threshold=2, cooldown=10), clock=clock)
    assert health.score("a") == 1.0
    health.breaker("a").failure()
    assert 0 < health.score("a") < 1
    health.breaker("a").failure()
    allowed, skipped, probes = health.admit_all(["a", "b"])
    assert allowed == ["b"] and probes == [] and health.score("a") == 0.0
    assert skipped[0].reason == "provider_unhealthy" and skipped[0].retry_after == 10
    clock.now += 10
    allowed, _, probes = health.admit_all(["a"])
    assert allowed == probes == ["a"]
    _, skipped, _ = health.admit_all(["a"])  # the probe is taken: the next quote skips "a"
    assert skipped[0].retry_after is None and "probe" in skipped[0].detail
    health.release_all(probes)
    assert health.admit_all(["a"])[2] == ["a"]


def test_the_default_breaker_opens_on_the_fifth_consecutive_failure_for_five_seconds() -> None:
    clock = FakeClock()  # the README's figures: 5 consecutive failures open it for 5 s, up to 120 s
    policy = BreakerPolicy()
    assert (policy.threshold, policy.cooldown, policy.max_cooldown) == (5, 5.0, 120.0)
    b = Breaker(policy, clock)
    for _ in range(4):
        b.failure()
    assert b.state == "closed" and b.admit().allowed
    b.failure()
    assert b.state == "open" and b.admit().retry_after == 5


@virtual_time
async def test_a_router_skips_a_provider_after_five_failing_quotes_not_before() -> None:
    src = Scripted("a", BTC_USDT, D("60000"), indicative=False, script=lambda n: (
        0, ProviderUnavailable("a", "down", status=503)))
    async with Router([src], hedge=False, cache=False) as r:  # the default Health
        for i in range(4):
            rs = await r.quote("BTC", "USDT", str(i + 1))
            assert ("a", "provider_error") in reasons(rs)  # asked, and failed: still trusted
        rs = await r.quote("BTC", "USDT", "5")
        assert ("a", "provider_error") in reasons(rs)  # the fifth failure opens the circuit
        asked = src.firm_calls
        rs = await r.quote("BTC", "USDT", "6")
        assert ("a", "provider_unhealthy") in reasons(rs) and src.firm_calls == asked


@virtual_time
async def test_failing_provider_is_skipped_then_probed_then_trusted_again() -> None:
    clock = FakeClock()
    health = Health(BreakerPolicy(threshold=3, cooldown=30), clock=clock)
    failing = [True]
    src = Scripted("a", BTC_USDT, D("60000"), script=lambda n: (
        0, ProviderUnavailable("a", "down", status=503) if failing[0] else None))
    ok = FakeSource("b", BTC_USDT, D("59000"))
    async with Router([src, ok], health=health, hedge=False, cache=False) as r:
        for i in range(3):
            rs = await r.quote("BTC", "USDT", str(i + 1))
            assert ("a", "provider_error") in reasons(rs)
        calls = src.firm_calls
        rs = await r.quote("BTC", "USDT", "1")
        entry = next(u for u in rs.unavailable if u.provider == "a")
        assert entry.reason == "provider_unhealthy" and entry.retry_after == 30
        assert src.firm_calls == calls  # skipped, not called
        assert rs.best is not None and rs.best.providers == ("b",)
        clock.now += 30
        failing[0] = False
        rs = await r.quote("BTC", "USDT", "1")  # the probe
        assert rs.best is not None and rs.best.providers == ("a",)
        assert health.breaker("a").state == "closed"


@virtual_time
async def test_timeouts_open_the_circuit_and_then_cost_nothing() -> None:
    clock = FakeClock()
    health = Health(BreakerPolicy(threshold=2, cooldown=60), clock=clock)
    stalled = Scripted("a", BTC_USDT, D("60000"), indicative=False, script=lambda n: (30.0, None))
    async with no_leaks(), Router([stalled], health=health) as r:
        for _ in range(2):
            rs = await r.quote("BTC", "USDT", "1", deadline=0.1)
            assert ("a", "timeout") in reasons(rs)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        rs = await r.quote("BTC", "USDT", "1", deadline=5)
        assert loop.time() - t0 <= DEADLINE_GRACE  # answered at once: nobody left to wait for
        assert ("a", "provider_unhealthy") in reasons(rs)


# -- 4. validation -----------------------------------------------------------------------------
LIES: dict[str, Callable[[Quote], Quote]] = {
    "negative fee": lambda q: msgspec.structs.replace(
        q, fees=(Fee("network", D(-5), q.asset_out),)),
    "fee in a stranger's asset": lambda q: msgspec.structs.replace(
        q, fees=(Fee("provider", D(1), "ETH"),)),
    "another amount": lambda q: msgspec.structs.replace(q, amount_in=q.amount_in / 2,
                                                        amount_out=q.amount_out / 2),
    "too good to be true": lambda q: msgspec.structs.replace(q, amount_out=q.amount_out * 2),
    "decimal point slip": lambda q: msgspec.structs.replace(q, amount_out=q.amount_out / 1000),
    "already expired": lambda q: msgspec.structs.replace(q, expires_at=time.time() - 5),
    "zero out": lambda q: msgspec.structs.replace(q, amount_out=D(0)),
    "infinite": lambda q: msgspec.structs.replace(q, amount_out=D("Infinity")),
    "NaN fee": lambda q: msgspec.structs.replace(q, fees=(Fee("network", D("NaN"), q.asset_out),)),
    "other market": lambda q: msgspec.structs.replace(q, asset_out="USDT@ERC20"),
}


@pytest.mark.parametrize("lie", list(LIES))
@virtual_time
async def test_implausible_firm_quotes_are_dropped_never_ranked(lie: str) -> None:
    liar = Lying("liar", BTC_USDT, D("60500"), lie=LIES[lie])
    honest = [FakeSource(n, BTC_USDT, D(r)) for n, r in (("b", "60000"), ("c", "60100"))]
    health = Health(BreakerPolicy(threshold=1))
    async with Router([liar, *honest], health=health) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert all("liar" not in route.providers for route in rs.routes)
    entry = next(u for u in rs.unavailable if u.provider == "liar")
    assert entry.reason == "provider_error" and entry.detail
    assert rs.best is not None and rs.best.providers == ("c",)
    assert health.breaker("liar").state == "open"  # a lie counts as a failure


@virtual_time
async def test_implausible_buy_side_quote() -> None:
    liar = Lying("liar", BTC_USDT, D("60000"),
                 lie=lambda q: msgspec.structs.replace(q, amount_out=q.amount_out - 100))
    async with Router([liar, FakeSource("b", BTC_USDT, D("59000"))]) as r:
        rs = await r.quote("BTC", "USDT", "1000", side="buy")
    assert rs.best is not None and rs.best.providers == ("b",)
    assert "asked for" in next(u.detail for u in rs.unavailable if u.provider == "liar")


@virtual_time
async def test_lying_bulk_data_is_left_out_and_reported() -> None:
    liar = FakeSource("liar", BTC_USDT, D("180000"), firm_factor=D("0.3"))
    honest = [FakeSource(n, BTC_USDT, D(r)) for n, r in (("b", "60000"), ("c", "60100"))]
    async with Router([liar, *honest]) as r:
        rs = await r.quote("BTC", "USDT", "1")
    assert [route.providers for route in rs.routes] == [("c",), ("b",)]
    entry = next(u for u in rs.unavailable if u.provider == "liar")
    assert entry.reason == "provider_error" and "bulk data rejected" in entry.detail
    assert liar.firm_calls == 0


MARKET = Market("p", "BTC", "USDT@TRC20", "float")


def _quote(**kw: Any) -> Quote:
    base = dict(provider="p", asset_in="BTC", asset_out="USDT@TRC20", amount_in=D(1),
                amount_out=D(60000), rate_type="float", kind="firm")
    return Quote(**{**base, **kw})  # type: ignore[arg-type]


def test_check_quote_accepts_honest_answers_within_precision() -> None:
    check_quote(_quote(), MARKET, D(1), "sell", reference=D(60500))
    check_quote(_quote(amount_in=D("0.99999999")), MARKET, D(1), "sell", reference=D(60500))
    check_quote(_quote(amount_in=D("1.23"), amount_out=D(70000)), MARKET, D("1.234"), "sell",
                quantum_in=D("0.01"), reference=D(60500))
    check_quote(_quote(fees=(Fee("network", D(1), "USDT"), Fee("provider", D("0.001"), "BTC"))),
                MARKET, D(1), "sell", reference=D(60500))
    check_quote(_quote(amount_in=D("0.0166"), amount_out=D("1000.01")), MARKET, D(1000), "buy",
                reference=D(60500))
    check_quote(_quote(expires_at=time.time() + 10), MARKET, D(1), "sell")
    check_quote(_quote(amount_out=D(88000)), MARKET, D(1), "sell", reference=D(60000))
    with pytest.raises(ImplausibleQuote):
        check_quote(_quote(amount_out=D(91000)), MARKET, D(1), "sell", reference=D(60000))


finite = st.decimals(allow_nan=True, allow_infinity=True)


@settings(database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(amount_in=finite, amount_out=finite, fee=finite, asked=st.decimals(min_value=D("1e-8"),
       max_value=D("1e9"), places=8), side=st.sampled_from(["sell", "buy"]),
       expires=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
       ref=st.one_of(st.none(), st.decimals(min_value=D("1e-9"), max_value=D("1e9"))))
def test_check_quote_only_ever_raises_implausible(
        amount_in: Decimal, amount_out: Decimal, fee: Decimal, asked: Decimal, side: Side,
        expires: float | None, ref: Decimal | None) -> None:
    q = _quote(amount_in=amount_in, amount_out=amount_out, expires_at=expires,
               fees=(Fee("network", fee, "USDT@TRC20"),))
    try:
        check_quote(q, MARKET, asked, side, reference=ref)
    except ImplausibleQuote:
        return
    assert amount_in.is_finite() and amount_out.is_finite() and amount_in > 0 and amount_out > 0
    assert fee.is_finite() and fee >= 0


@settings(database=None, max_examples=300)
@given(rate=st.one_of(st.none(), finite), margin=finite, fee=finite,
       lo=st.one_of(st.none(), finite), hi=st.one_of(st.none(), finite), quantum=finite)
def test_check_edge_never_raises(rate: Decimal | None, margin: Decimal, fee: Decimal,
                                 lo: Decimal | None, hi: Decimal | None, quantum: Decimal) -> None:
    e = Edge(market=MARKET, rate=rate, margin=margin, fee_out=fee, min_in=lo, max_in=hi,
             quantum_in=quantum)
    why = check_edge(e, D(60000))
    if why is None:
        assert rate is None or (rate.is_finite() and 0 < rate <= 90000)


@virtual_time
async def test_provider_error_subclasses_only_reach_unavailable() -> None:
    # whatever a source raises, the caller gets an answer (a source bug is provider_error)
    for error in (ProviderError("a", "x"), ValueError("bug"), ZeroDivisionError()):
        src = Scripted("a", BTC_USDT, D("60000"), script=lambda n, e=error: (0, e))
        async with Router([src]) as r:
            rs = await r.quote("BTC", "USDT", "1")
        assert ("a", "provider_error") in reasons(rs)
