"""Input means what it shows: ASCII amounts and asset codes, everything else named as bad."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router import InvalidRequest
from router.request.parse import make_request, parse_deadline


@pytest.mark.parametrize(("text", "amount"), [
    ("0.5", Decimal("0.5")), ("1000", Decimal(1000)), (".5", Decimal("0.5")),
    ("1.", Decimal(1)), (" 2 ", Decimal(2)), ("0001.25", Decimal("1.25")),
])
def test_plain_ascii_decimals_are_amounts(text: str, amount: Decimal) -> None:
    assert make_request("BTC", "USDT", text).amount == amount


@pytest.mark.parametrize(("text", "problem"), [
    ("\u0661\u0662\u0663", "not a plain decimal number"),  # Arabic-Indic 123: Decimal() reads it
    ("1_000", "not a plain decimal number"),  # Decimal() reads 1000
    ("1e3", "not a plain decimal number"),  # the exponent form is not accepted
    ("+1", "not a plain decimal number"),
    ("-inf", "not a plain decimal number"),
    ("nan", "not a plain decimal number"),
    ("0x10", "not a plain decimal number"),
    ("1.2.3", "not a plain decimal number"),
    ("", "not a plain decimal number"),
    ("-3", "-3 is not positive"),
    ("0", "is not positive"),
    ("8" * 80, "absurdly large"),  # was "not a number"
    ("0." + "0" * 70 + "1", "absurdly large or long"),
])
def test_anything_else_is_bad_input_naming_the_amount(text: str, problem: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        make_request("BTC", "USDT", text)
    assert info.value.field == "amount" and problem in str(info.value)
    assert "ASCII digits" in str(info.value) or "greater than 0" in str(info.value) \
        or "at most" in str(info.value)


@pytest.mark.parametrize("code", [
    "u\u017fdt",  # long s: str.upper() makes it USDT
    "da\u0131",  # dotless i: str.upper() makes it DAI
    "\uff22\uff34\uff23",  # full-width BTC
    "BTC\n", "BT C", "USDT@TRC\u0662\u0660",
])
def test_asset_codes_are_ascii_only(code: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        make_request(code, "ETH", "1")
    assert info.value.field == "sell" and "ASCII letters and digits" in str(info.value)


def test_ascii_case_is_folded() -> None:
    req = make_request("btc", "usdt@trc20", "1")
    assert (req.sell, req.buy) == ("BTC", "USDT@TRC20")


@pytest.mark.parametrize("text", ["\u0662", "1_0", "1e1", "inf"])
def test_deadline_text_is_plain_ascii_too(text: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_deadline(text)
    assert info.value.field == "deadline"
