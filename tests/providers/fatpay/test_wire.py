"""FaTPay wire decoding: the doc's examples, the assumed list layouts (docs/providers.md), numbers and strings."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from adapters.fatpay.wire import (
    CURRENCIES_DECODER,
    ENVELOPE_DECODER,
    PRICE_DECODER,
    TOKENS_DECODER,
    PaymentOption,
    Token,
    widest_range,
)

# docs/providers.md: the price answer's fields, numbers as JSON numbers, paymentOptions as one object
PRICE_OBJECT = b"""{"fiatCurrency": "USD", "currencyAmount": 199, "cryptoCurrency": "USDT",
 "network": "ERC20", "cryptoCurrencyCode": "USDT_ERC20", "cryptoCurrencyAmount": 181.270001,
 "cryptoCurrencyUnitPrice": 1.0003, "gasFee": 5.92, "platformFee": 11.79, "totalFee": 17.71,
 "paymentOptions": {"name": "card", "processingTime": "1-3 min", "icon": "https://x/i.png",
 "minAmount": 20, "maxAmount": 5000}}"""


def test_envelope_code_integer_or_string() -> None:
    for raw in (b'{"code": 10000, "msg": "success", "data": {"foo": "bar"}}',
                b'{"code": "10000", "msg": "success", "data": [{"foo": "bar1"}]}'):
        env = ENVELOPE_DECODER.decode(raw)
        assert env.code_number == 10000
    err = ENVELOPE_DECODER.decode(b'{"code": "10002", "msg": "incorrect params", "data": null}')
    assert err.code_number == 10002 and err.msg == "incorrect params"
    assert bytes(err.data) == b"null"
    assert ENVELOPE_DECODER.decode(b'{"code": "E1", "msg": ""}').code_number is None


def test_price_answer_decodes_exactly() -> None:
    data = PRICE_DECODER.decode(PRICE_OBJECT)
    assert data.currencyAmount == Decimal("199")
    assert data.cryptoCurrencyAmount == Decimal("181.270001")  # exact: never through float
    assert data.cryptoCurrencyUnitPrice == Decimal("1.0003")
    assert (data.gasFee, data.platformFee, data.totalFee) == (
        Decimal("5.92"), Decimal("11.79"), Decimal("17.71"))
    assert data.options == (PaymentOption("card", Decimal(20), Decimal(5000)),)
    assert all(isinstance(v, Decimal) for v in (data.gasFee, data.options[0].minAmount))


def test_price_answer_with_strings_and_a_list_of_options() -> None:
    raw = (b'{"fiatCurrency":"EUR","currencyAmount":"250.50","cryptoCurrencyCode":"BTC",'
           b'"cryptoCurrencyAmount":"0.00412345","gasFee":"1.2","platformFee":"3.5",'
           b'"paymentOptions":[{"name":"card","minAmount":"20","maxAmount":"5000"},'
           b'{"name":"bank","minAmount":50,"maxAmount":20000}]}')
    data = PRICE_DECODER.decode(raw)
    assert data.currencyAmount == Decimal("250.50") and data.totalFee is None
    assert [o.name for o in data.options] == ["card", "bank"]
    assert widest_range(data.options) == (Decimal(20), Decimal(20000))


def test_missing_required_field_fails() -> None:
    with pytest.raises(msgspec.ValidationError):
        PRICE_DECODER.decode(b'{"fiatCurrency":"USD","currencyAmount":1}')
    with pytest.raises(msgspec.ValidationError):
        PRICE_DECODER.decode(PRICE_OBJECT.replace(b"5.92", b'"lots"'))


def test_assumed_list_layouts() -> None:
    tokens = TOKENS_DECODER.decode(
        b'[{"cryptoCurrencyCode": "USDT_ERC20", "cryptoCurrency": "USDT", "network": "ERC20",'
        b' "precision": 6}, {"cryptoCurrencyCode": "BTC", "cryptoCurrency": "BTC",'
        b' "network": "BTC", "precision": 8, "extra": true}]')
    assert [(t.cryptoCurrencyCode, t.asset_id, t.precision) for t in tokens] == [
        ("USDT_ERC20", "USDT@ERC20", 6), ("BTC", "BTC@BTC", 8)]
    fiats = CURRENCIES_DECODER.decode(
        b'[{"fiatCurrency": "USD", "precision": 2, "paymentOptions": [{"name": "card",'
        b' "minAmount": 20, "maxAmount": 5000}, {"name": "bank", "minAmount": 50,'
        b' "maxAmount": 20000}]}, {"fiatCurrency": "try", "precision": 2,'
        b' "paymentOptions": {"name": "card", "minAmount": 700, "maxAmount": 150000}}]')
    assert [f.asset_id for f in fiats] == ["USD", "TRY"]
    assert widest_range(fiats[0].options) == (Decimal(20), Decimal(20000))
    assert widest_range(fiats[1].options) == (Decimal(700), Decimal(150000))


@pytest.mark.parametrize(("token", "asset"), [
    (Token("USDT_ERC20", "USDT", "ERC20"), "USDT@ERC20"),
    (Token("USDT_TRC20", "USDT", "TRC20"), "USDT@TRC20"),
    (Token("USDT_BSC", "USDT", "BSC"), "USDT@BSC"),
    (Token("USDC_ERC20", "USDC", "ERC20"), "USDC@ERC20"),
    (Token("USDC_SOL", "USDC", "SOL"), "USDC@SOL"),
    (Token("BTC", "BTC", "BTC"), "BTC@BTC"),
    (Token("ETH", "ETH", "ERC20"), "ETH@ERC20"),
    (Token("BNB_BSC", "BNB", "BSC"), "BNB@BSC"),
    (Token("SOL", "SOL", "SOL"), "SOL@SOL"),
    (Token("TRX", "TRX", "TRC20"), "TRX@TRC20"),
    (Token("TRX", "TRX", "TRON"), "TRX@TRC20"),
    # FaTPay's own chain names (its doc's example answers "ethereum_rinkeby")
    (Token("USDT_ERC20", "USDT", "ethereum_mainnet"), "USDT@ERC20"),
    (Token("USDT_ERC20", "USDT", "ethereum_rinkeby"), "USDT@ERC20"),
    (Token("USDT_TRC20", "USDT", "tron_mainnet"), "USDT@TRC20"),
    # no cryptoCurrency/network: read them off the code
    (Token("USDT_TRC20"), "USDT@TRC20"),
    (Token("BNB_BSC"), "BNB@BSC"),
    (Token("BTC"), "BTC@BTC"),
])
def test_canonical_asset_ids(token: Token, asset: str) -> None:
    assert token.asset_id == asset


def test_widest_range_open_bounds() -> None:
    assert widest_range(()) == (None, None)
    opts = (PaymentOption("a", Decimal(5), None), PaymentOption("b", None, Decimal(9)))
    assert widest_range(opts) == (None, None)
