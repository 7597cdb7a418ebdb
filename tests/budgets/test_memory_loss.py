"""A budget store that loses its memory mid-window does not let the next batch spend the window
again (issue 13).

Redis flushed (FLUSHALL, or a restart without persistence) and the local SQLite file deleted or
replaced while processes run both forget the grants of the last minute, which the provider still
counts. A store that notices treats every budget it touches as fully spent for one horizon from
the loss, and warns once. The store tests run on a fake clock (the Redis store sends its reading
instead of ``TIME``) against a private ``redis-server`` of this module, so a FLUSHALL here touches
no other test's keys. The end-to-end test runs four OS processes on one FixedFloat key against one
sandbox emulator, empties the store between two bursts, and counts what the emulator saw.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from router.budgets import BudgetPolicy, Decision, LocalBudgetStore, RedisBudgetStore
from tests.support.redis_server import redis_server
from tests.support.vclock import FakeClock

KEY, OTHER = "fixedfloat:fp0", "fixedfloat:fp1"
POLICY = BudgetPolicy(limit=10, margin=0.0, window=60.0, window_slack=1.0)  # horizon 61 s
LOST = "budget store lost its memory"


@pytest.fixture(scope="module")
def private_redis() -> Iterator[str]:
    """A ``redis-server`` of this module alone: the tests FLUSHALL it."""
    with redis_server() as url:
        yield url


async def _flushall(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushall()
    finally:
        await client.aclose()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bestrate.budgets" and r.levelno == logging.WARNING
            and LOST in r.getMessage()]


def _redis(url: str, clock: FakeClock | None, prefix: str) -> RedisBudgetStore:
    return RedisBudgetStore(url, prefix=prefix, clock=clock)


# --------------------------------------------------------------------------- Redis


async def test_redis_flushall_mid_window_refuses_until_one_horizon_passes(
        private_redis: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, prefix = FakeClock(), f"test-{uuid.uuid4().hex}"
    store = _redis(private_redis, clock, prefix)
    try:
        assert (await store.try_acquire(KEY, 4, POLICY)).ok
        assert (await store.try_acquire(OTHER, 1, POLICY)).ok
        clock.advance(10)
        await _flushall(private_redis)  # the 5 units booked are gone; the provider counts them
        # The old store granted 10 more here: 14 in one window.
        assert await store.try_acquire(KEY, 1, POLICY) == Decision(False, 61.0, "budget_exhausted")
        assert (await store.usage(KEY, POLICY)).used == POLICY.cap  # one synthetic full grant
        clock.advance(30)
        # The other key notices on its own, and is spent for one horizon from then: it cannot
        # tell this loss from a second one just before, which would have lost newer grants.
        refused = await store.try_acquire(OTHER, 1, POLICY)
        assert refused == Decision(False, 61.0, "budget_exhausted")
        assert await store.try_acquire(KEY, 1, POLICY) == Decision(False, 31.0,
                                                                    "budget_exhausted")
        clock.advance(31)  # one horizon after the loss was noticed on KEY
        assert (await store.try_acquire(KEY, 10, POLICY)).ok
        assert not (await store.try_acquire(OTHER, 1, POLICY)).ok
        clock.advance(30)
        assert (await store.try_acquire(OTHER, 10, POLICY)).ok
    finally:
        await store.aclose()
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings  # once per store, not per key or per call
    assert "treating every budget as spent until 1970-01-01T00:17:51" in warnings[0]  # 1010 + 61
    assert "127.0.0.1" not in warnings[0] and "redis://" not in warnings[0]  # never the URL


async def test_redis_every_store_that_saw_the_marker_stops_and_seeds_stack_not(
        private_redis: str, caplog: pytest.LogCaptureFixture) -> None:
    """Four processes: each one that had used the key notices (the first finds the marker
    missing, the others a different one) and they share one synthetic grant."""
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, prefix = FakeClock(), f"test-{uuid.uuid4().hex}"
    stores = [_redis(private_redis, clock, prefix) for _ in range(4)]
    try:
        for store in stores[:3]:
            assert (await store.try_acquire(KEY, 3, POLICY)).ok
        clock.advance(5)
        await _flushall(private_redis)
        assert (await stores[0].try_acquire(KEY, 1, POLICY)).retry_after == 61.0  # marker gone
        clock.advance(1)
        for store in stores[1:3]:  # marker different: the loss is dated when first noticed
            assert await store.try_acquire(KEY, 1, POLICY) == Decision(False, 60.0,
                                                                        "budget_exhausted")
        # A process that starts now cannot know, but finds the key spent all the same.
        assert await stores[3].try_acquire(KEY, 1, POLICY) == Decision(False, 60.0,
                                                                        "budget_exhausted")
        assert (await stores[3].usage(KEY, POLICY)).used == POLICY.cap  # one seed, not three
        assert await stores[1].penalize(KEY, POLICY) == 5.0  # penalize works behind the guard
    finally:
        for store in stores:
            await store.aclose()
    assert len(_warnings(caplog)) == 3  # one per store that saw it happen


async def test_redis_a_key_first_touched_after_the_loss_is_spent_too(
        private_redis: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, prefix = FakeClock(), f"test-{uuid.uuid4().hex}"
    store = _redis(private_redis, clock, prefix)
    try:
        assert (await store.try_acquire(KEY, 1, POLICY)).ok
        await _flushall(private_redis)
        assert not (await store.try_acquire(KEY, 1, POLICY)).ok
        clock.advance(20)
        # This store never used OTHER: what it lost there is unknown, so it is spent as well.
        assert await store.try_acquire(OTHER, 1, POLICY) == Decision(False, 41.0,
                                                                      "budget_exhausted")
        clock.advance(41)
        assert (await store.try_acquire(OTHER, 10, POLICY)).ok
    finally:
        await store.aclose()
    assert len(_warnings(caplog)) == 1


async def test_redis_a_later_loss_warns_again_and_redis_time_works(
        private_redis: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    prefix = f"test-{uuid.uuid4().hex}"
    store = _redis(private_redis, None, prefix)  # production: Redis's own TIME
    try:
        assert (await store.try_acquire(KEY, 1, POLICY)).ok
        await _flushall(private_redis)
        refused = await store.try_acquire(KEY, 1, POLICY)
        assert refused.reason == "budget_exhausted" and 60 < refused.retry_after <= 61
        assert len(_warnings(caplog)) == 1
    finally:
        await store.aclose()
    other = _redis(private_redis, None, prefix)  # another process, after the loss
    try:
        assert (await other.usage(KEY, POLICY)).used == POLICY.cap  # the seed is in Redis
    finally:
        await other.aclose()
    clock = FakeClock()
    store = _redis(private_redis, clock, f"test-{uuid.uuid4().hex}")
    try:
        await _flushall(private_redis)
        assert (await store.try_acquire(KEY, 1, POLICY)).ok  # first use: it cannot know
        await _flushall(private_redis)
        assert not (await store.try_acquire(KEY, 1, POLICY)).ok
        clock.advance(61)
        assert (await store.try_acquire(KEY, 1, POLICY)).ok
        await _flushall(private_redis)  # a second loss, after the first one is over
        assert not (await store.try_acquire(KEY, 1, POLICY)).ok
    finally:
        await store.aclose()
    assert len(_warnings(caplog)) == 3


async def test_redis_no_loss_no_warning_no_change(private_redis: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """A store that only comes and goes (a restart of bestrate, not of Redis) loses nothing."""
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, prefix = FakeClock(), f"test-{uuid.uuid4().hex}"
    for _ in range(3):
        store = _redis(private_redis, clock, prefix)
        assert (await store.try_acquire(KEY, 3, POLICY)).ok
        await store.aclose()
    store = _redis(private_redis, clock, prefix)
    assert (await store.usage(KEY, POLICY)).used == 9
    await store.aclose()
    assert _warnings(caplog) == []


# --------------------------------------------------------------------------- local SQLite


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def test_local_file_deleted_mid_window_refuses_until_one_horizon_passes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, path = FakeClock(), tmp_path / "budgets.sqlite3"
    first, second = LocalBudgetStore(path, clock=clock), LocalBudgetStore(path, clock=clock)
    try:
        assert (await first.try_acquire(KEY, 4, POLICY)).ok
        assert (await second.try_acquire(OTHER, 2, POLICY)).ok
        clock.advance(10)
        _delete(path)  # `rm -rf ~/.cache/bestrate` while both run
        # The old store wrote this grant to the deleted file, where no new process sees it.
        assert await first.try_acquire(KEY, 1, POLICY) == Decision(False, 61.0,
                                                                    "budget_exhausted")
        assert path.exists()  # recreated at the path, where every process will look
        clock.advance(1)
        # The other process notices too, and keeps the date the first one recorded.
        assert await second.try_acquire(KEY, 1, POLICY) == Decision(False, 60.0,
                                                                     "budget_exhausted")
        assert await second.try_acquire(OTHER, 1, POLICY) == Decision(False, 60.0,
                                                                       "budget_exhausted")
        assert (await second.usage(KEY, POLICY)).used == POLICY.cap  # one seed per key
        # A process that starts now finds the loss in the new file and the keys spent.
        fresh = LocalBudgetStore(path, clock=clock)
        assert not (await fresh.try_acquire(KEY, 1, POLICY)).ok
        await fresh.aclose()
        clock.advance(60)
        assert (await first.try_acquire(KEY, 10, POLICY)).ok
        assert (await second.try_acquire(OTHER, 10, POLICY)).ok
    finally:
        await first.aclose()
        await second.aclose()
    warnings = _warnings(caplog)
    assert len(warnings) == 2, warnings  # once per store
    assert all("treating every budget as spent until 1970-01-01T00:17:51" in w
               for w in warnings)


async def test_local_file_replaced_or_only_its_main_file_deleted(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, path = FakeClock(), tmp_path / "budgets.sqlite3"
    store = LocalBudgetStore(path, clock=clock)
    try:
        assert (await store.try_acquire(KEY, 4, POLICY)).ok
        other = tmp_path / "other.sqlite3"
        maker = LocalBudgetStore(other, clock=clock)
        await maker.check()
        await maker.aclose()
        os.replace(other, path)  # a restored backup, a sync tool: another inode at the path
        assert not (await store.try_acquire(KEY, 1, POLICY)).ok
        clock.advance(61)
        assert (await store.try_acquire(KEY, 4, POLICY)).ok
        path.unlink()  # `rm budgets.sqlite3`: the -wal and -shm files stay behind
        assert not (await store.try_acquire(KEY, 1, POLICY)).ok
        clock.advance(61)
        assert (await store.try_acquire(KEY, 10, POLICY)).ok
    finally:
        await store.aclose()
    assert len(_warnings(caplog)) == 2  # two losses


async def test_local_no_loss_no_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bestrate.budgets")
    clock, path = FakeClock(), tmp_path / "budgets.sqlite3"
    for _ in range(3):
        store = LocalBudgetStore(path, clock=clock)
        assert (await store.try_acquire(KEY, 3, POLICY)).ok
        await store.aclose()
    store = LocalBudgetStore(path, clock=clock)
    assert (await store.usage(KEY, POLICY)).used == 9
    await store.aclose()
    assert _warnings(caplog) == []


# --------------------------------------------------------------------------- end to end

PROCESSES = 4
QUOTES = 60  # per process and burst: 240+ units of demand, against 187 allowed for quotes
_ROOT = Path(__file__).resolve().parents[2]
_WORKER = "from tests.budgets.test_memory_loss import worker_main; worker_main()"


def worker_main() -> None:
    """One worker (``python -c``), config in ``sys.argv[1]``: warms, prints ``ready``, then for
    each of ``bursts`` bursts waits for a line on stdin, fires :data:`QUOTES` quotes and prints
    one JSON line of counts (with the memory-loss warnings logged so far)."""
    config = json.loads(sys.argv[1])
    asyncio.run(_bursts(config))


async def _bursts(config: dict[str, Any]) -> None:
    from adapters.registry import build_source, sandbox_values
    from router import Router
    from router.budgets import BudgetStore

    warned: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if LOST in record.getMessage():
                warned.append(record.getMessage())

    logging.getLogger("bestrate.budgets").addHandler(Count(logging.WARNING))
    source = build_source("fixedfloat", sandbox_values("fixedfloat", config["provider"]))
    store: BudgetStore
    if config["store"] == "redis":
        store = RedisBudgetStore.from_url(config["redis_url"], prefix=config["prefix"])
    else:
        store = LocalBudgetStore(config["path"])
    async with Router([source], budgets=store, cache=False, deadline=2.0) as router:
        await router.warm()
        print("ready", flush=True)
        for burst in range(config["bursts"]):
            await asyncio.to_thread(sys.stdin.readline)
            counts = await _one_burst(router, config["index"], burst)
            print(json.dumps({**counts, "warnings": len(warned)}), flush=True)


async def _one_burst(router: Any, index: int, burst: int) -> dict[str, int]:
    counts = {"quotes": 0, "firm": 0, "budget_exhausted": 0, "rate_limited": 0}
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        n = (burst * QUOTES + i) * 2 * PROCESSES + index  # a distinct amount everywhere
        async with gate:
            rs = await router.quote("BTC", "USDT@TRC20", Decimal("0.05") + Decimal(n) / 100_000,
                                    rate_type="float")
        counts["quotes"] += 1
        counts["firm"] += sum(1 for route in rs.routes for leg in route.legs
                              if leg.kind == "firm")
        for gap in rs.unavailable:
            if gap.reason in ("budget_exhausted", "rate_limited"):
                counts[gap.reason] += 1

    await asyncio.gather(*(one(i) for i in range(QUOTES)))
    return counts


async def _start(provider: dict[str, str], first: int, bursts: int,
                 config: dict[str, Any]) -> list[asyncio.subprocess.Process]:
    from tests.budgets.test_processes import _expect_line

    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WORKER,
        json.dumps({"provider": provider, "index": i, "bursts": bursts, **config}),
        cwd=_ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE) for i in range(first, first + PROCESSES)]
    for proc in procs:
        assert await _expect_line(proc) == "ready"
    return procs


async def _burst(procs: list[asyncio.subprocess.Process]) -> list[dict[str, int]]:
    from tests.budgets.test_processes import _expect_line

    for proc in procs:  # all warm: start them at once
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    return [json.loads(await _expect_line(proc)) for proc in procs]


async def _fleet_with_a_loss(provider: dict[str, str], lose: Any,
                             config: dict[str, Any]) -> list[list[dict[str, int]]]:
    """:data:`PROCESSES` workers fire a burst; ``await lose()``; they fire a second burst; then
    :data:`PROCESSES` new workers start and fire one. The counts of the three bursts."""
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with asyncio.timeout(90):
            procs += await _start(provider, 0, 2, config)
            bursts = [await _burst(procs)]
            await lose()
            bursts.append(await _burst(procs))
            late = await _start(provider, PROCESSES, 1, config)  # they cannot know
            procs += late
            bursts.append(await _burst(late))
            for proc in procs:
                assert await proc.wait() == 0
    finally:
        for proc in procs:  # only on failure is any still running
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return bursts


@pytest.mark.parametrize("kind", ["redis", "local"])
async def test_four_processes_do_not_overrun_after_the_store_loses_its_memory(
        kind: str, private_redis: str, tmp_path: Path) -> None:
    from bench.sandbox import Sandbox
    from tests.budgets.test_processes import _stats

    path = tmp_path / "budgets.sqlite3"

    async def lose() -> None:
        if kind == "redis":
            await _flushall(private_redis)
        else:
            _delete(path)

    config: dict[str, Any] = (
        {"store": "redis", "redis_url": private_redis, "prefix": f"test-{uuid.uuid4().hex}"}
        if kind == "redis" else {"store": "local", "path": str(path)})
    async with Sandbox(seed=1, frozen=True) as sb:
        provider = sb.providers["fixedfloat"]
        first, second, late = await _fleet_with_a_loss(provider, lose, config)
        stats = await _stats(provider["base_url"])
    figures = {"units": stats["units"], "rate_limited": stats["rate_limited"],
               "blocks": stats["blocks"],
               "firm": [sum(r["firm"] for r in b) for b in (first, second, late)],
               "refused_by_budget": [sum(r["budget_exhausted"] for r in b)
                                     for b in (first, second, late)]}
    print(f"\n{kind}: {figures}")  # the figures the README quotes (pytest -s shows them)
    assert sum(r["firm"] for r in first) >= 150  # the first burst spent the budget
    # The whole run is within one minute of the emulator's window: neither the processes that
    # saw the loss nor those started after it may spend it again. The provider never had to
    # refuse, so it never blocked the key.
    assert stats["rate_limited"] == 0 and stats["blocks"] == 0, figures
    assert stats["units"] <= 187, figures  # the policy allows quotes 187 units a window
    assert sum(r["firm"] for r in second + late) == 0, figures
    assert sum(r["rate_limited"] for r in first + second + late) == 0
    assert [r["warnings"] for r in first] == [0] * PROCESSES
    assert [r["warnings"] for r in second] == [1] * PROCESSES  # each process warned, once
    assert [r["warnings"] for r in late] == [0] * PROCESSES  # nothing was lost since they began
