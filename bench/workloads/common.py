"""Helpers shared by the workloads: sources over a sandbox, request sets, trace hooks."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..batchbench import combinations

__all__ = ["CallTimes", "distinct_requests", "make_sources", "ratio", "route_key"]

Providers = Mapping[str, Mapping[str, str]]
#: Budgets big enough never to bind: the workloads that measure speed run on ``--no-limits``
#: sandboxes, so the router's own budgets must not bind either.
HUGE_BUDGET = 10_000_000


def make_sources(providers: Providers, only: Sequence[str] = (), *,
                 budget_limit: int | None = HUGE_BUDGET) -> list[Any]:
    from adapters.registry import build_source, sandbox_values

    out = []
    for name, entry in providers.items():
        if only and name not in only:
            continue
        values = sandbox_values(name, entry)
        if budget_limit is not None:
            values["budget_limit"] = budget_limit
        out.append(build_source(name, values))
    return out


def distinct_requests(n: int, seed: int) -> list[tuple[str, str, str]]:
    """``n`` pairwise different (sell, buy, amount) requests over every provider's pairs, $30 to
    $150,000; after the first round through the combinations the amounts step by one quantum."""
    import random

    combos = combinations()
    random.Random(seed).shuffle(combos)
    out = []
    for i in range(n):
        sell, buy, amount = combos[i % len(combos)]
        step = i // len(combos)
        if step:
            d = Decimal(amount)
            amount = str(d + step * Decimal(1).scaleb(d.as_tuple().exponent))  # type: ignore[arg-type]
        out.append((sell, buy, amount))
    return out


def route_key(route: Any) -> tuple[tuple[str, str, str, str], ...] | None:
    if route is None:
        return None
    return tuple((leg.provider, leg.asset_in, leg.asset_out, leg.rate_type) for leg in route.legs)


def ratio(baseline: float | None, ours: float | None) -> float | None:
    """``baseline / ours`` rounded (None when either is missing or ours is zero)."""
    if baseline is None or ours is None or ours == 0:
        return None
    return round(baseline / ours, 2)


class CallTimes:
    """aiohttp trace hooks timing every HTTP exchange, attributed to a provider by host:port."""

    def __init__(self, providers: Providers) -> None:
        self.by_host = {urlsplit(b["base_url"]).netloc: n for n, b in providers.items()}
        self.current: list[tuple[str, float]] = []
        self.recording = True
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._start)
        self.config.on_request_end.append(self._end)
        self.config.on_request_exception.append(self._end)

    async def _start(self, session: Any, ctx: Any, params: Any) -> None:
        ctx.t0 = time.perf_counter()

    async def _end(self, session: Any, ctx: Any, params: Any) -> None:
        if self.recording:
            name = self.by_host.get(params.url.raw_authority, "?")
            self.current.append((name, time.perf_counter() - ctx.t0))

    def take(self) -> list[tuple[str, float]]:
        out, self.current = self.current, []
        return out
