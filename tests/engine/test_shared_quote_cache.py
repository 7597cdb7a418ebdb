"""The shared firm-quote cache (``router/sources/sharedcache.py``) on a real Redis.

Two :class:`RedisQuoteCache` objects on one server stand for two processes (each has its own
client, its own in-process layer and its own fetch); the last tests run four real processes
against one sandbox and count the firm calls the emulator saw, with and without the shared cache.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from redis.asyncio import Redis

from router import RedisQuoteCache
from router.errors import ProviderUnavailable
from router.model import Market, Quote
from router.sources.sharedcache import _encode, _Entry, shared_key
from tests.support.vclock import FakeClock

D = Decimal
MARKET = Market("fixedfloat", "BTC", "USDT@TRC20", "float", "BTC/USDTTRC")
KEY = ("fixedfloat", MARKET, D("0.5"), "sell")
QUOTE = Quote(provider="fixedfloat", asset_in="BTC", asset_out="USDT@TRC20", amount_in=D("0.5"),
              amount_out=D("30123.456789012345678901"), rate_type="float", kind="firm",
              quote_id="q-1", limit_min=D("0.001"), limit_max=D("12.5"))
_ROOT = Path(__file__).resolve().parents[2]


class Fetches:
    """A provider behind one process: counts calls; ``gate`` (when set) holds each call until
    released; ``entered`` is set once a call is in progress; ``error`` makes calls fail."""

    def __init__(self, quote: Quote = QUOTE, *, gated: bool = False,
                 error: Exception | None = None) -> None:
        self.quote, self.error, self.calls = quote, error, 0
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.entered = asyncio.Event()

    async def __call__(self) -> Quote:
        self.calls += 1
        self.entered.set()
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.quote


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[RedisQuoteCache, RedisQuoteCache, FakeClock]]:
    """Two caches ("processes") on one prefix, on one fake clock far ahead of real time."""
    prefix = f"test-{uuid.uuid4().hex}"
    clock = FakeClock(time.time() + 10_000)
    a = RedisQuoteCache(redis_url, prefix=prefix, clock=clock)
    b = RedisQuoteCache(redis_url, prefix=prefix, clock=clock)
    try:
        yield a, b, clock
    finally:
        await a.aclose()
        await b.aclose()


async def _exists(redis_url: str, name: str) -> bool:
    client = Redis.from_url(redis_url)
    try:
        return bool(await client.exists(name))
    finally:
        await client.aclose()


async def _held(redis_url: str, name: str) -> None:
    """Until ``name`` exists (a lock another cache took): Redis's word, not a delay. The bound
    only turns a lock that is never taken into a failure instead of a hang."""
    async with asyncio.timeout(10):
        while not await _exists(redis_url, name):  # noqa: ASYNC110 - polls Redis, not a flag
            await asyncio.sleep(0.001)


# --------------------------------------------------------------------------- keys and encoding


def test_the_redis_key_is_canonical_versioned_and_prefixed() -> None:
    name = shared_key("pfx", KEY)
    assert name is not None and name.startswith("{pfx:fq1:fixedfloat:") and name.endswith("}")
    same = ("fixedfloat", Market("fixedfloat", "BTC", "USDT@TRC20", "float", "BTC/USDTTRC"),
            D("0.5"), "sell")
    assert shared_key("pfx", same) == name
    for other in [("fixedfloat", MARKET, D("0.6"), "sell"), ("fixedfloat", MARKET, D("0.5"), "buy"),
                  ("fixedfloat", msgspec.structs.replace(MARKET, rate_type="fixed"), D("0.5"),
                   "sell")]:
        assert shared_key("pfx", other) != name
    assert shared_key("other", KEY) != name
    assert shared_key("pfx", ("x", object())) is None  # no canonical form: in-process only
    # the same in another process, whatever its hash seed
    code = ("from decimal import Decimal as D; from router.model import Market; "
            "from router.sources.sharedcache import _Entry, _encode, shared_key; "
            f"print(shared_key('pfx', ('fixedfloat', Market{tuple(msgspec.structs.astuple(MARKET))!r}, "
            "D('0.5'), 'sell')))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=_ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == name


# --------------------------------------------------------------------------- two "processes"


async def test_concurrent_identical_asks_in_two_processes_cost_one_fetch(
    pair: tuple[RedisQuoteCache, RedisQuoteCache, FakeClock], redis_url: str,
) -> None:
    a, b, _ = pair
    fetch_a, fetch_b = Fetches(gated=True), Fetches(gated=True)
    asks_a = [asyncio.ensure_future(a.get_or_fetch(KEY, fetch_a)) for _ in range(3)]
    await fetch_a.entered.wait()  # a holds the lock and is fetching
    base = shared_key(a._prefix, KEY)
    assert base is not None
    await _held(redis_url, base + ":lock")
    asks_b = [asyncio.ensure_future(b.get_or_fetch(KEY, fetch_b)) for _ in range(3)]
    await asyncio.sleep(0.02)  # let b find the lock held and start waiting (order, not timing)
    fetch_a.gate.set()
    fetch_b.gate.set()  # were b to fetch, it could
    quotes = await asyncio.gather(*asks_a, *asks_b)
    assert fetch_a.calls + fetch_b.calls == 1 and fetch_a.calls == 1
    assert all(q == QUOTE for q in quotes)
    assert a.fetched == 1 and a.shared == 2  # in-process: one flight for three asks
    assert b.shared == 2 and b.waited + b.remote_hits == 1 and b.fetched == 0
    assert not await _exists(redis_url, base + ":lock")  # released


async def test_a_later_process_gets_the_stored_quote_exactly(
    pair: tuple[RedisQuoteCache, RedisQuoteCache, FakeClock],
) -> None:
    a, b, clock = pair
    fetch_a, fetch_b = Fetches(), Fetches()
    assert await a.get_or_fetch(KEY, fetch_a) == QUOTE
    clock.advance(9.0)
    got = await b.get_or_fetch(KEY, fetch_b)
    assert fetch_b.calls == 0 and b.remote_hits == 1
    assert got == QUOTE and got is not QUOTE  # decoded from Redis
    assert str(got.amount_out) == "30123.456789012345678901"  # exact Decimal, not a float
    assert isinstance(got.limit_max, Decimal) and got.quote_id == "q-1"
    assert await b.get_or_fetch(KEY, fetch_b) == QUOTE and b.hits == 1  # now in-process


async def test_no_quote_is_served_past_max_age_or_its_expiry(
    pair: tuple[RedisQuoteCache, RedisQuoteCache, FakeClock],
) -> None:
    a, b, clock = pair
    fetch_a, fetch_b = Fetches(), Fetches()
    await a.get_or_fetch(KEY, fetch_a)
    clock.advance(6.0)
    await b.get_or_fetch(KEY, fetch_b)  # from Redis: valid until a's fetch + 10 s
    assert fetch_b.calls == 0
    clock.advance(4.0)  # b's own copy must not outlive the entry it came from
    await b.get_or_fetch(KEY, fetch_b)
    assert fetch_b.calls == 1 and b.fetched == 1
    # a quote's expires_at comes first: the fake clock is ahead of Redis's, whose PX has not run
    # out yet, so only the check on read can refuse it
    key = ("fixedfloat", MARKET, D("0.7"), "sell")
    expiring = Fetches(msgspec.structs.replace(QUOTE, expires_at=clock.now + 3.0))
    await a.get_or_fetch(key, expiring)
    clock.advance(2.9)
    other = Fetches()
    await b.get_or_fetch(key, other)
    assert other.calls == 0
    clock.advance(0.1)  # at expires_at
    again = Fetches()
    c = RedisQuoteCache(b._client, prefix=b._prefix, clock=clock)  # a third process, no copy
    assert await c.get_or_fetch(key, again) == QUOTE
    assert again.calls == 1
    await c.aclose()
    # already expired on arrival: used, never stored
    key2 = ("fixedfloat", MARKET, D("0.8"), "sell")
    stale = Fetches(msgspec.structs.replace(QUOTE, expires_at=clock.now - 1))
    await a.get_or_fetch(key2, stale)
    late = Fetches()
    await b.get_or_fetch(key2, late)
    assert late.calls == 1


async def test_an_entry_is_refused_at_its_quotes_expiry_whatever_its_validity_says(
    pair: tuple[RedisQuoteCache, RedisQuoteCache, FakeClock], redis_url: str,
) -> None:
    """A reader checks ``expires_at`` itself: an entry written by another version (or clock) that
    claims a longer validity is not believed."""
    a, _, clock = pair
    base = shared_key(a._prefix, KEY)
    assert base is not None
    quote = msgspec.structs.replace(QUOTE, expires_at=clock.now + 1.0)
    client = Redis.from_url(redis_url)
    try:
        await client.set(base + ":quote", _encode(_Entry(clock.now + 10.0, clock.now, quote)),
                         px=60_000)
    finally:
        await client.aclose()
    fresh = Fetches()
    assert await a.get_or_fetch(KEY, fresh) == quote and fresh.calls == 0  # before expires_at
    a.clear()
    clock.advance(1.0)
    assert await a.get_or_fetch(KEY, fresh) == QUOTE and fresh.calls == 1


async def test_errors_are_not_cached_and_the_lock_is_released(
    pair: tuple[RedisQuoteCache, RedisQuoteCache, FakeClock], redis_url: str,
) -> None:
    a, b, _ = pair
    failing = Fetches(error=ProviderUnavailable("fixedfloat", "down"))
    with pytest.raises(ProviderUnavailable):
        await a.get_or_fetch(KEY, failing)
    base = shared_key(a._prefix, KEY)
    assert base is not None
    assert not await _exists(redis_url, base + ":lock")
    assert not await _exists(redis_url, base + ":quote")
    fetch_b = Fetches()
    assert await b.get_or_fetch(KEY, fetch_b) == QUOTE and fetch_b.calls == 1


async def test_a_waiter_fetches_itself_when_the_holder_fails(
    pair: tuple[RedisQuoteCache, RedisQuoteCache, FakeClock], redis_url: str,
) -> None:
    a, b, _ = pair
    failing = Fetches(gated=True, error=ProviderUnavailable("fixedfloat", "down"))
    ask_a = asyncio.ensure_future(a.get_or_fetch(KEY, failing))
    await failing.entered.wait()
    base = shared_key(a._prefix, KEY)
    assert base is not None
    await _held(redis_url, base + ":lock")
    fetch_b = Fetches()
    ask_b = asyncio.ensure_future(b.get_or_fetch(KEY, fetch_b))
    await asyncio.sleep(0.02)
    assert fetch_b.calls == 0  # waiting on a's lock
    failing.gate.set()
    with pytest.raises(ProviderUnavailable):
        await ask_a
    assert await ask_b == QUOTE and fetch_b.calls == 1 and b.fetched == 1


async def test_the_wait_for_another_process_is_bounded(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    a = RedisQuoteCache(redis_url, prefix=prefix)
    b = RedisQuoteCache(redis_url, prefix=prefix, wait=0.05)
    stuck = Fetches(gated=True)  # never answers
    ask_a = asyncio.ensure_future(a.get_or_fetch(KEY, stuck))
    await stuck.entered.wait()
    fetch_b = Fetches()
    assert await b.get_or_fetch(KEY, fetch_b) == QUOTE
    assert fetch_b.calls == 1 and b.gave_up == 1
    await a.aclose()  # cancels a's flight, which releases its lock
    with pytest.raises(asyncio.CancelledError):
        await ask_a
    base = shared_key(prefix, KEY)
    assert base is not None and not await _exists(redis_url, base + ":lock")
    await b.aclose()


async def test_redis_down_falls_back_to_fetching_and_warns_once_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = RedisQuoteCache(f"redis://:hunter2secret@127.0.0.1:{port}/0", timeout=0.5)
    assert "hunter2" not in repr(cache)
    caplog.set_level(logging.DEBUG, logger="bestrate.router")
    fetch = Fetches()
    assert await cache.get_or_fetch(KEY, fetch) == QUOTE
    assert fetch.calls == 1 and cache.failures == 1 and cache.direct == 1
    other = Fetches()
    assert await cache.get_or_fetch(("fixedfloat", MARKET, D("2"), "sell"), other) == QUOTE
    assert other.calls == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "shared quote cache unavailable" in warnings[0].getMessage()
    assert "hunter2" not in caplog.text
    assert await cache.get_or_fetch(KEY, fetch) == QUOTE and fetch.calls == 1  # in-process
    await cache.aclose()


async def test_redis_failing_after_the_fetch_still_returns_the_quote(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    client = Redis.from_url(redis_url)
    cache = RedisQuoteCache(client, prefix=prefix)

    async def fetch_then_break() -> Quote:
        await client.aclose()
        client.connection_pool.reset()  # the next command finds no usable connection...
        client.connection_pool.connection_kwargs["port"] = 1  # ...and cannot make one
        return QUOTE

    assert await cache.get_or_fetch(KEY, fetch_then_break) == QUOTE
    assert cache.failures >= 1 and cache.fetched == 1
    await cache.aclose()


# --------------------------------------------------------------------------- four processes

PROCESSES = 4
_WORKER = "from tests.engine.test_shared_quote_cache import worker_main; worker_main()"


def worker_main() -> None:
    """One process (``python -c``, config in ``sys.argv[1]``): warm, print ``ready``, wait for
    the start line, ask one quote, print its firm legs as JSON."""
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_ask(config))), flush=True)


async def _ask(config: dict[str, Any]) -> dict[str, Any]:
    from adapters.registry import build_source, sandbox_values
    from router import Router

    source = build_source("fixedfloat", sandbox_values("fixedfloat", config["provider"]))
    cache: Any = (RedisQuoteCache(config["redis_url"], prefix=config["prefix"])
                  if config["shared"] else None)
    # one firm ask per quote (the best direct market), so every process asks the same one
    async with Router([source], cache=cache, deadline=10.0, firm_per_source=1,
                      firm_rounds=1) as router:
        await router.warm()
        print("ready", flush=True)
        sys.stdin.readline()
        rs = await router.quote("BTC", "USDT@TRC20", "0.05", rate_type="float", max_hops=1)
    firm = [leg.kind for route in rs.routes for leg in route.legs].count("firm")
    return {"firm_legs": firm, "best": str(rs.best.amount_out) if rs.best else None,
            "waited": getattr(cache, "waited", 0), "fetched": getattr(cache, "fetched", 0)}


async def _requests(base_url: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(base_url + "/_sandbox/stats") as resp:
        return int((await resp.json())["requests"])


async def _fleet_firm_calls(shared: bool, redis_url: str) -> tuple[int, list[dict[str, Any]]]:
    """Four processes ask the same quote at once; the provider requests they caused."""
    from bench.sandbox import Sandbox

    prefix = f"test-{uuid.uuid4().hex}"
    async with Sandbox(seed=1, frozen=True) as sb:
        provider = sb.providers["fixedfloat"]
        procs = [await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WORKER,
            json.dumps({"provider": provider, "shared": shared, "redis_url": redis_url,
                        "prefix": prefix}),
            cwd=_ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE) for _ in range(PROCESSES)]
        try:
            async with asyncio.timeout(60):
                for proc in procs:
                    assert proc.stdout is not None
                    line = await proc.stdout.readline()
                    if line.strip() != b"ready":
                        assert proc.stderr is not None
                        raise AssertionError((await proc.stderr.read()).decode()[-3000:])
                before = await _requests(provider["base_url"])  # all warm: only quotes now
                for proc in procs:
                    assert proc.stdin is not None
                    proc.stdin.write(b"go\n")
                    await proc.stdin.drain()
                results = []
                for proc in procs:
                    assert proc.stdout is not None
                    results.append(json.loads(await proc.stdout.readline()))
                    assert await proc.wait() == 0
                after = await _requests(provider["base_url"])
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
    return after - before, results


async def test_four_processes_asking_the_same_quote_make_one_firm_call(redis_url: str) -> None:
    calls, results = await _fleet_firm_calls(True, redis_url)
    print(f"\nshared quote cache: {PROCESSES} processes, {calls} provider call(s)")
    assert all(r["firm_legs"] == 1 for r in results)  # every process got a firm answer
    assert len({r["best"] for r in results}) == 1  # the same one
    assert calls == 1
    assert sum(r["fetched"] for r in results) == 1


async def test_control_without_the_shared_cache_each_process_calls(redis_url: str) -> None:
    calls, results = await _fleet_firm_calls(False, redis_url)
    print(f"\nper-process quote cache: {PROCESSES} processes, {calls} provider call(s)")
    assert all(r["firm_legs"] == 1 for r in results)
    assert calls == PROCESSES


# --------------------------------------------------------------------------- the CLI


def test_the_cli_shares_firm_quotes_where_its_budgets_are(tmp_path: Path, redis_url: str) -> None:
    """``[budgets] store = "redis://..."``: the command's firm quotes land in the same Redis,
    under the same prefix; with the default store nothing does."""
    import redis

    prefix = f"cli-{uuid.uuid4().hex}"
    (tmp_path / "bestrate.toml").write_text(
        f'[budgets]\nstore = "{redis_url}"\nprefix = "{prefix}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "router.cli", *args], cwd=tmp_path,
                              env=env, check=False, capture_output=True, text=True, timeout=60)

    proc = cli("quote", "BTC", "USDT", "0.5", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["routes"]
    client = redis.Redis.from_url(redis_url)
    try:
        quotes = client.keys(f"{{{prefix}:fq1:*}}:quote")
        assert quotes  # firm quotes shared on the budget store's server
        assert not client.keys(f"{{{prefix}:fq1:*}}:lock")  # every lock released
        (tmp_path / "bestrate.toml").write_text(f'[budgets]\nprefix = "{prefix}-mem"\n',
                                                encoding="utf-8")
        proc = cli("quote", "BTC", "USDT", "0.5", "--json")
        assert proc.returncode == 0, proc.stderr
        assert not client.keys(f"{{{prefix}-mem:*")
    finally:
        client.close()
