"""Multi-hop routes on the sandbox, end to end: two legs win where they should and chain exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Route, Router
from tests.system.test_cli import run_cli


def _sources(sb: Sandbox) -> list:  # type: ignore[type-arg]
    return [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]


def _chains(route: Route) -> None:
    for prev, leg in zip(route.legs, route.legs[1:]):
        fee = leg.transfer_fee.amount if leg.transfer_fee is not None else Decimal(0)
        assert leg.amount_in == prev.amount_out - fee, (prev, leg)
        assert prev.asset_out.partition("@")[0] == leg.asset_in.partition("@")[0]
    payout = route.payout_fee.amount if route.payout_fee is not None else Decimal(0)
    assert route.amount_out == route.legs[-1].amount_out - payout
    assert route.amount_in == route.legs[0].amount_in


async def test_coin_to_coin_two_hops_win_when_no_direct_market_is_better() -> None:
    # seed 2: FixedFloat does not accept ADA, and GatePay/FlyPay convert alts only through a hub
    async with Sandbox(seed=2, frozen=True) as sb, Router(_sources(sb)) as r:
        rs = await r.quote("ADA", "LTC", "5000")
        direct = await r.quote("ADA", "LTC", "5000", max_hops=1)
    best = rs.best
    assert best is not None and len(best.legs) == 2 and best.kind == "firm"
    assert all(leg.kind == "firm" for leg in best.legs)
    _chains(best)
    assert best.legs[1].transfer_fee is not None  # GatePay pays out on a network to the next one
    assert direct.routes == ()
    assert {u.reason for u in direct.unavailable} >= {"unsupported_pair"}


async def test_fiat_to_coin_two_hops_and_the_buy_side_backwards() -> None:
    async with Sandbox(seed=0, frozen=True) as sb, Router(_sources(sb)) as r:
        sell = await r.quote("CNY", "BTC", "1000")
        buy = await r.quote("CNY", "BTC", "0.001", side="buy")
        one_hop = await r.quote("CNY", "BTC", "1000", max_hops=1)
    for rs in (sell, buy):
        best = rs.best
        assert best is not None and len(best.legs) == 2
        assert best.providers[0] == "onebitpay"  # the only CNY desk; its rate is never firm
        assert [leg.kind for leg in best.legs] == ["indicative", "firm"]
        _chains(best)
    assert sell.best is not None and sell.best.amount_in == Decimal("1000")
    assert buy.best is not None and buy.best.amount_out >= Decimal("0.001")
    assert one_hop.routes == ()


async def test_three_hops_only_when_asked() -> None:
    async with Sandbox(seed=0, frozen=True) as sb, Router(_sources(sb)) as r:
        two = await r.quote("RUB", "XMR", "100000")
        three = await r.quote("RUB", "XMR", "100000", max_hops=3)
    assert all(len(route.legs) <= 2 for route in two.routes)
    assert len(three.routes) >= len(two.routes)
    for route in three.routes:
        _chains(route)


def test_explain_and_json_carry_legs_fees_and_reasons(tmp_path: Path) -> None:
    proc = run_cli("quote", "CNY", "BTC", "1000", "--explain", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "best route:" in out and "runners-up:" in out and "leg 1 onebitpay" in out
    assert "leg 2" in out and "fee" in out and "left out:" in out
    proc = run_cli("quote", "CNY", "BTC", "1000", "--json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    legs = doc["routes"][0]["legs"]
    assert len(legs) == 2 and {leg["kind"] for leg in legs} == {"indicative", "firm"}
    assert Decimal(legs[1]["amount_in"]) == Decimal(legs[0]["amount_out"]) - (
        Decimal(legs[1]["transfer_fee"]["amount"]) if legs[1]["transfer_fee"] else 0)


def test_unreachable_and_same_asset_exit_1_with_reasons(tmp_path: Path) -> None:
    proc = run_cli("quote", "CNY", "BTC", "1000", "--max-hops", "1", "--json", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["routes"] == [] and doc["unavailable"]
    proc = run_cli("quote", "USDT", "USDT", "10", cwd=tmp_path)
    assert proc.returncode == 1 and "same asset" in proc.stdout
