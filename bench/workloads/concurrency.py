"""Concurrency: N callers at once, on distinct and on identical (pair, amount) requests.

Every run gets a fresh router (a fresh firm-quote cache) after a warm-up, so what one run
coalesces it coalesced by itself. Provider calls are read from the emulators' own counters
(``/_sandbox/stats`` ``requests``, deltas per provider). For identical requests the run is
compared with a single quote of the same request on another fresh router: coalescing holds when
N concurrent quotes cost each provider exactly what one quote costs (one call per market).
Garbage-collector time during each run is reported (at 1,000 callers it is a large share).
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from ..baselines import ParallelClient, SequentialClient, make_plan
from ..measure import (
    CLIENT_LABELS,
    GcTimer,
    Progress,
    emulator_stats,
    stats_delta,
    summary,
)
from ..measure import client as spender
from ..scenario import Scenario
from .common import Providers, distinct_requests, make_sources, ratio

__all__ = ["run_concurrency"]

Req = tuple[str, str, str]


def _requests(sc: Scenario, mode: str, n: int) -> list[Req]:
    if mode == "identical":
        return [sc.concurrency.identical] * n
    return distinct_requests(n, sc.seed)


def _calls(delta: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {name: int(d.get("requests", 0)) for name, d in sorted(delta.items())}


async def _one_quote_calls(sc: Scenario, providers: Providers, req: Req) -> dict[str, int]:
    from router import Router

    async with Router(make_sources(providers, sc.providers), cache=False,
                      deadline=sc.concurrency.deadline) as router:
        await router.warm()
        before = emulator_stats(providers)
        await router.quote(*req)
        return _calls(stats_delta(emulator_stats(providers), before))


async def _bestrate_run(sc: Scenario, providers: Providers, reqs: list[Req],
                        profiler: Any = None) -> dict[str, Any]:
    import asyncio

    from router import MemoryQuoteCache, Router

    cache = MemoryQuoteCache()
    latencies: list[float] = []
    async with Router(make_sources(providers, sc.providers), cache=cache,
                      deadline=sc.concurrency.deadline) as router:
        await router.warm()
        before = emulator_stats(providers)

        async def one(req: Req) -> Any:
            t0 = time.perf_counter()
            rs = await router.quote(*req)
            latencies.append((time.perf_counter() - t0) * 1000)
            return rs

        with GcTimer() as gc_timer:
            if profiler is not None:  # GC off while profiling: its pauses would land on
                gc.collect()          # whichever function allocated last (GC s is measured
                gc.disable()          # apart, in the runs that are not profiled)
                profiler.enable()
            t0 = time.perf_counter()
            try:
                results = await asyncio.gather(*(one(r) for r in reqs))
            finally:
                wall = time.perf_counter() - t0
                if profiler is not None:
                    profiler.disable()
                    gc.enable()
        delta = stats_delta(emulator_stats(providers), before)
    calls = _calls(delta)
    reasons = Counter(u.reason for rs in results for u in rs.unavailable
                      if u.reason not in ("unsupported_pair", "limit_min", "limit_max"))
    return {
        "wall_s": round(wall, 3), "quotes_per_s": round(len(reqs) / wall, 1),
        "quote_ms": summary(latencies),
        "answered": sum(rs.best is not None for rs in results),
        "firm_best": sum(rs.best is not None and rs.best.kind == "firm" for rs in results),
        "provider_calls": calls, "calls_per_quote": round(sum(calls.values()) / len(reqs), 3),
        "units": {n: int(d.get("units", 0)) for n, d in sorted(delta.items())},
        "cache": {"misses": cache.misses, "shared": cache.shared, "hits": cache.hits},
        "gc_s": round(gc_timer.seconds, 3), "gc_collections": gc_timer.collections,
        "trouble": dict(reasons.most_common(6)),
    }


async def _baseline_run(sc: Scenario, providers: Providers, reqs: list[Req], label: str) -> dict[str, Any]:
    import asyncio

    from router import Router

    latencies: list[float] = []
    sources = make_sources(providers, sc.providers)
    async with Router(sources, cache=False) as opener:  # opens the sources on one session
        await opener.warm()
        plans: dict[Req, Any] = {}
        for r in dict.fromkeys(reqs):
            plans[r] = await make_plan(sources, r[0], r[1], Decimal(r[2]))
        client = SequentialClient() if label == "sequential" else ParallelClient()
        before = emulator_stats(providers)

        async def one(req: Req) -> None:
            t0 = time.perf_counter()
            await client.quote(plans[req], Decimal(req[2]))
            latencies.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(r) for r in reqs))
        wall = time.perf_counter() - t0
        calls = _calls(stats_delta(emulator_stats(providers), before))
    return {"wall_s": round(wall, 3), "quotes_per_s": round(len(reqs) / wall, 1),
            "quote_ms": summary(latencies), "provider_calls": calls,
            "calls_per_quote": round(sum(calls.values()) / len(reqs), 3), "errors": client.errors}


async def _measure(sc: Scenario, providers: Providers) -> dict[str, Any]:
    w = sc.concurrency
    runs = [(m, n) for m in w.modes for n in w.callers]
    base_runs = [(m, b) for m in w.modes for b in w.baselines]
    progress = Progress(len(runs) + len(base_runs), f"concurrency {sc.name}")
    out: dict[str, Any] = {"runs": []}
    single: dict[str, int] | None = None
    if "identical" in w.modes:
        single = await _one_quote_calls(sc, providers, w.identical)
        out["one_quote_calls"] = single
    for mode, n in runs:
        res = {"mode": mode, "callers": n, **await _bestrate_run(sc, providers, _requests(sc, mode, n))}
        if mode == "identical" and single is not None:
            res["coalesced"] = res["provider_calls"] == single
        out["runs"].append(res)
        progress.step()
    baselines: list[dict[str, Any]] = []
    for mode, label in base_runs:
        reqs = _requests(sc, mode, w.baseline_callers)
        with spender(CLIENT_LABELS[label]):
            figures = await _baseline_run(sc, providers, reqs, label)
        res = {"client": label, "mode": mode, "callers": w.baseline_callers, **figures}
        ours = next((r for r in out["runs"] if r["mode"] == mode and r["callers"] == w.baseline_callers),
                    None)
        if ours is not None:
            res["ratio_to_bestrate"] = {
                "quotes_per_s": ratio(res["quotes_per_s"], ours["quotes_per_s"]),
                "p50_ms": ratio(res["quote_ms"].get("p50"), ours["quote_ms"].get("p50")),
                "calls_per_quote": ratio(res["calls_per_quote"], ours["calls_per_quote"]),
            }
        baselines.append(res)
        progress.step()
    out["baselines"] = baselines
    if w.profile and "distinct" in w.modes:
        import cProfile

        from .hotspots import hotspots

        n = max(w.callers)
        profiler = cProfile.Profile()
        res = await _bestrate_run(sc, providers, _requests(sc, "distinct", n), profiler)
        out["hotspots"] = {"mode": "distinct", "callers": n, "provider_calls": res["provider_calls"],
                           "quotes_per_s_under_profiler": res["quotes_per_s"], **hotspots(profiler)}
    return out


def run_concurrency(sc: Scenario, providers: Providers) -> dict[str, Any]:
    from ..runloop import run

    return run(_measure(sc, providers))
