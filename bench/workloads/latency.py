"""Embedded quote latency: one quote at a time, every HTTP exchange timed by aiohttp trace hooks.

* bestrate: ``quote()`` latency, and its overhead over the slowest provider call inside the same
  quote (the router's own work) and over the sandbox's fixed latency.
* per provider: the latency of every HTTP exchange as the client saw it (for the chart).
* baselines on the same sources and pairs: the sequential and the naive parallel client; and for
  FixedFloat alone, the PyPI client ``fixedfloatapi`` against ``quote(providers=["fixedfloat"])``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import aiohttp

from ..baselines import (
    ParallelClient,
    SequentialClient,
    fixedfloatapi_prices,
    make_plan,
)
from ..measure import CLIENT_LABELS, Progress, summary
from ..measure import client as spender
from ..scenario import Scenario
from .common import CallTimes, Providers, make_sources, ratio

__all__ = ["run_latency"]


async def _measure(sc: Scenario, providers: Providers) -> dict[str, Any]:
    from router import Router

    w = sc.latency
    calls = CallTimes(providers)
    sources = make_sources(providers, sc.providers)
    total: list[float] = []
    overhead: list[float] = []
    deadline_hits = no_route = 0
    per_provider: dict[str, list[float]] = {}
    n_baseline = w.baseline_calls if w.baselines else 0
    with_ff = "fixedfloatapi" in w.baselines and any(s.name == "fixedfloat" for s in sources)
    asyncs = sum(b != "fixedfloatapi" for b in w.baselines) + with_ff
    progress = Progress(w.calls + n_baseline * asyncs, f"latency {sc.name}")
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(trace_configs=[calls.config]) as session:
        async with Router(sources, session=session, cache=None if w.cache else False) as router:
            await router.warm()
            warm = calls.take()  # the lists' fetches: a provider that prices from a list
            for i in range(w.warmup + w.calls):
                sell, buy, amount = w.pairs[i % len(w.pairs)]
                req = router.request(sell, buy, amount, max_hops=w.max_hops)
                calls.take()
                t0 = time.perf_counter()
                rs = await router.run(req, deadline=w.deadline)
                took = time.perf_counter() - t0
                exchanges = calls.take()
                if i < w.warmup:
                    warm += exchanges
                    continue
                total.append(took * 1000)
                no_route += rs.best is None
                if any(u.reason == "timeout" for u in rs.unavailable):
                    deadline_hits += 1  # a call still out: no "slowest call" to subtract
                else:
                    overhead.append((took - max((d for _, d in exchanges), default=0.0)) * 1000)
                for name, d in exchanges:
                    per_provider.setdefault(name, []).append(d * 1000)
                progress.step()
            calls.recording = False
            out["bestrate"] = {
                "quote_ms": summary(total),
                "overhead_over_slowest_call_ms": summary(overhead),
                "deadline_hits": deadline_hits, "deadline_s": w.deadline, "no_route": no_route,
                "overhead_over_fixed_latency_ms": (
                    summary([t - sc.sandbox.latency_ms for t in total])
                    if not sc.sandbox.latency_profile else None),
            }
            out["provider_call_ms"] = {n: summary(v) for n, v in sorted(per_provider.items())}
            warm_ms: dict[str, list[float]] = {}
            for name, d in warm:
                warm_ms.setdefault(name, []).append(d * 1000)
            out["warmup_call_ms"] = {n: summary(v) for n, v in sorted(warm_ms.items())}
            out["_series"] = {"quote_ms": total, "provider_call_ms": per_provider,
                              "warmup_call_ms": warm_ms}
            out["baselines"] = await _baselines(sc, router, sources, progress, n_baseline)
            if with_ff:
                ff = next(s for s in sources if s.name == "fixedfloat")
                out["fixedfloat_alone"] = await _ff_bestrate(sc, router, ff, n_baseline, progress)
    progress.finish()
    return out


async def _baselines(sc: Scenario, router: Any, sources: list[Any], progress: Progress,
                     n: int) -> dict[str, Any]:
    w = sc.latency
    plans = [await make_plan(sources, s, b, Decimal(a)) for s, b, a in w.pairs]
    out: dict[str, Any] = {}
    for label in w.baselines:
        if label == "fixedfloatapi":
            continue
        client = SequentialClient() if label == "sequential" else ParallelClient()
        times = []
        with spender(CLIENT_LABELS[label]):
            for i in range(n):
                plan, (_, _, amount) = plans[i % len(plans)], w.pairs[i % len(w.pairs)]
                t0 = time.perf_counter()
                await client.quote(plan, Decimal(amount))
                times.append((time.perf_counter() - t0) * 1000)
                progress.step()
        out[label] = {"quote_ms": summary(times), "calls_per_quote": round(client.calls / max(1, n), 2),
                      "errors": client.errors}
    return out


async def _ff_bestrate(sc: Scenario, router: Any, ff: Any, n: int,
                       progress: Progress) -> dict[str, Any]:
    """bestrate on FixedFloat alone (direct routes), and the FixedFloat codes the PyPI client
    will ask for the same pairs."""
    w = sc.latency
    asks: list[tuple[str, str, str, str]] = []
    for s, b, a in w.pairs:
        plan = await make_plan([ff], s, b, Decimal(a), per_provider=1)
        if plan:
            src, dst = plan[0][1].ref.split("/", 1)
            asks.append((src, dst, a, plan[0][1].rate_type))
    times = []
    for i in range(n):
        sell, buy, amount = w.pairs[i % len(w.pairs)]
        req = router.request(sell, buy, amount, max_hops=1, providers=["fixedfloat"])
        t0 = time.perf_counter()
        await router.run(req)
        times.append((time.perf_counter() - t0) * 1000)
        progress.step()
    return {"quote_ms": summary(times), "_asks": asks}


def run_latency(sc: Scenario, providers: Providers) -> dict[str, Any]:
    """Run the latency workload against a running sandbox (``providers`` JSON)."""
    from ..runloop import run

    out = run(_measure(sc, providers))
    ff = out.get("fixedfloat_alone")
    if ff is not None:
        asks = ff.pop("_asks")
        try:
            import fixedfloatapi  # noqa: F401
        except ImportError:
            out["baselines"]["fixedfloatapi"] = {"skipped": "fixedfloatapi is not installed "
                                                 "(pip install 'bestrate[bench]')"}
        else:
            if asks:
                with spender(CLIENT_LABELS["fixedfloatapi"]):
                    res = fixedfloatapi_prices(providers["fixedfloat"], asks,
                                               sc.latency.baseline_calls)
                out["baselines"]["fixedfloatapi"] = {
                    "price_ms": summary(res["ms"]), "failed": res["failed"],
                    "ratio_p50_to_bestrate_ff": ratio(summary(res["ms"]).get("p50"),
                                                      ff["quote_ms"].get("p50"))}
    ours = out["bestrate"]["quote_ms"]
    for b in out["baselines"].values():
        if "quote_ms" in b:
            b["ratio_to_bestrate"] = {q: ratio(b["quote_ms"].get(q), ours.get(q))
                                      for q in ("p50", "p95", "p99")}
    return out
