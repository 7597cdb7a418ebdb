"""Faults: does bestrate still return the best *healthy* route within the deadline?

Two sandboxes with the same seed (frozen market): one under the scenario's fault profile, one
fault-free. Quotes run one at a time on the faulty one. The providers that were not healthy
during a quote are those bestrate itself reported failing (timeout, provider error, rate
limited, bad signature, ...): a provider whose fault was retried or hedged away answered, and
one that lied undetected counts as healthy, so believing the lie costs the score. The
fault-free sandbox, asked the same request restricted to the healthy providers, values every
route truthfully; a quote scores when it came back within the deadline with a route the oracle
values as its best (within 0.1 bp: two networks of one provider can tie), or with no route when
no healthy provider has one. Misses are counted by cause. The faults the sandbox injected (its
stats' ``faults`` map) are reported beside.

Baseline: the naive parallel client (no deadline, no coalescing) on the same requests, scored
the same way, its healthy providers being those that answered it.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

from ..baselines import ParallelClient, make_plan
from ..measure import CLIENT_LABELS, Progress, emulator_stats, stats_delta, summary
from ..measure import client as spender
from ..scenario import Scenario
from .common import Providers, make_sources, ratio, route_key

__all__ = ["FAULT_REASONS", "run_faults"]

#: Reasons in ``RouteSet.unavailable`` that mean the provider misbehaved during the quote.
FAULT_REASONS = frozenset({"timeout", "provider_error", "rate_limited", "signature_invalid",
                           "auth_failed", "provider_unhealthy", "budget_exhausted"})
_SLACK_S = 0.05  # scheduling slack allowed past the deadline
_TIE = Decimal("0.99999")


def _injected(delta: dict[str, dict[str, Any]]) -> dict[str, int]:
    out = {}
    for name, d in delta.items():
        faults = d.get("faults") or {}
        n = sum(v for v in faults.values() if isinstance(v, int)) if isinstance(faults, dict) else 0
        if n:
            out[name] = n
    return out


def _scores(choice: Any, truth: Any) -> bool:
    """Is the route ``choice`` (a route key) as good as the oracle's best (within 0.1 bp, so a tie
    between two networks of one provider counts), valued as the fault-free oracle values it?"""
    best = truth.best if truth is not None else None
    if best is None or choice is None:
        return best is None and choice is None
    same = next((r for r in truth.routes if route_key(r) == choice), None)
    return same is not None and same.amount_out >= best.amount_out * _TIE


def _miss(in_time: bool, chosen: Any, truth: Any, failing: set[str]) -> str:
    """Why a quote did not score."""
    best = truth.best if truth is not None else None
    if not in_time:
        return "late"
    if chosen is None:
        return "no route, though a healthy one existed"
    if set(chosen.providers) & failing:
        return "a route through a provider it reported failing"
    if best is None:
        return "a route where no healthy one exists"
    same = next((r for r in truth.routes if route_key(r) == route_key(chosen)), None)
    if same is None:
        return "a route the oracle does not know"
    if chosen.amount_out > same.amount_out:
        return "a worse route priced better than it is (a lie believed)"
    return "a worse route"


async def _measure(sc: Scenario, faulty: Providers, clean: Providers) -> dict[str, Any]:
    from router import Router

    w = sc.faults
    n_base = min(w.quotes, 30) if w.baselines else 0
    progress = Progress(w.quotes + n_base, f"faults {sc.name}")
    oracle_memo: dict[tuple[Any, ...], Any] = {}
    scored: list[bool] = []
    times: list[float] = []
    injected_total: Counter[str] = Counter()
    failing_seen: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    within = no_healthy = 0
    clean_sources = make_sources(clean, sc.providers)
    async with Router(make_sources(faulty, sc.providers), cache=False) as router, \
            Router(clean_sources, cache=False, deadline=30) as oracle:
        await router.warm()
        await oracle.warm()
        for i in range(w.quotes):
            sell, buy, amount = w.pairs[i % len(w.pairs)]
            req = router.request(sell, buy, amount, max_hops=w.max_hops)
            before = emulator_stats(faulty)
            t0 = time.perf_counter()
            rs = await router.run(req, deadline=w.deadline)
            took = time.perf_counter() - t0
            injected = _injected(stats_delta(emulator_stats(faulty), before))
            injected_total.update(injected)
            trouble = {(u.provider, u.reason) for u in rs.unavailable if u.reason in FAULT_REASONS}
            reasons.update(f"{p} {r}" for p, r in trouble)
            failing = {p for p, _ in trouble}
            failing_seen.update(failing)
            healthy = tuple(sorted(set(router.providers) - failing))
            key = (sell, buy, amount, healthy)
            if key not in oracle_memo:
                oracle_memo[key] = await oracle.run(oracle.request(
                    sell, buy, amount, max_hops=w.max_hops, providers=list(healthy))) \
                    if healthy else None
            truth = oracle_memo[key]
            no_healthy += truth is None or truth.best is None
            in_time = took <= w.deadline + _SLACK_S
            within += in_time
            times.append(took * 1000)
            ok = in_time and _scores(route_key(rs.best), truth)
            scored.append(ok)
            if not ok:
                misses[_miss(in_time, rs.best, truth, failing)] += 1
            progress.step()
        baseline = None
        if n_base:
            with spender(CLIENT_LABELS["parallel"]):
                baseline = await _baseline(sc, faulty, oracle, clean_sources, n_base, progress)
    share = round(sum(scored) / len(scored), 4) if scored else None
    out: dict[str, Any] = {
        "profile": w.profile, "deadline_s": w.deadline, "quotes": len(scored),
        "best_healthy_within_deadline": share,
        "within_deadline": round(within / max(1, len(scored)), 4),
        "quotes_without_a_healthy_route": no_healthy,
        "quote_ms": summary(times),
        "faults_injected": dict(sorted(injected_total.items())),
        "failing_quotes_per_provider": dict(sorted(failing_seen.items())),
        "router_reasons": dict(reasons.most_common()),
        "misses": dict(misses.most_common()),
        "_series": {"quote_ms": times},
    }
    if baseline is not None:
        baseline["ratio_to_bestrate"] = {
            "best_healthy_within_deadline": ratio(baseline["best_healthy_within_deadline"], share),
            "p50_ms": ratio(baseline["quote_ms"].get("p50"), out["quote_ms"].get("p50")),
            "p99_ms": ratio(baseline["quote_ms"].get("p99"), out["quote_ms"].get("p99"))}
        out["baselines"] = {"parallel": baseline}
    return out


async def _baseline(sc: Scenario, faulty: Providers, oracle: Any, clean_sources: list[Any],
                    n: int, progress: Progress) -> dict[str, Any]:
    """The naive parallel client under the same faults; its whole gather is bounded (10 x the
    deadline) only so that the run ends. It scores as bestrate does, against the oracle restricted
    to the providers that answered it (it ranks on the providers' raw amounts and asks fewer
    networks, so it can also miss where payout fees reorder the markets)."""
    import asyncio

    from router import Router

    w = sc.faults
    sources = make_sources(faulty, sc.providers)
    client = ParallelClient()
    times: list[float] = []
    good = within = gave_up = 0
    async with Router(sources, cache=False) as opener:
        await opener.warm()
        by_name = {s.name: s for s in sources}
        plans = {}  # planned on the fault-free sandbox (same seed, same markets), asked here
        for p in dict.fromkeys(w.pairs):
            plan = await make_plan(clean_sources, p[0], p[1], Decimal(p[2]))
            plans[p] = [(by_name[s.name], m) for s, m in plan]
        for i in range(n):
            pair = w.pairs[i % len(w.pairs)]
            t0 = time.perf_counter()
            try:
                q = await asyncio.wait_for(client.quote(plans[pair], Decimal(pair[2])),
                                           timeout=10 * w.deadline)
            except TimeoutError:
                q, gave_up = None, gave_up + 1
            took = time.perf_counter() - t0
            times.append(took * 1000)
            in_time = took <= w.deadline + _SLACK_S
            within += in_time
            if in_time and q is not None:
                ors = await oracle.run(oracle.request(*pair, max_hops=1,
                                                      providers=sorted(client.answered)))
                good += _scores(((q.provider, q.asset_in, q.asset_out, q.rate_type),), ors)
            progress.step()
    return {"quotes": n, "best_healthy_within_deadline": round(good / max(1, n), 4),
            "within_deadline": round(within / max(1, n), 4), "quote_ms": summary(times),
            "gave_up_after_10x_deadline": gave_up, "errors": client.errors}


def run_faults(sc: Scenario, faulty: Providers, clean: Providers) -> dict[str, Any]:
    from ..runloop import run

    return run(_measure(sc, faulty, clean))
