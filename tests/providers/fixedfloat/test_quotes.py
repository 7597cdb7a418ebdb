"""FixedFloat pure pricing: indicative quotes from export items, fee itemisation, data.errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.fixedfloat.feeds import FeedItem
from adapters.fixedfloat.quotes import data_error, fees, indicative_quote
from adapters.fixedfloat.wire import PRICE_DECODER
from router.errors import AmountOutOfRange, ProviderUnavailable, Rejected
from router.model import Market

MARKET = Market("fixedfloat", "USDT@TRC20", "BTC", "fixed", "USDTTRC/BTC")
ITEM = FeedItem("USDTTRC", "BTC", Decimal("1"), Decimal("0.000011868696"),
                Decimal("241.04377808"), Decimal("0.0000253"), Decimal("31.6513761468"),
                Decimal("15013.621"))


def quote(amount: str, side: str, item: FeedItem = ITEM):  # type: ignore[no-untyped-def]
    return indicative_quote("fixedfloat", MARKET, item, Decimal(amount), side,  # type: ignore[arg-type]
                            places_in=6, places_out=8, observed_at=123.0)


def test_sell_is_amount_times_rate_less_tofee_rounded_down() -> None:
    q = quote("1000", "sell")
    # 1000 * 0.000011868696 = 0.011868696; - 0.0000253 = 0.011843396 -> 0.01184339 (down)
    assert q.amount_in == Decimal("1000") and q.amount_out == Decimal("0.01184339")
    assert q.kind == "indicative" and q.observed_at == 123.0
    assert q.limit_min == Decimal("31.6513761468") and q.limit_max == Decimal("15013.621")
    assert q.expires_at is None


def test_buy_is_amount_plus_tofee_over_rate_rounded_up() -> None:
    q = quote("0.01", "buy")
    # (0.01 + 0.0000253) / 0.000011868696 = 844.68420119...; up to 6 places
    assert q.amount_out == Decimal("0.01")
    assert q.amount_in == Decimal("844.684202")
    assert (q.amount_in - Decimal("0.000001")) * ITEM.out < Decimal("0.0100253") <= \
        q.amount_in * ITEM.out


def test_fees_itemised_in_asset_out() -> None:
    q = quote("1000", "sell")
    by_kind = {f.kind: f for f in q.fees}
    assert by_kind["network"].amount == Decimal("0.0000253")
    # gross 0.01184339 + 0.0000253 = 0.01186869; fixed margin 1 %: * 0.01 / 0.99
    assert by_kind["provider"].amount == Decimal("0.00011989")
    assert {f.asset for f in q.fees} == {"BTC"}


def test_float_margin_is_half_a_percent() -> None:
    market = Market("fixedfloat", "BTC", "ETH", "float", "BTC/ETH")
    (provider,) = fees(market, Decimal("99.5"), None, 8)
    assert provider.amount == Decimal("0.5")


@pytest.mark.parametrize(("amount", "side", "below", "limit", "asset"), [
    ("31", "sell", True, Decimal("31.6513761468"), "USDT@TRC20"),
    ("15013.63", "sell", False, Decimal("15013.621"), "USDT@TRC20"),
    ("0.0003", "buy", True, Decimal("31.6513761468"), "USDT@TRC20"),  # needs ~27.4 USDT in
])
def test_feed_limits(amount: str, side: str, below: bool, limit: Decimal, asset: str) -> None:
    with pytest.raises(AmountOutOfRange) as info:
        quote(amount, side)
    assert info.value.below_min is below and info.value.limit == limit
    assert info.value.asset == asset


def test_reserve_bounds_the_output() -> None:
    small = FeedItem("USDTTRC", "BTC", Decimal(1), Decimal("0.00001"), Decimal("0.05"))
    with pytest.raises(AmountOutOfRange) as info:
        quote("6000", "sell", small)
    assert not info.value.below_min and info.value.limit == Decimal("0.05")
    assert info.value.asset == "BTC"


def test_output_eaten_by_network_fee_is_below_min() -> None:
    item = FeedItem("USDTTRC", "BTC", Decimal(1), Decimal("0.00001"), Decimal(10),
                    tofee=Decimal("0.001"))
    with pytest.raises(AmountOutOfRange) as info:
        quote("50", "sell", item)
    assert info.value.below_min


def _price(errors: list[str]) -> bytes:
    return (b'{"from":{"code":"USDTTRC","amount":"10","min":"31.65","max":"15013"},'
            b'"to":{"code":"BTC","amount":"0.0001","min":"0.0003","max":"0.17"},"errors":'
            + str(errors).replace("'", '"').encode() + b"}")


@pytest.mark.parametrize(("errors", "side", "cls", "limit", "asset"), [
    ([], "sell", None, None, None),
    (["LIMIT_MIN"], "sell", AmountOutOfRange, Decimal("31.65"), "USDT@TRC20"),
    (["LIMIT_MIN"], "buy", AmountOutOfRange, Decimal("0.0003"), "BTC"),
    (["LIMIT_MAX"], "sell", AmountOutOfRange, Decimal("15013"), "USDT@TRC20"),
    (["RESERVE_FROM"], "sell", AmountOutOfRange, Decimal("15013"), "USDT@TRC20"),
    (["OFFLINE_FROM", "LIMIT_MIN"], "sell", AmountOutOfRange, Decimal("31.65"), "USDT@TRC20"),
    (["MAINTENANCE_TO"], "sell", ProviderUnavailable, None, None),
    (["SOMETHING_NEW"], "sell", Rejected, None, None),
])
def test_data_errors_table(errors: list[str], side: str, cls: type | None,
                           limit: Decimal | None, asset: str | None) -> None:
    err = data_error("fixedfloat", MARKET, side, PRICE_DECODER.decode(_price(errors)))  # type: ignore[arg-type]
    if cls is None:
        assert err is None
        return
    assert type(err) is cls
    if isinstance(err, AmountOutOfRange):
        assert err.limit == limit and err.asset == asset
