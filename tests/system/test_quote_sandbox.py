"""The whole engine on the sandbox: FixedFloat adapter + emulator, as `bestrate quote` runs it."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router


def _sources(sb: Sandbox) -> list:  # type: ignore[type-arg]
    return [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]


async def _stats(base_url: str) -> dict:  # type: ignore[type-arg]
    async with aiohttp.ClientSession() as s, s.get(base_url + "/_sandbox/stats") as resp:
        return await resp.json()


async def test_indicative_ranking_is_corrected_by_firm_quotes() -> None:
    async with Sandbox(seed=5, frozen=True) as sb:
        async with Router(_sources(sb), firm_rounds=0) as r:
            bulk = await r.quote("BTC", "USDT@TRC20", "3", rate_type="float")
        async with Router(_sources(sb)) as r:
            firm = await r.quote("BTC", "USDT@TRC20", "3", rate_type="float")
    assert bulk.best is not None and firm.best is not None
    assert bulk.best.kind == "indicative" and firm.best.kind == "firm"
    # the feed prices a nominal size from a snapshot: for 3 BTC the firm answer is worse
    assert firm.best.amount_out < bulk.best.amount_out
    # and what is left indicative has been calibrated by it, with the gap itemised as spread
    for route in firm.routes:
        if route.kind == "indicative":
            assert any(f.kind == "spread" for f in route.legs[0].fees)
            assert route.amount_out <= firm.best.amount_out


async def test_quote_spends_budget_only_on_firm_calls_and_reports_limits() -> None:
    async with Sandbox(seed=5, frozen=True) as sb:
        base = sb.providers["fixedfloat"]["base_url"]
        async with Router(_sources(sb)) as r:
            await r.warm()
            before = await _stats(base)
            rs = await r.quote("LTC", "XMR", "10")
            after = await _stats(base)
            tiny = await r.quote("BTC", "ETH", "0.00001")
    # every distinct firm leg at FixedFloat cost exactly one unit; indicative prices cost none
    firm_legs = {(leg.asset_in, leg.asset_out, leg.rate_type, leg.amount_in)
                 for route in rs.routes for leg in route.legs
                 if leg.provider == "fixedfloat" and leg.kind == "firm"}
    assert firm_legs and after["units"] - before["units"] == len(firm_legs)
    assert tiny.routes == ()
    mins = [u for u in tiny.unavailable if u.reason == "limit_min"]
    assert mins and all(u.limit is not None and u.limit > Decimal("0.00001") for u in mins)
    assert all(u.asset in ("BTC@BTC", "BTC@LN") for u in mins)
