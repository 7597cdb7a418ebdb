"""The batch accuracy run: many queries within budgets, against an oracle, with two baselines.

* Queries: ``distinct`` (pair, amount) combinations across every provider, small and large
  amounts, drawn ``queries`` times (a few popular ones often, most rarely; seeded).
* bestrate: ``Router.quote_many`` against a sandbox that enforces every provider's limit.
* Oracle: on a second sandbox started with ``--no-limits`` (same seed, frozen: same prices), every
  distinct query with every provider firm-quoted on every direct market, and the best multi-hop
  routes firm-priced leg by leg. Regret of an answer = how much worse the *firm* value of the route
  it chose is than the oracle's best, in basis points.
* Baselines, same run: indicative only (no firm quotes at all), and firm-quote-everything under the
  real budgets (how many queries it answers in bestrate's wall time, and how long it would need).
"""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from typing import Any

from .measure import CLIENT_LABELS, Progress, percentile
from .measure import client as spender
from .providercmp import Answer, Sample, compare, outcome_of
from .runloop import run

__all__ = ["REGRET_BINS", "combinations", "make_queries", "run_batch"]

_PAIRS = [
    ("BTC", "USDT"), ("ETH", "USDT"), ("ETH", "BTC"), ("USDT", "ETH"), ("USDT", "BTC"),
    ("LTC", "USDT"), ("SOL", "USDC"), ("DOGE", "USDT"), ("XRP", "USDT"), ("TRX", "USDT"),
    ("BNB", "USDT"), ("USDC", "BTC"), ("TON", "USDT"), ("ADA", "BTC"), ("LTC", "BTC"),
    ("BTC", "ETH"), ("SOL", "BTC"), ("USDT", "SOL"), ("USD", "USDT"), ("EUR", "USDT"),
    ("USD", "BTC"), ("EUR", "ETH"), ("CNY", "USDT"), ("USDT", "CNY"), ("RUB", "USDT"),
    ("GBP", "BTC"), ("USD", "ETH"), ("CNY", "BTC"), ("XMR", "BTC"), ("BTC", "XMR"),
    ("USDT@TRC20", "BTC"), ("BTC", "USDT@TRC20"), ("USDC", "ETH"), ("DOGE", "BTC"),
    ("ETH", "USDC"), ("BNB", "BTC"), ("TRX", "BTC"), ("USDT", "TRX"), ("EUR", "USDC"),
    ("USD", "SOL"),
]
_USD = {"BTC": 80000, "ETH": 3000, "USDT": 1, "USDC": 1, "LTC": 85, "SOL": 130, "DOGE": 0.12,
        "XRP": 0.55, "TRX": 0.13, "BNB": 600, "TON": 5, "ADA": 0.45, "XMR": 160, "USD": 1,
        "EUR": 1.08, "CNY": 0.14, "RUB": 0.011, "GBP": 1.27}
_SIZES_USD = (30, 120, 400, 1500, 5000, 20000, 60000, 150000)


def _amount(coin: str, usd: int) -> str:
    units = Decimal(usd) / Decimal(str(_USD[coin]))
    places = 2 if coin in ("USD", "EUR", "CNY", "RUB", "GBP", "USDT", "USDC") else 6
    return str(units.quantize(Decimal(1).scaleb(-places)))


def combinations() -> list[tuple[str, str, str]]:
    """Every (sell, buy, amount) combination the batch draws from: each pair at each size."""
    return [(s, b, _amount(s.partition("@")[0], usd)) for s, b in _PAIRS for usd in _SIZES_USD]


def make_queries(n: int, distinct: int, seed: int) -> list[dict[str, str]]:
    """``n`` queries over ``distinct`` (pair, amount) combinations, Zipf-like popularity."""
    combos = combinations()
    rng = random.Random(seed)
    rng.shuffle(combos)
    combos = combos[:distinct]
    weights = [1 / (i + 1) ** 0.8 for i in range(len(combos))]
    picks = rng.choices(range(len(combos)), weights=weights, k=n)
    seen = set(picks)
    missing = [i for i in range(len(combos)) if i not in seen]
    for slot, i in zip(range(len(picks)), missing):  # every combination at least once
        picks[slot] = i
    return [{"sell": s, "buy": b, "amount": a} for s, b, a in (combos[i] for i in picks)]


def _leg_key(route: Any) -> tuple[tuple[str, str, str, str], ...]:
    return tuple((leg.provider, leg.asset_in, leg.asset_out, leg.rate_type) for leg in route.legs)


def _value(route: Any, side: str) -> Decimal:
    return route.amount_out if side == "sell" else route.amount_in


def _regret(true: Decimal, best: Decimal, side: str) -> float:
    if side == "sell":
        return float((best - true) / best * 10_000) if best > 0 else 0.0
    return float((true - best) / best * 10_000) if best > 0 else 0.0


async def _oracle(providers: dict[str, dict[str, str]], distinct: list[dict[str, str]]) -> dict[Any, Any]:
    from adapters.registry import build_source, sandbox_values
    from router import Router

    sources = [build_source(n, {**sandbox_values(n, e), "budget_limit": 10_000_000})
               for n, e in providers.items()]
    out: dict[Any, Any] = {}
    async with Router(sources, cache=False, firm_per_source=64, firm_rounds=1, firm_routes=8,
                      deadline=30) as router:
        await router.warm()
        gate = asyncio.Semaphore(8)

        async def one(q: dict[str, str]) -> None:
            async with gate:
                rs = await router.quote(q["sell"], q["buy"], q["amount"])
            firm = {_leg_key(r): r for r in rs.routes if r.kind == "firm"}
            best = min((r for r in firm.values()), key=lambda r: -r.amount_out, default=None)
            out[(q["sell"], q["buy"], q["amount"])] = (best, firm)

        await asyncio.gather(*(one(q) for q in distinct))
        out["__units__"] = router.budgets.spent()
    return out


async def _each_provider(providers: dict[str, dict[str, str]], distinct: list[dict[str, str]],
                         oracle: dict[Any, Any]) -> list[Sample]:
    """Every distinct query asked of each provider alone (direct routes, one after the other, on
    the sandbox without limits), against the oracle's best route of all of them."""
    from adapters.registry import build_source, sandbox_values
    from router import Router

    sources = [build_source(n, {**sandbox_values(n, e), "budget_limit": 10_000_000})
               for n, e in providers.items()]
    samples = []
    async with Router(sources, cache=False, deadline=5) as router:
        await router.warm()
        for q in distinct:
            best, _ = oracle[(q["sell"], q["buy"], q["amount"])]
            sample = Sample(q["sell"], q["buy"], together=None if best is None else best.amount_out,
                            together_providers=() if best is None else tuple(best.providers))
            for name in providers:
                t0 = time.perf_counter()
                rs = await router.quote(q["sell"], q["buy"], q["amount"], providers=[name],
                                        max_hops=1)
                took = (time.perf_counter() - t0) * 1000
                route = rs.best
                if route is not None:
                    cost = getattr(route, "cost_bp", None)
                    sample.answers[name] = Answer("answered", route.amount_out,
                                                  None if cost is None else float(cost), took)
                else:
                    sample.answers[name] = Answer(outcome_of(
                        [u.reason for u in rs.unavailable if u.provider == name]), ms=took)
            samples.append(sample)
    return samples


async def _bestrate(providers: dict[str, dict[str, str]], queries: list[dict[str, str]], *,
                    firm: bool) -> tuple[list[Any], float, dict[str, int]]:
    from adapters.registry import build_source, sandbox_values
    from router import BatchStats, Router

    sources = [build_source(n, sandbox_values(n, e)) for n, e in providers.items()]
    async with Router(sources) as router:
        await router.warm()
        t0 = time.perf_counter()
        results = []
        stats = BatchStats()
        kwargs: dict[str, Any] = {"stats": stats}
        if not firm:
            kwargs.update(firm=False)
        async for _req, rs in router.quote_many(queries, **kwargs):
            results.append(rs)
        wall = time.perf_counter() - t0
        spent = router.budgets.spent()
    return results, wall, spent


async def _firm_everything(providers: dict[str, dict[str, str]], distinct: list[dict[str, str]],
                           seconds: float) -> dict[str, Any]:
    """The naive batch: a full firm quote() per distinct query, one after the other, under the
    real budgets; how many it answers firmly within ``seconds``."""
    from adapters.registry import build_source, sandbox_values
    from router import Router

    sources = [build_source(n, sandbox_values(n, e)) for n, e in providers.items()]
    answered = firm = 0
    async with Router(sources, cache=False) as router:
        await router.warm()
        t0 = time.perf_counter()
        for q in distinct:
            if time.perf_counter() - t0 > seconds:
                break
            rs = await router.quote(q["sell"], q["buy"], q["amount"], deadline=max(0.05, seconds))
            answered += 1
            firm += bool(rs.best is not None and rs.best.kind == "firm")
        spent = router.budgets.spent()
    return {"answered_in_time": answered, "firm_in_time": firm, "seconds": round(seconds, 3),
            "units": spent}


def _stats(providers: dict[str, dict[str, str]]) -> dict[str, Any]:
    import json
    import urllib.request

    out = {}
    for name, block in providers.items():
        with urllib.request.urlopen(block["base_url"] + "/_sandbox/stats", timeout=10) as resp:  # noqa: S310 - loopback
            out[name] = json.loads(resp.read())
    return out


#: Regret histogram bins in basis points: exactly zero, then decades.
REGRET_BINS = (0.0, 0.1, 1.0, 10.0, 100.0)


def _histogram(regrets: list[float]) -> list[int]:
    """Counts per bin: ``== 0``, ``(0, 0.1]``, ``(0.1, 1]``, ``(1, 10]``, ``(10, 100]``, ``> 100``."""
    counts = [0] * (len(REGRET_BINS) + 1)
    for r in regrets:
        i = 0 if r <= 0 else next((k for k, edge in enumerate(REGRET_BINS) if r <= edge),
                                  len(REGRET_BINS))
        counts[i] += 1
    return counts


def run_batch(sc: Any, limited: dict[str, dict[str, str]], unlimited: dict[str, dict[str, str]],
              n: int, distinct_n: int) -> dict[str, Any]:
    queries = make_queries(n, distinct_n, sc.seed)
    distinct = list({(q["sell"], q["buy"], q["amount"]): q for q in queries}.values())
    progress = Progress(5, f"batch {sc.name}")
    results, wall, spent = run(_bestrate(limited, queries, firm=True))
    progress.step()
    emulators = _stats(limited)  # before the naive baseline spends the same keys' budgets
    oracle = run(_oracle(unlimited, distinct))
    progress.step()
    ind_results, ind_wall, _ = run(_bestrate(unlimited, queries, firm=False))
    progress.step()
    with spender(CLIENT_LABELS["firm_everything"]):
        naive = run(_firm_everything(limited, distinct, wall))
    progress.step()
    needed = oracle.pop("__units__")
    from adapters.registry import PROVIDERS

    per_minute = {n: PROVIDERS[n].default_policy().allowed() for n in needed}
    naive["oracle_units"] = needed
    each = run(_each_provider(unlimited, distinct, oracle))
    progress.step()
    naive["minutes_needed"] = round(max(needed[n] / per_minute[n] for n in needed), 1)

    def score(res: list[Any]) -> dict[str, Any]:
        regrets, same, firm_answers, answered = [], 0, 0, 0
        firm_distinct: set[tuple[str, str, str]] = set()
        for q, rs in zip(queries, res):
            best, firm_routes = oracle[(q["sell"], q["buy"], q["amount"])]
            if rs.best is None:
                continue
            answered += 1
            firm_answers += rs.best.kind == "firm"
            if rs.best.kind == "firm":
                firm_distinct.add((q["sell"], q["buy"], q["amount"]))
            if best is None:
                continue
            truth = firm_routes.get(_leg_key(rs.best))
            true_value = _value(truth, "sell") if truth is not None else None
            if true_value is None:
                continue  # the oracle never priced that route firmly: not scored
            regrets.append(_regret(true_value, _value(best, "sell"), "sell"))
            same += _leg_key(rs.best) == _leg_key(best)
        scored = len(regrets)
        return {
            "regret_hist": _histogram(regrets),
            "answered": answered, "firm_answers": firm_answers, "scored": scored,
            "firm_answers_distinct": len(firm_distinct),
            "regret_bp": {"median": round(percentile(regrets, 50), 3) if regrets else None,
                          "p95": round(percentile(regrets, 95), 3) if regrets else None,
                          "max": round(max(regrets), 3) if regrets else None},
            "same_route_as_oracle": round(same / scored, 4) if scored else None,
        }

    return {
        "emulators_after_bestrate": emulators,
        "queries": len(queries), "distinct": len(distinct), "wall_s": round(wall, 3),
        "units": spent, "bestrate": score(results),
        "indicative_only": {**score(ind_results), "wall_s": round(ind_wall, 3)},
        "firm_everything": naive,
        "by_provider": compare(each, list(unlimited), spent),
    }
