"""Which provider is best for what: the provider comparison of the ``providers`` scenario and of
the batch run, from per-query samples of every provider's own best answer.

For each query (a pair and an amount, sell side) every provider is asked alone; its own best
amount out is compared with the best route of the query (the best of every provider's own answer
and, where given, the route bestrate chose with all of them together):

* **win share**: the share of queries with any answer in which the provider's own answer is the
  best (ties count for each); a query whose best route mixes providers is won by nobody alone;
* **gap to the best route**: ``(best - own) / best`` in basis points, over the queries it answered;
* **cost_bp**: the median of the route's own ``cost_bp`` (what the route costs against the mid
  price), read with ``getattr`` so that runs before routes carried it still report;
* **error / timeout rate**: over the queries on pairs it serves (an unsupported pair or an amount
  outside its limits is "no offer", not an error);
* **latency** p50 / p99 of its answers (ms) and the **units** it spent.

Pair classes: ``fiat on-ramp`` (fiat sold or bought), ``stablecoin`` (a coin against USDT, USDC
or another stablecoin), ``major`` (BTC against ETH), ``alt`` (any other coin pair).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .measure import percentile

__all__ = ["CLASSES", "Answer", "Sample", "compare", "outcome_of", "pair_class"]

CLASSES = ("fiat on-ramp", "stablecoin", "major", "alt")
_STABLE = {"USDT", "USDC", "DAI", "BUSD", "TUSD", "FDUSD", "USDD", "PYUSD"}
_MAJOR = {"BTC", "ETH"}
_TIMEOUT = {"timeout"}
_ERROR = {"provider_error", "rate_limited", "budget_exhausted", "signature_invalid", "auth_failed",
          "provider_unhealthy"}


def pair_class(sell: str, buy: str) -> str:
    """The class of a pair (see the module docstring)."""
    from router.assets import asset_info

    coins = [a.partition("@")[0].upper() for a in (sell, buy)]
    if any(_is_fiat(c, asset_info) for c in coins):
        return "fiat on-ramp"
    if any(c in _STABLE for c in coins):
        return "stablecoin"
    if all(c in _MAJOR for c in coins):
        return "major"
    return "alt"


def _is_fiat(coin: str, asset_info: Any) -> bool:
    try:
        info = asset_info(coin)
    except Exception:  # noqa: BLE001 - an unknown coin is simply not fiat
        return False
    return bool(info is not None and info.fiat)


@dataclass(slots=True)
class Answer:
    """One provider's own answer to one query."""

    outcome: str  # "answered", "no offer", "error", "timeout"
    amount: Decimal | None = None
    cost_bp: float | None = None
    ms: float | None = None


@dataclass(slots=True)
class Sample:
    """One query: every provider's own answer, and the route bestrate chose with all of them
    (its amount and providers), when there is one."""

    sell: str
    buy: str
    answers: dict[str, Answer] = field(default_factory=dict)
    together: Decimal | None = None
    together_providers: tuple[str, ...] = ()


def outcome_of(reasons: Sequence[str]) -> str:
    """The outcome of a provider's quote without a route, from the reasons it was left out."""
    if any(r in _TIMEOUT for r in reasons):
        return "timeout"
    if any(r in _ERROR for r in reasons):
        return "error"
    return "no offer"


def _round(v: float | None, digits: int = 2) -> float | None:
    return None if v is None else round(v, digits)


def compare(samples: Sequence[Sample], names: Sequence[str],
            units: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Per provider and per pair class, the comparison described in the module docstring."""
    per: dict[str, dict[str, Any]] = {n: {"gaps": [], "costs": [], "ms": [], "wins": 0,
                                           "served": 0, "errors": 0, "timeouts": 0,
                                           "answered": 0} for n in names}
    classes: dict[str, Counter[str]] = {}
    class_queries: Counter[str] = Counter()
    scored = mixed = 0
    for s in samples:
        amounts = {n: a.amount for n, a in s.answers.items()
                   if a.outcome == "answered" and a.amount is not None}
        candidates = [*amounts.values()] + ([s.together] if s.together is not None else [])
        best = max(candidates, default=None)
        for n, a in s.answers.items():
            row = per.setdefault(n, {"gaps": [], "costs": [], "ms": [], "wins": 0, "served": 0,
                                     "errors": 0, "timeouts": 0, "answered": 0})
            if a.ms is not None and a.outcome != "no offer":
                row["ms"].append(a.ms)
            if a.outcome == "no offer":
                continue
            row["served"] += 1
            row["errors"] += a.outcome == "error"
            row["timeouts"] += a.outcome == "timeout"
            if a.outcome == "answered" and a.amount is not None and best:
                row["answered"] += 1
                row["gaps"].append(float((best - a.amount) / best * 10_000))
                if a.cost_bp is not None:
                    row["costs"].append(float(a.cost_bp))
        if best is None or best <= 0:
            continue
        scored += 1
        cls = pair_class(s.sell, s.buy)
        class_queries[cls] += 1
        winners = [n for n, v in amounts.items() if v == best]
        if not winners:
            mixed += 1  # the best route mixes providers: nobody wins it alone
        for n in winners:
            per[n]["wins"] += 1
            classes.setdefault(cls, Counter())[n] += 1
    providers = {}
    for n, row in per.items():
        gaps, costs, ms = row["gaps"], row["costs"], row["ms"]
        providers[n] = {
            "win_share": round(row["wins"] / scored, 4) if scored else None,
            "wins": row["wins"], "served": row["served"], "answered": row["answered"],
            "gap_bp": {"median": _round(percentile(gaps, 50)) if gaps else None,
                       "p95": _round(percentile(gaps, 95)) if gaps else None},
            "cost_bp_median": _round(percentile(costs, 50)) if costs else None,
            "error_rate": round(row["errors"] / row["served"], 4) if row["served"] else None,
            "timeout_rate": round(row["timeouts"] / row["served"], 4) if row["served"] else None,
            "latency_ms": {"p50": _round(percentile(ms, 50), 3) if ms else None,
                           "p99": _round(percentile(ms, 99), 3) if ms else None, "n": len(ms)},
            "units": (units or {}).get(n),
        }
    by_class = {}
    for cls in CLASSES:
        wins = classes.get(cls, Counter())
        top = wins.most_common()
        best_n = top[0][1] if top else 0
        by_class[cls] = {"queries": class_queries[cls],
                         "winners": sorted(n for n, k in top if k == best_n) if best_n else [],
                         "wins": best_n,
                         "shares": {n: round(k / class_queries[cls], 4) for n, k in top}}
    return {"queries": len(samples), "scored": scored, "mixed_route_best": mixed,
            "providers": providers, "classes": by_class}
