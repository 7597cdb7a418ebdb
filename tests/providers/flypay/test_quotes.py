"""FlyPay pure pricing from the payways model: both fee sides, the buy solver, limits, checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.flypay import Estimate, PairModel, pair_edge
from adapters.flypay.quotes import (
    check_estimate,
    firm_quote,
    indicative_quote,
    sell,
    solve_input,
)
from router.errors import AmountOutOfRange, MalformedResponse
from router.model import Fee, Market
from router.snapshot.edges import price_forward

D = Decimal
BTC_USDT = PairModel(key="btc_usdt", currency_from="btc", currency_to="usdt", rate=D("60000"),
                     places_from=8, places_to=2, min=D("0.001"), max=D("5"),
                     percent=D("0.005"), fixed=D("1"), fee_side="to", fee_currency="usdt")
USDT_BTC = PairModel(key="usdt_btc", currency_from="usdt", currency_to="btc", rate=D("0.00001650"),
                     places_from=2, places_to=8, min=D("10"), max=None,
                     percent=D("0.01"), fixed=D("0.5"), fee_side="from", fee_currency="usdt")
M_BTC_USDT = Market("flypay", "BTC@BTC", "USDT@TRC20", "float", "btc_usdt")
M_USDT_BTC = Market("flypay", "USDT@TRC20", "BTC@BTC", "float", "usdt_btc")


def test_sell_fee_on_the_output() -> None:
    # 0.1 BTC * 60000 = 6000; 0.5 % = 30; minus 1 fixed = 5969
    q = indicative_quote("flypay", M_BTC_USDT, BTC_USDT, D("0.1"), "sell", places_in=8,
                         places_out=2, observed_at=5.0)
    assert q.kind == "indicative" and q.rate_type == "float" and q.observed_at == 5.0
    assert q.amount_in == D("0.1") and q.amount_out == D("5969.00")
    # itemised by the edge: the margin, then the fixed fee as the edge's ``fee_out`` ("network")
    assert q.fees == (Fee("provider", D("30.00"), "USDT@TRC20"),
                      Fee("network", D("1"), "USDT@TRC20"))
    assert (q.limit_min, q.limit_max) == (D("0.001"), D("5"))


def test_sell_fee_on_the_input() -> None:
    # FlyPay: 1000 USDT - 1 % (10) - 0.5 = 989.5 USDT; * 0.0000165 = 0.01632675 BTC
    model = sell(USDT_BTC, D("1000"), 8)
    assert model.amount_out == D("0.01632675")
    assert (model.percent_fee, model.fixed_fee) == (D("10.00"), D("0.5"))
    # the edge: (1000 - ceil(0.5 / 0.99, 0.01) = 0.51) * 0.0000165 * 0.99 = 0.01632666915
    q = indicative_quote("flypay", M_USDT_BTC, USDT_BTC, D("1000"), "sell", places_in=2,
                         places_out=8, observed_at=0.0)
    assert q.amount_out == D("0.01632666")
    assert D(0) <= model.amount_out - q.amount_out <= D("0.01") * USDT_BTC.rate  # 1 quantum in
    assert q.fees == (Fee("provider", D("0.00016492"), "BTC@BTC"),  # 1 % of the gross, in BTC
                      Fee("provider", D("0.51"), "USDT@TRC20"))


def test_output_rounds_down_to_precision() -> None:
    # 7407.4068 - 0.5 % (37.037034) - 1 = 7369.369766: down to 7369.36, never up
    assert sell(BTC_USDT, D("0.12345678"), 2).amount_out == D("7369.36")


@pytest.mark.parametrize(("pair", "market", "want", "places"), [
    (BTC_USDT, M_BTC_USDT, D("500"), (8, 2)),
    (USDT_BTC, M_USDT_BTC, D("0.01"), (2, 8)),
])
def test_buy_solves_the_least_input(pair: PairModel, market: Market, want: Decimal,
                                    places: tuple[int, int]) -> None:
    q = indicative_quote("flypay", market, pair, want, "buy", places_in=places[0],
                         places_out=places[1], observed_at=0.0)
    edge = pair_edge(market, pair, places_in=places[0], places_out=places[1], observed_at=0.0)
    step = Decimal(1).scaleb(-places[0])
    assert q.amount_out == want and price_forward(edge, q.amount_in) >= want
    assert price_forward(edge, q.amount_in - step) < want  # the least input, by the edge
    # and at most one step over the least input by FlyPay's formula (the edge's compromise)
    assert 0 <= q.amount_in - solve_input(pair, want, places[0], places[1]) <= step


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
       st.sampled_from([BTC_USDT, USDT_BTC]))
def test_solve_input_is_the_inverse_of_sell(want: Decimal, pair: PairModel) -> None:
    places_in, places_out = (8, 2) if pair is BTC_USDT else (2, 8)
    target = want if pair is BTC_USDT else want / 10**6  # BTC amounts for usdt_btc
    amount_in = solve_input(pair, target, places_in, places_out)
    assert sell(pair, amount_in, places_out).amount_out >= target
    step = Decimal(1).scaleb(-places_in)
    assert sell(pair, amount_in - step, places_out).amount_out < target


@pytest.mark.parametrize(("amount", "side", "below", "limit"), [
    (D("0.0001"), "sell", True, D("0.001")),
    (D("6"), "sell", False, D("5")),
    (D("400000"), "buy", False, D("5")),  # needs ~6.7 BTC in
    (D("10"), "buy", True, D("0.001")),  # needs ~0.0002 BTC in
])
def test_limits_carry_flypays_figure(amount: Decimal, side: str, below: bool,
                                     limit: Decimal) -> None:
    with pytest.raises(AmountOutOfRange) as info:
        indicative_quote("flypay", M_BTC_USDT, BTC_USDT, amount, side,  # type: ignore[arg-type]
                         places_in=8, places_out=2, observed_at=0.0)
    err = info.value
    assert (err.below_min, err.limit, err.asset) == (below, limit, "BTC@BTC")
    assert err.reason == ("limit_min" if below else "limit_max")


def test_fees_exceeding_the_amount_is_below_minimum() -> None:
    pair = PairModel(key="k", currency_from="btc", currency_to="usdt", rate=D("60000"),
                     places_from=8, places_to=2, min=None, max=None, percent=D(0),
                     fixed=D("100"), fee_side="to", fee_currency="usdt")
    with pytest.raises(AmountOutOfRange) as info:
        indicative_quote("flypay", M_BTC_USDT, pair, D("0.001"), "sell", places_in=8,
                         places_out=2, observed_at=0.0)
    # no minimum stated: the edge names the least input that covers the fee (100 / 60000, up)
    assert info.value.below_min and info.value.limit == D("0.00166667")


def est(amount_from: str, amount_to: str, src: str = "btc", dst: str = "usdt") -> Estimate:
    return Estimate(src, dst, D(amount_from), D(amount_to))


def test_firm_quote_itemises_fees_and_spread() -> None:
    q = firm_quote("flypay", M_BTC_USDT, BTC_USDT, est("0.1", "5950.00"), places_in=8,
                   places_out=2, observed_at=10.0, expires_at=40.0)
    assert q.kind == "firm" and q.amount_in == D("0.1") and q.amount_out == D("5950.00")
    assert (q.observed_at, q.expires_at) == (10.0, 40.0)
    assert q.fees == (Fee("provider", D("30.00"), "USDT@TRC20"),
                      Fee("provider", D("1"), "USDT@TRC20"),
                      Fee("spread", D("19.00"), "USDT@TRC20"))  # the model says 5969


@pytest.mark.parametrize("answer", [
    est("0.1", "0"),
    est("0.1", "-5"),
    est("0.1", "NaN"),
    est("0.1", "Infinity"),
    est("0.2", "5969"),  # not the amount asked
    est("0.1", "7000"),  # beyond 0.1 * 60000 * 1.05
    est("0.1", "5969", src="eth"),
    est("0.1", "5969", dst="usdc"),
])
def test_impossible_estimates(answer: Estimate) -> None:
    with pytest.raises(MalformedResponse):
        check_estimate("flypay", BTC_USDT, D("0.1"), answer, 8)


def test_plausible_estimate_passes() -> None:
    check_estimate("flypay", BTC_USDT, D("0.1"), est("0.10000000", "5969", "BTC", "USDT"), 8)
