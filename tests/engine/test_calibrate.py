"""Calibration (``router/pricing/calibrate.py``): firm answers correct the remaining indicative prices,
but only ever downwards: an estimate is never flattered by a provider's better-than-feed answer."""

from __future__ import annotations

from decimal import Decimal

from router import Router
from router.model import Fee, Quote
from router.pricing.calibrate import calibrate, firm_ratio
from tests.support.fakes import FakeSource
from tests.support.vclock import virtual_time

D = Decimal
TWO_NETWORKS = [("BTC", "USDT@TRC20"), ("BTC", "USDT@ERC20")]


def _quote(amount_in: str, amount_out: str, fee: str = "1") -> Quote:
    return Quote(provider="a", asset_in="BTC", asset_out="USDT@TRC20", amount_in=D(amount_in),
                 amount_out=D(amount_out), rate_type="float", kind="indicative",
                 fees=(Fee("network", D(fee), "USDT@TRC20"),))


def test_a_better_firm_ratio_leaves_the_estimate_as_it_was() -> None:
    q = _quote("1", "59999")
    for side in ("sell", "buy"):
        assert calibrate(q, D("1.05"), side) == q  # type: ignore[arg-type]


def test_a_worse_firm_ratio_scales_the_estimate_and_itemises_the_spread() -> None:
    q = _quote("1", "59999")  # gross 60000
    out = calibrate(q, D("0.99"), "sell")
    assert out.amount_out == D("59399")  # 60000 * 0.99 - 1
    assert Fee("spread", D("600"), "USDT@TRC20") in out.fees
    bought = calibrate(_quote("1", "59999"), D("0.99"), "buy")
    assert bought.amount_in > D("1") and any(f.kind == "spread" for f in bought.fees)


def test_firm_ratio_is_taken_on_gross_amounts() -> None:
    ind, firm = _quote("1", "59999"), _quote("1", "59399")
    assert firm_ratio(ind, firm, "sell") == D("59400") / D("60000")


@virtual_time
async def test_a_provider_better_than_its_feed_does_not_raise_its_other_estimates() -> None:
    async def best_by_network(firm_factor: str, **kw: object) -> dict[str, tuple[str, Decimal]]:
        # the ERC20 market's feed price is 1.7 % worse: outside any band, it is not asked
        src = FakeSource("a", TWO_NETWORKS, D("60000"), firm_factor=D(firm_factor),
                         rates={"USDT@ERC20": D("59000")})
        async with Router([src], firm_per_source=1, **kw) as r:  # type: ignore[arg-type]
            rs = await r.quote("BTC", "USDT", "1")
        return {route.legs[-1].asset_out: (route.kind, route.amount_out) for route in rs.routes}

    bulk = await best_by_network("1", firm_rounds=0)
    better = await best_by_network("1.02", firm_rounds=1)
    kinds = sorted(kind for kind, _ in better.values())
    assert kinds == ["firm", "indicative"]  # one market asked, the other left an estimate
    for asset, (kind, amount) in better.items():
        if kind == "indicative":
            assert amount == bulk[asset][1]  # not 2 % better than the feed says
        else:
            assert amount > bulk[asset][1]
