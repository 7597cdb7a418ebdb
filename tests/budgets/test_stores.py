"""Tests for :mod:`router.budgets`.

Store tests run against every store in ``store_factory`` (memory, and Redis on a private
``redis-server``: skipped when none is installed) with a fake clock; the Redis store sends the
fake clock's reading instead of reading ``TIME``. The property tests run their full example
counts on Redis too: a round trip is ~0.1 ms on loopback, so all three take ~3 s there.
Budget tests run on :class:`VirtualTimeLoop`: its clock jumps forward whenever the loop would
otherwise wait, so timers fire at once in real time and at exact loop times.

Property tests draw times as multiples of 1/64 s and windows as multiples of 1/4 s: such floats
add and subtract exactly, so the oracle below is exact rather than approximately right.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from router.budgets import (
    Budget,
    BudgetPolicy,
    BudgetRegistry,
    BudgetStore,
    BudgetUsage,
    Decision,
    LocalBudgetStore,
    MemoryBudgetStore,
    RedisBudgetStore,
    budget_deadline,
)
from router.errors import BudgetExhausted, ConfigError, InvalidRequest, RateLimited
from tests.support.vclock import FakeClock, VirtualTimeLoop, virtual_time

KEY = "fixedfloat:fp0"


# --------------------------------------------------------------------------- fixtures


@dataclasses.dataclass(frozen=True)
class StoreFactory:
    """Builds a store of one ``kind`` on a given clock; every Redis store gets fresh keys."""

    kind: str
    make: Callable[[Callable[[], float]], BudgetStore]

    def __call__(self, clock: Callable[[], float]) -> BudgetStore:
        return self.make(clock)


@pytest.fixture(params=["memory", "local", "redis"], scope="module")
def store_factory(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> StoreFactory:
    """Every store, each on an injected clock (the Redis store sends it instead of ``TIME``);
    every local store gets a fresh file."""
    if request.param == "memory":
        return StoreFactory("memory", lambda clock: MemoryBudgetStore(clock=clock))
    if request.param == "local":
        root = tmp_path_factory.mktemp("budgets")
        return StoreFactory("local", lambda clock: LocalBudgetStore(
            root / f"{uuid.uuid4().hex}.sqlite3", clock=clock))
    url: str = request.getfixturevalue("redis_url")  # skips when redis-server is missing
    return StoreFactory("redis", lambda clock: RedisBudgetStore(
        url, prefix=f"test-{uuid.uuid4().hex}", clock=clock))


def _policy(limit: int = 10, **kw: Any) -> BudgetPolicy:
    kw.setdefault("margin", 0.0)
    return BudgetPolicy(limit=limit, **kw)


# --------------------------------------------------------------------------- policy


def test_policy_cap_is_limit_less_the_rounded_up_margin() -> None:
    assert BudgetPolicy(limit=250).cap == 237  # FixedFloat: 250 - ceil(12.5)
    assert BudgetPolicy(limit=250, reserve=50).allowed() == 187
    assert BudgetPolicy(limit=250, reserve=50).allowed(reserved=True) == 237
    assert BudgetPolicy(limit=100, margin=0.07).cap == 93  # 100 * 0.07 is 7.000000000000001
    assert BudgetPolicy(limit=1, margin=0.0).cap == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": 10.0}, "limit"),
        ({"limit": 10, "window": 0}, "window"),
        ({"limit": 10, "window": math.inf}, "window"),
        ({"limit": 10, "margin": 1.0}, "margin"),
        ({"limit": 10, "margin": -0.1}, "margin"),
        ({"limit": 1, "margin": 0.5}, "margin"),
        ({"limit": 10, "margin": 0.0, "reserve": 10}, "reserve"),
        ({"limit": 10, "reserve": -1}, "reserve"),
        ({"limit": 10, "window_slack": -1}, "window_slack"),
        ({"limit": 10, "penalty_base": 0}, "penalty_base"),
        ({"limit": 10, "penalty_factor": 0.5}, "penalty_factor"),
        ({"limit": 10, "penalty_max": 1.0}, "penalty_max"),
        ({"limit": 10, "penalty_decay": math.nan}, "penalty_decay"),
    ],
)
def test_policy_rejects_bad_values(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        BudgetPolicy(**kwargs)
    assert info.value.field == field
    assert info.value.allowed


def test_memory_store_implements_the_protocol() -> None:
    assert isinstance(MemoryBudgetStore(), BudgetStore)


# --------------------------------------------------------------------------- store properties


@st.composite
def policies(draw: st.DrawFn) -> BudgetPolicy:
    margin = draw(st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5]))
    window = draw(st.integers(1, 480)) / 4
    slack = draw(st.integers(0, 8)) / 4
    try:
        policy = BudgetPolicy(limit=draw(st.integers(1, 300)), window=window, margin=margin,
                              window_slack=slack)
    except ConfigError:
        assume(False)
        raise  # pragma: no cover
    return dataclasses.replace(policy, reserve=draw(st.integers(0, policy.cap - 1)))


steps = st.lists(
    st.tuples(
        st.integers(0, 30 * 64).map(lambda n: n / 64),  # advance the clock by this much
        st.integers(1, 60),  # cost
        st.booleans(),  # reserved
        st.booleans(),  # on refusal, wait exactly retry_after and ask again
    ),
    max_size=60,
)
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _spent(grants: list[tuple[float, int, bool]], after: float, until: float,
           *, closed: bool = False) -> int:
    """Units granted at ``t`` with ``after < t <= until`` (``after <= t`` if ``closed``)."""
    return sum(c for t, c, _ in grants if (after <= t if closed else after < t) and t <= until)


@PROPERTY
@given(policy=policies(), ops=steps)
async def test_store_is_safe_live_and_exact(
    store_factory: StoreFactory, policy: BudgetPolicy, ops: list[tuple[float, int, bool, bool]]
) -> None:
    clock = FakeClock()
    store = store_factory(clock)
    horizon = policy.window + policy.window_slack
    grants: list[tuple[float, int, bool]] = []
    try:
        for advance, cost, reserved, retry in ops:
            clock.advance(advance)
            now = clock.now
            allowed = policy.cap - (0 if reserved else policy.reserve)
            decision = await store.try_acquire(KEY, cost, policy, reserved=reserved)
            if cost > allowed:
                assert decision == Decision(False, math.inf, "too_large")
                continue
            used = _spent(grants, now - horizon, now)
            # Safety and liveness at once: granted exactly when there was room.
            assert decision.ok == (used + cost <= allowed), (used, cost, allowed, decision)
            if decision.ok:
                assert decision == Decision(True, 0.0, "")
                grants.append((now, cost, reserved))
                continue
            assert decision.reason == "budget_exhausted"
            later = now + decision.retry_after
            # Exact: there is room at `later`, and there was none an instant before.
            assert _spent(grants, later - horizon, later) + cost <= allowed
            assert _spent(grants, later - horizon, later, closed=True) + cost > allowed
            if retry:
                clock.advance(decision.retry_after)
                again = await store.try_acquire(KEY, cost, policy, reserved=reserved)
                assert again.ok
                grants.append((clock.now, cost, reserved))
        usage = await store.usage(KEY, policy)
        assert usage.used == _spent(grants, clock.now - horizon, clock.now)
    finally:
        await store.aclose()
    # Safety in the provider's own terms: no window of `window` seconds holds more than the cap.
    for i, (t, _, reserved) in enumerate(grants):
        total = _spent(grants, t - policy.window, t)
        assert total <= policy.cap <= policy.limit
        if not reserved:  # a normal call never eats into the reserve
            assert _spent(grants[: i + 1], t - policy.window, t) <= policy.cap - policy.reserve


def _decimal_seconds(low: float, high: float) -> st.SearchStrategy[float]:
    """Times with seven decimals (12.3456789): unlike dyadic ones, they round when added."""
    return st.integers(round(low * 10**7), round(high * 10**7)).map(lambda n: n / 10**7)


@settings(max_examples=300, deadline=None)
@given(
    start=st.one_of(_decimal_seconds(0, 100), _decimal_seconds(0, 1e7)),
    window=_decimal_seconds(0.001, 600),
    slack=_decimal_seconds(0, 5),
    ops=st.lists(st.tuples(_decimal_seconds(0, 30), st.integers(1, 20)), min_size=1,
                 max_size=40),
)
async def test_waiting_retry_after_always_suffices_with_arbitrary_floats(
    store_factory: StoreFactory, start: float, window: float, slack: float,
    ops: list[tuple[float, int]],
) -> None:
    clock = FakeClock(start)
    store = store_factory(clock)
    policy = _policy(limit=20, window=window, window_slack=slack)
    try:
        for advance, cost in ops:
            clock.advance(advance)
            decision = await store.try_acquire(KEY, cost, policy)
            if not decision.ok:
                assert decision.reason == "budget_exhausted"
                assert 0 < decision.retry_after <= window + slack + 1e-6 * max(1.0, start)
                clock.advance(decision.retry_after)
                assert (await store.try_acquire(KEY, cost, policy)).ok
    finally:
        await store.aclose()


@settings(max_examples=500, deadline=None)
@given(
    start=_decimal_seconds(0, 100),
    window=_decimal_seconds(0.001, 600),
    slack=_decimal_seconds(0, 5),
    wait=_decimal_seconds(0, 600),
)
async def test_retry_after_reaches_the_instant_the_units_free(
    store_factory: StoreFactory, start: float, window: float, slack: float, wait: float
) -> None:
    clock = FakeClock(start)
    store = store_factory(clock)
    policy = _policy(limit=1, window=window, window_slack=slack)
    try:
        assert (await store.try_acquire(KEY, 1, policy)).ok
        clock.advance(wait)
        decision = await store.try_acquire(KEY, 1, policy)
        if not decision.ok:
            clock.advance(decision.retry_after)
            assert (await store.try_acquire(KEY, 1, policy)).ok
    finally:
        await store.aclose()


# --------------------------------------------------------------------------- store examples


async def test_reserve_is_only_for_reserved_calls(store_factory: StoreFactory) -> None:
    store = store_factory(FakeClock())
    policy = _policy(limit=100, reserve=20)
    assert (await store.try_acquire(KEY, 80, policy)).ok
    refused = await store.try_acquire(KEY, 1, policy)
    assert (refused.ok, refused.reason) == (False, "budget_exhausted")
    assert (await store.try_acquire(KEY, 20, policy, reserved=True)).ok
    assert not (await store.try_acquire(KEY, 1, policy, reserved=True)).ok
    assert await store.usage(KEY, policy) == BudgetUsage(100, 100, 0, 0.0, 0)
    await store.aclose()


async def test_too_large_never_fits(store_factory: StoreFactory) -> None:
    store = store_factory(FakeClock())
    policy = _policy(limit=100, reserve=20)
    assert await store.try_acquire(KEY, 81, policy) == Decision(False, math.inf, "too_large")
    assert (await store.try_acquire(KEY, 81, policy, reserved=True)).ok
    assert (await store.try_acquire("other:key", 101, policy, reserved=True)).reason == "too_large"
    await store.aclose()


async def test_keys_are_independent(store_factory: StoreFactory) -> None:
    store = store_factory(FakeClock())
    policy = _policy(limit=5)
    assert (await store.try_acquire("a:1", 5, policy)).ok
    assert (await store.try_acquire("a:2", 5, policy)).ok
    assert not (await store.try_acquire("a:1", 1, policy)).ok
    await store.aclose()


@pytest.mark.parametrize("cost", [0, -1, True, 1.5])
async def test_bad_cost_is_refused(store_factory: StoreFactory, cost: Any) -> None:
    store = store_factory(FakeClock())
    with pytest.raises(InvalidRequest):
        await store.try_acquire(KEY, cost, _policy())
    await store.aclose()


async def test_closed_store_refuses_use(store_factory: StoreFactory) -> None:
    store = store_factory(FakeClock())
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(RuntimeError):
        await store.try_acquire(KEY, 1, _policy())


async def test_penalty_escalates_to_the_cap(store_factory: StoreFactory) -> None:
    clock = FakeClock()
    store = store_factory(clock)
    policy = _policy()
    pauses = []
    for _ in range(10):
        pause = await store.penalize(KEY, policy)
        pauses.append(pause)
        clock.advance(pause)  # offend again the moment the pause ends
    assert pauses == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert (await store.usage(KEY, policy)).penalty_level == 10
    await store.aclose()


async def test_paused_calls_are_rate_limited_for_the_rest_of_the_pause(
    store_factory: StoreFactory,
) -> None:
    clock = FakeClock()
    store = store_factory(clock)
    policy = _policy()
    assert await store.penalize(KEY, policy) == 5.0
    clock.advance(2)
    assert await store.try_acquire(KEY, 1, policy) == Decision(False, 3.0, "rate_limited")
    assert await store.try_acquire(KEY, 1, policy, reserved=True) == Decision(
        False, 3.0, "rate_limited")
    assert await store.usage(KEY, policy) == BudgetUsage(0, 10, 10, 3.0, 1)
    clock.advance(3)
    assert (await store.try_acquire(KEY, 1, policy)).ok
    await store.aclose()


async def test_provider_retry_after_wins_when_longer(store_factory: StoreFactory) -> None:
    clock = FakeClock()
    store = store_factory(clock)
    policy = _policy()
    assert await store.penalize(KEY, policy, retry_after=1.0) == 5.0
    clock.advance(5)
    assert await store.penalize(KEY, policy, retry_after=30.0) == 30.0
    # A later, shorter offence does not cut the running pause short.
    assert await store.penalize(KEY, policy) == 30.0
    assert (await store.usage(KEY, policy)).penalty_level == 3
    assert await store.penalize("other:key", policy, retry_after=math.nan) == 5.0
    await store.aclose()


async def test_penalty_level_decays_after_a_quiet_period(store_factory: StoreFactory) -> None:
    clock = FakeClock()
    store = store_factory(clock)
    policy = _policy(penalty_decay=600)
    assert await store.penalize(KEY, policy) == 5
    clock.advance(5 + 599.5)  # quiet, but not for 600 s after the pause ended
    assert await store.penalize(KEY, policy) == 10
    clock.advance(10 + 600)
    assert (await store.usage(KEY, policy)).penalty_level == 0
    assert await store.penalize(KEY, policy) == 5
    await store.aclose()


# --------------------------------------------------------------------------- Redis store only


def _redis_store(url: str, clock: Callable[[], float] | None = None,
                 prefix: str | None = None) -> RedisBudgetStore:
    return RedisBudgetStore.from_url(url, prefix=prefix or f"test-{uuid.uuid4().hex}",
                                     clock=clock)


async def test_redis_store_implements_the_protocol() -> None:
    store = RedisBudgetStore("redis://127.0.0.1:1/0")  # no connection until first use
    assert isinstance(store, BudgetStore)
    assert "127.0.0.1" not in repr(store)  # a URL may hold a password
    await store.aclose()


@pytest.mark.parametrize("prefix", ["", "a{b", "a}b"])
def test_redis_prefix_must_keep_the_hash_tag_intact(prefix: str) -> None:
    with pytest.raises(ConfigError):
        RedisBudgetStore("redis://127.0.0.1:1/0", prefix=prefix)


async def test_redis_penalty_survives_a_new_store(redis_url: str) -> None:
    clock = FakeClock()
    prefix = f"test-{uuid.uuid4().hex}"
    policy = _policy()
    first = _redis_store(redis_url, clock, prefix)
    assert await first.penalize(KEY, policy) == 5.0
    assert (await first.try_acquire(KEY, 4, policy)).ok is False
    await first.aclose()
    clock.advance(2)
    again = _redis_store(redis_url, clock, prefix)  # a restart, or another process
    assert await again.try_acquire(KEY, 1, policy) == Decision(False, 3.0, "rate_limited")
    assert await again.penalize(KEY, policy) == 10.0  # the level was kept too: 5 * 2 ** 1
    await again.aclose()
    # With Redis's own clock (production): the pause holds across store objects as well.
    prefix = f"test-{uuid.uuid4().hex}"
    live = _redis_store(redis_url, prefix=prefix)
    assert await live.penalize(KEY, policy, retry_after=30) == 30.0
    await live.aclose()
    other = _redis_store(redis_url, prefix=prefix)
    refused = await other.try_acquire(KEY, 1, policy)
    assert refused.reason == "rate_limited" and 25 < refused.retry_after <= 30
    assert (await other.usage(KEY, policy)).penalty_level == 1
    await other.aclose()


@st.composite
def penalty_policies(draw: st.DrawFn) -> BudgetPolicy:
    base = draw(st.sampled_from([0.25, 1, 5.0, 0.1]))
    return dataclasses.replace(
        draw(policies()), penalty_base=base,
        penalty_factor=draw(st.sampled_from([1, 1.5, 2, 3, 2.0, 1.1])),
        penalty_max=base * draw(st.sampled_from([1, 7, 100, 1e6])),
        penalty_decay=draw(st.sampled_from([0, 0.25, 3.0, 10, 600])))


store_ops = st.lists(
    st.one_of(
        st.tuples(st.just("acquire"), st.integers(1, 60), st.booleans()),
        st.tuples(st.just("penalize"), st.one_of(
            st.none(), _decimal_seconds(0, 40), st.sampled_from([-1.0, math.nan, math.inf]))),
        st.tuples(st.just("usage")),
    ).flatmap(lambda op: st.tuples(
        st.one_of(st.integers(0, 20 * 64).map(lambda n: n / 64), _decimal_seconds(0, 20)),
        st.just(op))),
    max_size=50,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=penalty_policies(), ops=store_ops)
async def test_redis_store_answers_exactly_as_the_memory_store(
    redis_url: str, policy: BudgetPolicy, ops: list[tuple[float, tuple[Any, ...]]]
) -> None:
    clock = FakeClock()
    memory = MemoryBudgetStore(clock=clock)
    shared = _redis_store(redis_url, clock)
    try:
        for advance, (name, *args) in ops:
            clock.advance(advance)
            if name == "acquire":
                cost, reserved = args
                answers = [await s.try_acquire(KEY, cost, policy, reserved=reserved)
                           for s in (memory, shared)]
            elif name == "penalize":
                answers = [await s.penalize(KEY, policy, *args) for s in (memory, shared)]
            else:
                answers = [await s.usage(KEY, policy) for s in (memory, shared)]
            assert answers[0] == answers[1], (name, args)
    finally:
        await memory.aclose()
        await shared.aclose()


@pytest.mark.parametrize("factor", [1.1, 3, 1.0])
async def test_redis_penalty_matches_the_memory_store_at_every_level(
    redis_url: str, factor: float
) -> None:
    """Past the precomputed table (64 levels) the script falls back to ``base * factor ^ level``."""
    clock = FakeClock()
    policy = _policy(penalty_base=0.3, penalty_factor=factor, penalty_max=1e6)
    stores = [MemoryBudgetStore(clock=clock), _redis_store(redis_url, clock)]
    try:
        for _ in range(150):
            pauses = [await s.penalize(KEY, policy) for s in stores]
            assert pauses[0] == pauses[1]
            clock.advance(pauses[0] / 3)
        assert [await s.usage(KEY, policy) for s in stores] == [
            await stores[0].usage(KEY, policy)] * 2
        assert (await stores[1].usage(KEY, policy)).penalty_level == 150
    finally:
        for store in stores:
            await store.aclose()


async def test_redis_keys_are_hash_tagged_and_expire(redis_url: str) -> None:
    from redis.asyncio import Redis
    from redis.crc import key_slot

    prefix = f"test-{uuid.uuid4().hex}"
    store = _redis_store(redis_url, FakeClock(), prefix)
    policy = _policy(window=30, window_slack=1, penalty_decay=600)
    assert (await store.try_acquire(KEY, 3, policy)).ok
    assert await store.penalize(KEY, policy, retry_after=20) == 20
    await store.aclose()
    tag = f"{{{prefix}:{KEY}}}"
    epoch, log, penalty = f"{tag}:epoch", f"{tag}:log", f"{tag}:penalty"
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        assert sorted([k async for k in client.scan_iter(match=f"{{{prefix}:*")]) == [
            epoch, log, penalty]
        assert key_slot(log.encode()) == key_slot(penalty.encode()) == key_slot(epoch.encode())
        assert await client.pttl(epoch) == -1  # the memory-loss marker never expires
        assert await client.zcard(log) == 1
        assert await client.hgetall(penalty) == {"paused_until": "1020", "level": "1"}
        # The log matters for one horizon after the last grant; the penalty until the pause
        # is over and the level forgiven. Each gets one second of grace.
        assert 30_000 < await client.pttl(log) <= 31_000 + 1_000
        assert 600_000 < await client.pttl(penalty) <= (20 + 600) * 1_000 + 1_000
    finally:
        await client.aclose()


async def test_redis_concurrent_acquires_never_overspend(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    # Four store objects (four connection pools, as four processes would have), Redis's clock.
    stores = [_redis_store(redis_url, prefix=prefix) for _ in range(4)]
    policy = _policy(limit=50, window=60)
    decisions = await asyncio.gather(
        *(stores[i % 4].try_acquire(KEY, 1, policy) for i in range(200)))
    assert sum(d.ok for d in decisions) == 50
    assert all(d.reason == "budget_exhausted" and 0 < d.retry_after <= 61
               for d in decisions if not d.ok)
    assert await stores[0].usage(KEY, policy) == BudgetUsage(50, 50, 0, 0.0, 0)
    for store in stores:
        await store.aclose()


async def test_redis_store_reloads_its_scripts_and_leaves_a_given_client_open(
    redis_url: str,
) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    store = RedisBudgetStore(client, prefix=f"test-{uuid.uuid4().hex}")
    policy = _policy()
    assert (await store.try_acquire(KEY, 1, policy)).ok
    await client.script_flush()  # as after a server restart: EVALSHA fails, the store reloads
    assert (await store.try_acquire(KEY, 1, policy)).ok
    assert (await store.usage(KEY, policy)).used == 2
    await store.aclose()
    with pytest.raises(RuntimeError):
        await store.usage(KEY, policy)
    assert await client.ping()  # not the store's to close
    await client.aclose()


# --------------------------------------------------------------------------- Budget


def _loop() -> VirtualTimeLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeLoop)
    return loop


def _budget(loop: asyncio.AbstractEventLoop, **kw: Any) -> Budget:
    store = MemoryBudgetStore(clock=loop.time)
    return Budget(store, "fixedfloat", "SECRETFP", _policy(**kw))


@virtual_time
async def test_no_wait_without_deadline_or_timeout() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    with pytest.raises(BudgetExhausted) as info:
        await budget.acquire()
    assert info.value.retry_after == 61.0
    assert info.value.provider == "fixedfloat"
    assert "SECRETFP" not in str(info.value)
    assert loop.time() == start
    assert budget.waiting == 0


@virtual_time
async def test_waiter_blocks_until_the_window_frees() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    task = asyncio.create_task(budget.acquire(4, timeout=120))
    await asyncio.sleep(60.9)
    assert not task.done()
    assert budget.waiting == 1
    await task
    assert loop.time() == start + 61
    assert (await budget.usage()).used == 4
    assert budget.waiting == 0


@virtual_time
async def test_several_waiters_are_served_in_turn() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    done_at: dict[str, float] = {}

    async def wait(name: str) -> None:
        await budget.acquire(4, timeout=math.inf)
        done_at[name] = loop.time() - start

    await asyncio.gather(wait("a"), wait("b"), wait("c"))
    # a and b fit when the first 10 units expire; c waits for a's units to expire too.
    assert done_at == {"a": 61.0, "b": 61.0, "c": 122.0}
    assert budget.waiting == 0


@virtual_time
async def test_cancelled_waiter_leaks_nothing_and_blocks_nobody() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(5)
    await asyncio.sleep(10)
    await budget.acquire(5)
    first = asyncio.create_task(budget.acquire(3, timeout=1000))  # due at +61
    second = asyncio.create_task(budget.acquire(8, timeout=1000))  # due at +71
    await asyncio.sleep(10)
    assert budget.waiting == 2
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert budget.waiting == 1
    assert _loop().pending_timers() == [start + 71]  # re-armed for the next waiter
    await second
    assert loop.time() == start + 71
    assert budget.waiting == 0
    assert (await budget.usage()).used == 8  # the cancelled waiter took nothing


@virtual_time
async def test_cancelling_the_only_waiter_then_waiting_again() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    task = asyncio.create_task(budget.acquire(1, timeout=1000))
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert budget.waiting == 0
    assert _loop().pending_timers() == []  # no stale timer left behind
    await budget.acquire(1, timeout=1000)
    assert loop.time() == start + 61


@virtual_time
async def test_woken_waiter_asks_again_and_requeues() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    task = asyncio.create_task(budget.acquire(5, timeout=1000))  # due at +61
    await asyncio.sleep(50)
    assert await budget.penalize(retry_after=20) == 20  # paused until +70
    await task
    assert loop.time() == start + 70


@virtual_time
async def test_timeout_too_short_raises_at_once_with_retry_after() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    await asyncio.sleep(1)
    with pytest.raises(BudgetExhausted) as info:
        await budget.acquire(1, timeout=59.5)
    assert info.value.retry_after == 60.0
    assert loop.time() == start + 1  # it did not wait in vain


@virtual_time
async def test_timeout_runs_out_after_a_requeue() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    task = asyncio.create_task(budget.acquire(5, timeout=65))  # due at +61, allowed until +65
    await asyncio.sleep(50)
    await budget.penalize(retry_after=20)
    with pytest.raises(RateLimited) as info:
        await task
    assert type(info.value) is RateLimited
    assert info.value.retry_after == 9.0
    assert loop.time() == start + 61


@virtual_time
async def test_budget_deadline_bounds_the_wait() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    await budget.acquire(10)
    token = budget_deadline.set(start + 30)
    try:
        with pytest.raises(BudgetExhausted):
            await budget.acquire()
        assert loop.time() == start
        budget_deadline.set(start + 100)
        with pytest.raises(BudgetExhausted):
            await budget.acquire(timeout=0)  # an explicit timeout overrides the deadline
        await budget.acquire()
        assert loop.time() == start + 61
        budget_deadline.set(start)  # a deadline already past: no wait
        with pytest.raises(BudgetExhausted):
            await budget.acquire(10)
    finally:
        budget_deadline.reset(token)


@virtual_time
async def test_pause_raises_rate_limited_or_waits() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop)
    start = loop.time()
    assert await budget.penalize() == 5
    with pytest.raises(RateLimited) as info:
        await budget.acquire()
    assert type(info.value) is RateLimited
    assert info.value.retry_after == 5
    assert "SECRETFP" not in str(info.value)
    await budget.acquire(timeout=10)
    assert loop.time() == start + 5


@virtual_time
async def test_too_large_raises_without_retry_after() -> None:
    loop = asyncio.get_running_loop()
    budget = _budget(loop, reserve=2)
    with pytest.raises(BudgetExhausted) as info:
        await budget.acquire(9, timeout=math.inf)
    assert info.value.retry_after is None
    await budget.acquire(9, reserved=True)


@virtual_time
async def test_registry_hands_out_one_budget_per_key() -> None:
    loop = asyncio.get_running_loop()
    store = MemoryBudgetStore(clock=loop.time)
    registry = BudgetRegistry(store)
    assert registry.store is store
    policy = _policy()
    first = registry.get("fixedfloat", "fp1", policy)
    assert registry.get("fixedfloat", "fp1", _policy()) is first
    assert first.key == "fixedfloat:fp1" and first.provider == "fixedfloat"
    assert registry.get("fixedfloat", "fp2", policy) is not first
    with pytest.raises(ConfigError):
        registry.get("fixedfloat", "fp1", _policy(limit=11))
    await registry.aclose()
    await registry.aclose()
    with pytest.raises(RuntimeError):
        registry.get("fixedfloat", "fp1", policy)
    with pytest.raises(RuntimeError):
        await store.try_acquire("fixedfloat:fp1", 1, policy)


def test_registry_defaults_to_a_memory_store() -> None:
    assert isinstance(BudgetRegistry().store, MemoryBudgetStore)
