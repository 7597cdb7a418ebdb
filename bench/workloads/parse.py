"""Parse time of a synthetic FixedFloat rates export (the biggest bulk file any provider sends)."""

from __future__ import annotations

import time
from typing import Any

from ..measure import summary
from ..scenario import Scenario

__all__ = ["run_parse"]


def run_parse(sc: Scenario) -> dict[str, Any]:
    from adapters.fixedfloat.feeds import parse_rates

    from ..emulators.fixedfloat.feed import render_rates_xml, synthetic_items

    w = sc.parse
    body = render_rates_xml(synthetic_items(w.items, seed=sc.seed))
    items, _skipped = parse_rates(body)
    if len(items) != w.items:
        raise RuntimeError(f"parsed {len(items)} of {w.items} items")
    times = []
    for _ in range(w.repeat):
        t0 = time.perf_counter()
        parse_rates(body)
        times.append((time.perf_counter() - t0) * 1000)
    return {"items": w.items, "bytes": len(body), "parse_ms": summary(times)}
