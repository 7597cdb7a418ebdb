"""What a route costs against the market (``cost_bp``) and its USD values."""

from __future__ import annotations

from decimal import Decimal

from router.model import Fee, Leg, Route
from router.pricing.cost import route_cost, with_costs

D = Decimal
VALUES = {"BTC": D(60000), "USDT": D(1), "ETH": D(3000)}


def _route(out: str = "59000", asset_out: str = "USDT@TRC20", fees: tuple[Fee, ...] = (),
           payout: Fee | None = None) -> Route:
    leg = Leg(provider="p", asset_in="BTC@BTC", asset_out=asset_out, amount_in=D(1),
              amount_out=D(out), fees=fees)
    return Route(legs=(leg,), amount_in=D(1), amount_out=D(out), kind="firm", payout_fee=payout)


def test_cost_is_what_is_lost_against_the_reference_in_basis_points() -> None:
    r = route_cost(_route(fees=(Fee("provider", D("0.001"), "BTC@BTC"),
                                Fee("network", D("1.5"), "USDT@TRC20")),
                          payout=Fee("network", D(1), "USDT@TRC20")), VALUES)
    assert r.usd_in == D("60000.00") and r.usd_out == D("59000.00")
    assert r.cost_bp == D("166.67")  # 1000 / 60000 of what was sent
    assert r.usd_fees == D("62.50")  # 60 + 1.5 + 1: every itemised fee, the payout too
    assert all(isinstance(x, Decimal) for x in (r.cost_bp, r.usd_in, r.usd_out, r.usd_fees))


def test_a_route_better_than_the_reference_has_a_negative_cost() -> None:
    assert route_cost(_route(out="60600"), VALUES).cost_bp == D("-100.00")


def test_missing_reference_leaves_the_figures_unknown() -> None:
    r = route_cost(_route(asset_out="XMR@XMR", out="300"), VALUES)
    assert r.cost_bp is None and r.usd_out is None and r.usd_in == D("60000.00")
    fee_unknown = route_cost(_route(fees=(Fee("provider", D(1), "DOGE@DOGE"),)), VALUES)
    assert fee_unknown.cost_bp == D("166.67") and fee_unknown.usd_fees is None
    (plain,) = with_costs([_route()], None)  # no reference at all: nothing invented
    assert plain.cost_bp is None and plain.usd_in is None
