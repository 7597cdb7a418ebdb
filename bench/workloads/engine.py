"""The engine's own cost: client-process CPU per quote against the floor of its HTTP calls.

All measured in one run, against a sandbox in its own process (zero latency, frozen):

* **floor**: the client CPU of one bare signed aiohttp POST (FixedFloat ``price``, the adapter's
  signer, the body already built) times the provider calls one quote makes;
* **CPU per quote**: ``time.process_time`` over ``quotes`` sequential distinct quotes (firm-quote
  cache off, so every quote reaches the providers), and its ratio to the floor;
* **cached CPU per quote**: the same quotes again on a router whose cache holds every answer, so
  what is left is the engine's own work (search, ranking, answer assembly);
* **longest loop stall**: a ticker task asks to run every millisecond; the longest it waited
  beyond that during the sequential quotes is the longest stretch the loop could not serve it;
* the same sequential quotes on a router warmed with ``freeze_gc=True`` (``gc_frozen``);
* **overload**: ``overload_callers`` distinct quotes at once with an ``overload_deadline`` each, in
  this one process (the CPU is the bottleneck): how many answer within the deadline + 50 ms, the
  latency each caller saw, and how many still carry a route.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aiohttp
import orjson

from ..measure import emulator_stats, stats_delta, summary
from ..scenario import Scenario
from .common import Providers, distinct_requests, make_sources

__all__ = ["run_engine"]


class StallWatch:
    """The longest delay of a 1 ms ticker: how long the loop was busy without yielding."""

    def __init__(self, tick: float = 0.001) -> None:
        self.tick, self.worst, self._task = tick, 0.0, None  # type: ignore[var-annotated]

    async def _run(self) -> None:
        # perf_counter, not loop.time(): uvloop's clock counts whole milliseconds
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - t - self.tick)

    def __enter__(self) -> StallWatch:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _floor(providers: Providers, n: int) -> float:
    """Client CPU seconds of one bare signed POST to the FixedFloat emulator."""
    from adapters.fixedfloat.auth import signed_headers
    from router.secret import Secret

    entry = providers["fixedfloat"]
    key, secret = Secret(entry["api_key"]), Secret(entry["api_secret"])
    body = orjson.dumps({"type": "float", "fromCcy": "BTC", "toCcy": "USDTTRC",
                         "direction": "from", "amount": "0.5"})
    url = entry["base_url"] + "/api/v2/price"
    async with aiohttp.ClientSession() as session:
        for _ in range(10):  # warm the connection pool
            async with session.post(url, data=body, headers=signed_headers(key, secret, body)) as r:
                await r.read()
        c0 = time.process_time()
        for _ in range(n):
            async with session.post(url, data=body, headers={
                    **signed_headers(key, secret, body), "Content-Type": "application/json"}) as r:
                await r.read()
        return (time.process_time() - c0) / n


async def _measure(sc: Scenario, providers: Providers) -> dict[str, Any]:
    from router import MemoryQuoteCache, Router

    w = sc.engine
    reqs = distinct_requests(w.quotes, sc.seed)
    floor_s = await _floor(providers, w.floor_posts)
    out: dict[str, Any] = {"quotes": w.quotes, "floor_posts": w.floor_posts,
                           "post_cpu_ms": round(floor_s * 1000, 3)}
    cpu, wall, stall, calls, snapshots = await _sequential(sc, providers, reqs, freeze_gc=False)
    frozen_cpu, _, frozen_stall, _, _ = await _sequential(sc, providers, reqs, freeze_gc=True)
    per_quote = calls / w.quotes
    floor_ms = floor_s * per_quote * 1000
    out |= {"cpu_ms_per_quote": round(cpu / w.quotes * 1000, 3),
            "wall_ms_per_quote": round(wall / w.quotes * 1000, 3),
            "provider_calls_per_quote": round(per_quote, 2),
            "floor_ms_per_quote": round(floor_ms, 3),
            "ratio_to_floor": round(cpu / w.quotes * 1000 / floor_ms, 2) if floor_ms else None,
            "longest_stall_ms": round(stall * 1000, 2), "snapshots": snapshots,
            "gc_frozen": {"cpu_ms_per_quote": round(frozen_cpu / w.quotes * 1000, 3),
                          "longest_stall_ms": round(frozen_stall * 1000, 2)}}
    cache = MemoryQuoteCache(max_age=3600)
    async with Router(make_sources(providers, sc.providers), cache=cache) as router:
        await router.warm()
        for sell, buy, amount in reqs:  # fills the cache
            await router.quote(sell, buy, amount)
        hits = cache.hits
        c0 = time.process_time()
        for sell, buy, amount in reqs:
            await router.quote(sell, buy, amount)
        cached = time.process_time() - c0
        out["cached_cpu_ms_per_quote"] = round(cached / w.quotes * 1000, 3)
        out["cached_hits"] = cache.hits - hits
    if w.overload_callers:
        out["overload"] = await _overload(sc, providers)
    return out


async def _sequential(sc: Scenario, providers: Providers, reqs: list[tuple[str, str, str]], *,
                      freeze_gc: bool) -> tuple[float, float, float, int, dict[str, int]]:
    """CPU seconds, wall seconds, the longest stall, the provider calls (the emulators' own
    counters) and the graph snapshots made (built in full, patched) of ``reqs`` quoted one after
    the other on a warmed router (firm-quote cache off), warmed with ``freeze_gc`` when asked."""
    import gc

    from router import Router

    try:
        async with Router(make_sources(providers, sc.providers), cache=False) as router:
            await router.warm()
            for sell, buy, amount in reqs[: sc.engine.warmup]:
                await router.quote(sell, buy, amount)
            if freeze_gc:
                await router.warm(freeze_gc=True)
            before = emulator_stats(providers)
            made = router.snapshots
            with StallWatch() as watch:
                c0, t0 = time.process_time(), time.perf_counter()
                for sell, buy, amount in reqs:
                    await router.quote(sell, buy, amount)
                cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            calls = sum(int(d.get("requests", 0))
                        for d in stats_delta(emulator_stats(providers), before).values())
            snapshots = {k: v - made[k] for k, v in router.snapshots.items()}
    finally:
        if freeze_gc:
            gc.unfreeze()
    return cpu, wall, watch.worst, calls, snapshots


async def _overload(sc: Scenario, providers: Providers) -> dict[str, Any]:
    from router import Router

    w = sc.engine
    reqs = distinct_requests(w.overload_callers, sc.seed + 1)
    async with Router(make_sources(providers, sc.providers)) as router:
        await router.warm()
        for sell, buy, amount in reqs[:10]:
            await router.quote(sell, buy, amount)

        reasons: Counter[str] = Counter()
        busy: Counter[str] = Counter()  # overloaded answers: direct indicative routes or nothing

        async def one(req: tuple[str, str, str]) -> tuple[float, bool]:
            t0 = time.perf_counter()
            rs = await router.quote(*req, deadline=w.overload_deadline)
            took = time.perf_counter() - t0
            reasons.update({u.reason for u in rs.unavailable})
            busy.update(("direct only" if "direct routes only" in u.detail else "no search")
                        for u in rs.unavailable if u.reason == "overloaded")
            return took, rs.best is not None

        results = await asyncio.gather(*(one(r) for r in reqs))
    took = [t * 1000 for t, _ in results]
    limit = (w.overload_deadline + 0.05) * 1000
    return {"callers": w.overload_callers, "deadline_s": w.overload_deadline,
            "within_deadline_50ms": sum(t <= limit for t in took),
            "with_a_route": sum(ok for _, ok in results), "latency_ms": summary(took),
            "quotes_reporting": dict(reasons.most_common()), "overloaded": dict(busy)}


def run_engine(sc: Scenario, providers: Providers) -> dict[str, Any]:
    from ..runloop import run

    return run(_measure(sc, providers))
