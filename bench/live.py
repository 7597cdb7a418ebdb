"""The provider comparison (``bestrate bench --scenario providers``), on the sandbox or live.

``--live`` runs it against the providers configured with credentials (``BESTRATE_<PROVIDER>_<FIELD>``
or ``[providers.<name>]`` in ``bestrate.toml``; point ``..._BASE_URL`` anywhere, a sandbox
included). Before anything is asked it prints the hard cap of budget units per provider for the
whole run; the router's own budget enforces it (a budget of exactly that many units over a
24-hour window, no margin), and the cap is first clamped to what the provider's per-minute
budget allows for quoting, so the run stays inside both. Without credentials it exits 2.

For each pair, each provider alone (direct routes only, one firm quote), then all of them
together: the best amount out, whether it is firm, and the latency. Loading the providers' lists
(the warm-up) spends units too; the report shows it apart.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Mapping
from typing import Any

from .measure import Progress, summary
from .providercmp import Answer, Sample, compare, outcome_of
from .scenario import Scenario

__all__ = ["compare_providers", "live_sources", "sandbox_capped_sources"]

_DAY = 86_400.0
_DEFAULT_CAP = 5
_CACHE_S = 1.0


def _cap_for(name: str, values: Mapping[str, Any], sc: Scenario) -> int:
    """The scenario's cap for ``name``, clamped to what the provider's own per-minute budget
    (defaults plus any ``budget_*`` overrides) allows for quoting."""
    from adapters.registry import PROVIDERS

    policy = PROVIDERS[name].default_policy()
    changes = {k[len("budget_"):]: values[k] for k in
               ("budget_limit", "budget_window", "budget_margin", "budget_reserve") if k in values}
    if changes:
        policy = dataclasses.replace(policy, **changes)
    return max(1, min(sc.live.units.get(name, _DEFAULT_CAP), policy.allowed()))


def _capped(name: str, values: Mapping[str, Any], cap: int) -> Any:
    from adapters.registry import build_source

    return build_source(name, {**values, "budget_limit": cap, "budget_window": _DAY,
                               "budget_margin": 0.0, "budget_reserve": 0})


def live_sources(sc: Scenario, config_path: str) -> tuple[list[Any], dict[str, int]]:
    """Sources for every configured provider, each capped; ``ConfigError`` when none is."""
    from adapters.registry import field_specs
    from router.errors import ConfigError
    from router.face.config import load_config

    specs = field_specs()
    config = load_config(config_path, specs, required=config_path != "bestrate.toml")
    names = [n for n in specs if config.configured(n, specs)
             and config.providers[n].get("enabled", True)
             and (not sc.providers or n in sc.providers)]
    if not names:
        raise ConfigError("--live", "no provider credentials configured",
                          "set BESTRATE_<PROVIDER>_<FIELD>, e.g. BESTRATE_FIXEDFLOAT_API_KEY and "
                          "BESTRATE_FIXEDFLOAT_API_SECRET, or [providers.<name>] in bestrate.toml")
    caps = {n: _cap_for(n, config.providers[n], sc) for n in names}
    return [_capped(n, config.providers[n], caps[n]) for n in names], caps


def sandbox_capped_sources(sc: Scenario, providers: Mapping[str, Mapping[str, str]]
                           ) -> tuple[list[Any], dict[str, int]]:
    from adapters.registry import sandbox_values

    names = [n for n in providers if not sc.providers or n in sc.providers]
    caps = {n: _cap_for(n, {}, sc) for n in names}
    return [_capped(n, sandbox_values(n, providers[n]), caps[n]) for n in names], caps


def announce(caps: Mapping[str, int], sc: Scenario, mode: str) -> None:
    pairs = ", ".join(f"{s}->{b} {a}" for s, b, a in sc.live.pairs)
    print(f"bestrate bench ({mode}): hard cap of budget units for this run: "
          + ", ".join(f"{n} {c}" for n, c in caps.items())
          + f"; pairs: {pairs}; {sc.live.repeat} round(s)", flush=True)


async def compare_providers(sc: Scenario, sources: list[Any], caps: Mapping[str, int]) -> dict[str, Any]:
    """Each pair: each provider alone (direct routes), then all together. One firm quote per
    provider and request at most (``firm_per_source=1``, one round); the all-together quote
    reuses the providers' firm answers from the cache (kept 1 s), and rounds are 1 s apart so
    each round asks afresh."""
    import asyncio

    from router import MemoryQuoteCache, Router

    w = sc.live
    names = [s.name for s in sources]
    progress = Progress(len(w.pairs) * w.repeat * (len(names) + 1), f"providers {sc.name}")
    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    samples: list[Sample] = []
    async with Router(sources, cache=MemoryQuoteCache(max_age=_CACHE_S), deadline=w.deadline,
                      firm_per_source=1, firm_rounds=1, firm_routes=1) as router:
        await router.warm()
        warmup = router.budgets.spent()
        for round_no in range(w.repeat):
            if round_no:
                await asyncio.sleep(_CACHE_S)
            for sell, buy, amount in w.pairs:
                sample = Sample(sell, buy)
                samples.append(sample)
                for name in [*names, "*"]:
                    only = None if name == "*" else [name]
                    t0 = time.perf_counter()
                    rs = await router.quote(sell, buy, amount, providers=only,
                                            max_hops=2 if only is None else 1)
                    took = (time.perf_counter() - t0) * 1000
                    row = rows.setdefault((sell, buy, amount, name), {"ms": [], "best": None})
                    row["ms"].append(took)
                    best = rs.best
                    if best is not None:
                        row["best"] = {"amount_out": str(best.amount_out), "kind": best.kind,
                                       "providers": list(best.providers)}
                    row["left_out"] = sorted({u.reason for u in rs.unavailable
                                              if u.reason != "not_ranked"
                                              and (only is None or u.provider == name)})
                    if only is None:
                        if best is not None:
                            sample.together = best.amount_out
                            sample.together_providers = tuple(best.providers)
                    elif best is not None:
                        cost = getattr(best, "cost_bp", None)
                        sample.answers[name] = Answer("answered", best.amount_out,
                                                      None if cost is None else float(cost), took)
                    else:
                        sample.answers[name] = Answer(outcome_of(row["left_out"]), ms=took)
                    progress.step()
        spent = router.budgets.spent()
    table = [{"pair": f"{sell}->{buy}", "amount": amount, "provider": name, "best": row["best"],
              "latency_ms": summary(row["ms"]), "left_out": row.get("left_out", [])}
             for (sell, buy, amount, name), row in rows.items()]
    over = {n: spent.get(n, 0) for n in caps if spent.get(n, 0) > caps[n]}
    if over:  # the budgets make this impossible; say so loudly if it ever happens
        print(f"bestrate bench: budget cap exceeded: {over}", file=sys.stderr)
    return {"caps": dict(caps), "units_spent": {n: spent.get(n, 0) for n in caps},
            "units_warmup": {n: warmup.get(n, 0) for n in caps}, "within_caps": not over,
            "comparison": table,
            "by_provider": compare(samples, names, {n: spent.get(n, 0) for n in caps})}
