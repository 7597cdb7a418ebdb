"""Never miss the best route: the engine's best direct route against an oracle that firm-quotes
every direct market there is (``bench.oracle``: through the adapters alone, not the engine's plan)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.oracle import direct_queries, run_oracle


def test_queries_cover_every_kind_of_query() -> None:
    qs = direct_queries(130, 0) + direct_queries(130, 3)
    assert {side for *_, side in qs} == {"sell", "buy"}
    assert any(s in ("USD", "EUR", "CNY", "GBP", "RUB") for s, *_ in qs)  # fiat on-ramps
    assert any(s == "BTC" and b == "ETH" for s, b, *_ in qs)  # crypto to crypto


@pytest.mark.parametrize("seed", [0, 3])
async def test_best_route_is_the_oracles_best(seed: int) -> None:
    gaps = await run_oracle(seed, 130)
    assert len(gaps) >= 100
    # every provider is the oracle's best somewhere, on both sides: the comparison covers all five
    assert {g.oracle.provider for g in gaps} == {"fixedfloat", "gatepay", "flypay", "onebitpay",
                                                 "fatpay"}
    assert {g.side for g in gaps} == {"sell", "buy"}
    assert all(g.engine is not None for g in gaps)  # no query the oracle carries is left unrouted
    within = [g for g in gaps if g.bp <= 1]
    assert len(within) >= 0.99 * len(gaps), sorted(g.bp for g in gaps)[-5:]
    worst = max(gaps, key=lambda g: g.bp)
    assert worst.bp <= Decimal(10), worst
