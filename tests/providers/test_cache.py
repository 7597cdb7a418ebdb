"""The one TTL cache every provider uses: single flight, expiry on a fake clock, failures, policy."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from adapters.cache import KeyedTtlCache, TtlCache
from router.errors import (
    AuthError,
    PermanentError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from tests.support.vclock import FakeClock


class Fetcher:
    """A fetch that answers from a script, one item per call, each after ``gate`` opens.

    An item that is an exception is raised; anything else is returned as is.
    """

    def __init__(self, *answers: Any, clock: FakeClock | None = None, takes: float = 0.0) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.running = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.clock = clock
        self.takes = takes  # fake seconds one fetch lasts
        self.cancelled = 0

    async def __call__(self) -> Any:
        self.calls += 1
        self.running += 1
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        if self.clock is not None:
            self.clock.advance(self.takes)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def down(**kw: Any) -> ProviderUnavailable:
    return ProviderUnavailable("p", "down", **kw)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# -- single flight ------------------------------------------------------------------------------
async def test_concurrent_callers_share_one_fetch() -> None:
    value = ["v"]
    fetch = Fetcher(value)
    fetch.gate.clear()
    cache: TtlCache[list[str]] = TtlCache(fetch, ttl=10, clock=FakeClock())
    waiters = [asyncio.create_task(cache.get()) for _ in range(20)]
    await settle()
    assert fetch.calls == 1 and fetch.running == 1
    fetch.gate.set()
    got = await asyncio.gather(*waiters)
    assert all(v is value for v in got) and fetch.calls == 1 and cache.fetches == 1
    await cache.aclose()


async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch() -> None:
    fetch = Fetcher("v")
    fetch.gate.clear()
    cache: TtlCache[str] = TtlCache(fetch, ttl=10, clock=FakeClock())
    first = asyncio.create_task(cache.get())
    second = asyncio.create_task(cache.get())
    await settle()
    first.cancel()
    await settle()
    fetch.gate.set()
    assert await second == "v"
    assert first.cancelled() and fetch.cancelled == 0 and fetch.calls == 1
    await cache.aclose()


async def test_every_waiter_gets_the_error_of_the_shared_fetch() -> None:
    fetch = Fetcher(AuthError("p", "bad key"))
    fetch.gate.clear()
    cache: TtlCache[str] = TtlCache(fetch, ttl=10, clock=FakeClock())
    waiters = [asyncio.create_task(cache.get()) for _ in range(5)]
    await settle()
    fetch.gate.set()
    got = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, AuthError) for r in got) and fetch.calls == 1
    await cache.aclose()


# -- expiry ---------------------------------------------------------------------------------------
async def test_fresh_for_ttl_then_fetched_again() -> None:
    clock = FakeClock()
    fetch = Fetcher("a", "b")
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, clock=clock)
    assert cache.peek() is None and cache.last is None and cache.fetched_at is None
    assert await cache.get() == "a" and cache.fetched_at == clock.now
    clock.advance(59.9)
    assert await cache.get() == "a" and fetch.calls == 1
    assert cache.peek() == "a" and not cache.expired()
    clock.advance(0.1)  # exactly ttl: due
    assert cache.expired()
    assert await cache.get() == "b" and fetch.calls == 2
    await cache.aclose()


async def test_ttl_counts_from_the_end_of_the_fetch_or_from_its_start() -> None:
    for from_start, due_after in ((False, 15.0), (True, 10.0)):
        clock = FakeClock()
        fetch = Fetcher("a", "b", clock=clock, takes=5.0)  # each fetch lasts 5 fake seconds
        cache: TtlCache[str] = TtlCache(fetch, ttl=10, from_start=from_start, clock=clock)
        await cache.get()  # started at 1000, ended at 1005
        clock.now = 1000 + due_after - 0.5
        await cache.get()
        assert fetch.calls == 1
        clock.now = 1000 + due_after
        await cache.get()
        assert fetch.calls == 2, from_start
        assert cache.fetched_at == clock.now  # the end of the fetch (the fetcher moved the clock)
        await cache.aclose()


async def test_fresh_skips_the_cache_but_shares_a_fetch_in_flight() -> None:
    fetch = Fetcher("a", "b", "c")
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, clock=FakeClock())
    assert await cache.get() == "a"
    fetch.gate.clear()
    one, two = (asyncio.create_task(cache.get(fresh=True)) for _ in range(2))
    await settle()
    assert await cache.get() == "a"  # a plain caller keeps the fresh value meanwhile
    fetch.gate.set()
    assert (await one, await two) == ("b", "b") and fetch.calls == 2
    await cache.aclose()


# -- failures -------------------------------------------------------------------------------------
async def test_a_failure_is_remembered_for_retry_seconds() -> None:
    clock = FakeClock()
    fetch = Fetcher(AuthError("p", "bad key"), "ok")
    cache: TtlCache[str] = TtlCache(fetch, ttl=600, retry=30, clock=clock)
    for _ in range(3):
        with pytest.raises(AuthError):
            await cache.get()
    assert fetch.calls == 1
    clock.advance(29)
    with pytest.raises(AuthError):
        await cache.get()
    clock.advance(1)
    assert await cache.get() == "ok" and fetch.calls == 2
    await cache.aclose()


async def test_a_longer_retry_after_wins() -> None:
    clock = FakeClock()
    fetch = Fetcher(RateLimited("p", "too many", retry_after=90), "ok")
    cache: TtlCache[str] = TtlCache(fetch, ttl=600, retry=30, clock=clock)
    with pytest.raises(RateLimited):
        await cache.get()
    clock.advance(89)
    with pytest.raises(RateLimited):
        await cache.get()
    clock.advance(1)
    assert await cache.get() == "ok"
    await cache.aclose()


async def test_the_last_good_value_stands_in_for_a_failure_by_default() -> None:
    clock = FakeClock()
    fetch = Fetcher("old", down(), "new")
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, retry=30, clock=clock)
    assert await cache.get() == "old"
    clock.advance(60)
    assert await cache.get() == "old" and fetch.calls == 2  # failed; stale but usable
    clock.advance(10)
    assert await cache.get() == "old" and fetch.calls == 2  # the failure is remembered
    assert cache.peek() == "old" and cache.last == "old"
    clock.advance(20)
    assert await cache.get() == "new" and fetch.calls == 3
    await cache.aclose()


async def test_without_stale_a_failure_is_raised_and_hides_the_old_value() -> None:
    clock = FakeClock()
    fetch = Fetcher("old", AuthError("p", "revoked"), "new")
    cache: TtlCache[str] = TtlCache(fetch, ttl=30, retry=30, stale=None, clock=clock)
    assert await cache.get() == "old"
    clock.advance(30)
    with pytest.raises(AuthError):
        await cache.get()
    assert cache.peek() is None and cache.last == "old"
    clock.advance(29)
    with pytest.raises(AuthError):
        await cache.get()
    assert fetch.calls == 2
    clock.advance(1)
    assert await cache.get() == "new"
    await cache.aclose()


async def test_only_the_errors_named_by_remember_are_remembered() -> None:
    clock = FakeClock()
    fetch = Fetcher(down(), down(), AuthError("p", "bad"), "ok")
    cache: TtlCache[str] = TtlCache(fetch, ttl=30, retry=30, remember=PermanentError,
                                    stale=None, clock=clock)
    for _ in range(2):  # transient: not remembered, every caller tries again
        with pytest.raises(ProviderUnavailable):
            await cache.get()
    with pytest.raises(AuthError):
        await cache.get()
    with pytest.raises(AuthError):  # permanent: remembered
        await cache.get()
    assert fetch.calls == 3
    await cache.aclose()


async def test_retry_none_remembers_nothing() -> None:
    fetch = Fetcher(AuthError("p", "bad"), "ok")
    cache: TtlCache[str] = TtlCache(fetch, ttl=5, retry=None, stale=None, clock=FakeClock())
    with pytest.raises(AuthError):
        await cache.get()
    assert await cache.get() == "ok" and fetch.calls == 2
    await cache.aclose()


async def test_a_bug_reaches_the_caller_and_is_never_remembered() -> None:
    fetch = Fetcher(KeyError("bug"), "ok")
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, clock=FakeClock())
    with pytest.raises(KeyError):
        await cache.get()
    assert await cache.get() == "ok" and fetch.calls == 2
    await cache.aclose()


# -- stale while revalidate ------------------------------------------------------------------------
async def test_background_serves_at_once_and_refreshes_behind() -> None:
    clock = FakeClock()
    fetch = Fetcher("old", "new")
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, stale=900, background=True, clock=clock)
    assert await cache.get() == "old"
    fetch.gate.clear()
    clock.advance(61)
    assert await cache.get() == "old"  # due: at once, a fetch behind
    await settle()
    assert fetch.running == 1
    assert await cache.get() == "old" and fetch.calls == 2  # shares the fetch in flight
    fetch.gate.set()
    await cache.refresh()  # joins it
    assert await cache.get() == "new"
    await cache.aclose()


async def test_background_failure_keeps_the_value_until_stale_then_raises() -> None:
    clock = FakeClock()
    fetch = Fetcher("old", down(status=503))
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, retry=10, stale=300, background=True,
                                    clock=clock)
    assert await cache.get() == "old"
    clock.advance(61)
    await cache.refresh()  # fails; remembered 10 s
    assert await cache.get() == "old" and cache.peek() == "old"
    clock.advance(5)
    await cache.refresh()  # within retry: nothing fetched
    assert fetch.calls == 2
    clock.advance(300)  # older than stale: the caller waits for a fetch, and gets its error
    assert cache.peek() is None
    with pytest.raises(ProviderError) as info:
        await cache.get()
    assert info.value.status == 503 and fetch.calls == 3
    await cache.aclose()


async def test_refresh_force_fetches_even_when_fresh_and_never_raises() -> None:
    fetch = Fetcher("a", down())
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, clock=FakeClock())
    await cache.refresh()
    await cache.refresh()  # fresh: nothing
    assert fetch.calls == 1
    await cache.refresh(force=True)  # fails quietly, remembered
    assert fetch.calls == 2 and await cache.get() == "a"
    await cache.aclose()


# -- lifecycle --------------------------------------------------------------------------------------
async def test_close_cancels_the_fetch_and_refuses_later_use() -> None:
    fetch = Fetcher("v")
    fetch.gate.clear()
    cache: TtlCache[str] = TtlCache(fetch, ttl=60, clock=FakeClock())
    waiter = asyncio.create_task(cache.get())
    await settle()
    await cache.aclose()
    await cache.aclose()  # idempotent
    assert fetch.cancelled == 1
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for call in (cache.get(), cache.refresh()):
        with pytest.raises(RuntimeError):
            await call


def test_bad_policy_is_refused() -> None:
    async def fetch() -> str:  # pragma: no cover - never called
        return ""

    for kw in ({"ttl": -1}, {"ttl": math.nan}, {"ttl": 1, "retry": -1}, {"ttl": 1, "stale": -1}):
        with pytest.raises(ValueError):
            TtlCache(fetch, **kw)


# -- keyed --------------------------------------------------------------------------------------------
async def test_keyed_one_fetch_per_key_and_pruning() -> None:
    clock = FakeClock()
    calls: list[str] = []

    def make(key: str) -> TtlCache[str]:
        async def fetch() -> str:
            calls.append(key)
            await asyncio.sleep(0)
            return key.upper()
        return TtlCache(fetch, ttl=5, retry=None, stale=None, clock=clock)

    cache: KeyedTtlCache[str, str] = KeyedTtlCache(make, limit=2)
    got = await asyncio.gather(*(cache.get(k) for k in "aabab"))
    assert got == ["A", "A", "B", "A", "B"] and sorted(calls) == ["a", "b"]
    assert cache.peek("a") == "A" and cache.peek("z") is None
    clock.advance(5)  # both expired: making "c" drops them
    assert await cache.get("c") == "C"
    assert cache.peek("a") is None and cache.fetches == 3
    assert await cache.get("a") == "A" and calls.count("a") == 2
    await cache.aclose()
    with pytest.raises(RuntimeError):
        await cache.get("a")
