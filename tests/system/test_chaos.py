"""Chaos on a virtual clock: 2,000 quotes against a sandbox injecting every fault kind.

The run is :func:`bench.workloads.chaos.run_chaos` (its docstring has the workload and the
oracle). Here it runs on the virtual loop of :mod:`tests.support.vclock`, so stalls, storms,
pauses and deadlines keep exact loop time and CPU work costs none: what is asserted cannot depend
on how loaded the machine is. Asserted: every call answered; nothing escaped ``quote`` or reached
the loop's handler; every answer's own ``elapsed_ms`` within its deadline plus the engine's grace
(``router.engine.DEADLINE_GRACE``); no wrong winner; no overrun at any emulator; the chaos was real
(faults injected on at least a sixth of all requests) and most calls still got a route.

The latency distribution under real load (p50, p99, max as the caller sees it) is a benchmark
figure: ``bestrate bench --scenario chaos`` (in ``make bench``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.workloads.chaos import (
    CallLog,
    Oracle,
    check_properties,
    run_chaos,
    wrong_winner,
)
from router.model import Market, Quote, QuoteRequest, Route, RouteSet, Side
from tests.support.vclock import run_virtual


def test_chaos_2000_quotes(tmp_path: Path) -> None:
    figures = run_virtual(run_chaos(2000))
    text = json.dumps(figures, indent=2)
    (tmp_path / "chaos.json").write_text(text)
    print("\nchaos figures (virtual clock):\n" + text)
    check_properties(figures)
    assert figures["loop_s"] >= 50 * 0.4  # the paced batches really took their loop time


# -- the checker can fail ---------------------------------------------------------------------
class _FakeOracle(Oracle):
    def __init__(self, truth: dict[tuple[Any, ...], Quote]) -> None:
        super().__init__({}, {})
        self.truth = truth

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        return self.truth.get((market.provider, amount))

    async def bulk(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        return None


async def test_the_wrong_winner_check_catches_lies_and_lost_answers() -> None:
    from router.pricing.collect import route_of

    req = QuoteRequest(sell="BTC", buy="USDT", amount=Decimal(1))
    m_a = Market("a", "BTC", "USDT@TRC20", "float")
    m_b = Market("b", "BTC", "USDT@TRC20", "float")

    def q(provider: str, out: str) -> Quote:
        return Quote(provider=provider, asset_in="BTC", asset_out="USDT@TRC20",
                     amount_in=Decimal(1), amount_out=Decimal(out), rate_type="float", kind="firm")

    honest_a, lie_b, honest_b = q("a", "60000"), q("b", "90000"), q("b", "59000")
    oracle = _FakeOracle({("a", Decimal(1)): honest_a, ("b", Decimal(1)): honest_b})
    log = CallLog(answers=[(("a", m_a, Decimal(1), "sell"), honest_a, 0.0),
                           (("b", m_b, Decimal(1), "sell"), lie_b, 0.0)])

    def rs(*routes: Route) -> RouteSet:
        return RouteSet(request=req, routes=routes, unavailable=(), elapsed_ms=1.0)

    # a lie ranked first
    why = await wrong_winner(req, rs(route_of(lie_b), route_of(honest_a)), log, 1.0, oracle)
    assert why is not None and why.startswith("A")
    # the honest winner
    assert await wrong_winner(req, rs(route_of(honest_a)), log, 1.0, oracle) is None
    # a truthful, better answer lost
    why = await wrong_winner(req, rs(route_of(honest_b)), CallLog(
        answers=[*log.answers[:1], (("b", m_b, Decimal(1), "sell"), honest_b, 0.0)]), 1.0, oracle)
    assert why is not None and why.startswith("B")
    # nothing at all while a truthful answer arrived
    why = await wrong_winner(req, rs(), log, 1.0, oracle)
    assert why is not None and why.startswith("B")
