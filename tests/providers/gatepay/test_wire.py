"""GatePay wire structs: the doc's own examples decode, strings and numbers to exact Decimals."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from adapters.gatepay.wire import (
    CURRENCIES_DECODER,
    ENVELOPE_DECODER,
    ORDER_DECODER,
    PAIRS_DECODER,
    PREVIEW_DECODER,
    CurrencyList,
)

CURRENCY_ANSWER = b'''{"status": "SUCCESS", "code": "000000", "errorMessage": "",
"data": {"currency": ["USDT", "GT", "HOOK", "ETH", "DOT", "BTC"]}}'''

PAIR_ANSWER = b'''{"status": "SUCCESS", "code": "000000", "errorMessage": "", "data": [
{"pair": "BTC_USDT", "sellCurrency": "BTC", "sellCurrencyMax": "31", "sellCurrencyMin": "0.0002",
 "buyCurrency": "USDT", "buyCurrencyMax": "1980000", "buyCurrencyMin": "12"},
{"pair": "BNB_USDT", "sellCurrency": "BNB", "sellCurrencyMax": "410", "sellCurrencyMin": "0.1",
 "buyCurrency": "USDT", "buyCurrencyMax": "100000", "buyCurrencyMin": "10"}]}'''

PREVIEW_ANSWER = b'''{"status": "SUCCESS", "code": "000000", "errorMessage": "",
"data": {"sellCurrency": "GT", "buyCurrency": "USDT", "buyAmount": "1",
 "sellAmount": "0.04466796", "price": "22.38741462", "quoteId": "PAY-16991c65"}}'''

CONVERT_ANSWER = b'''{"status": "SUCCESS", "code": "000000", "errorMessage": "",
"data": {"order_id": "327196066546229248", "userId": 10002, "sellCurrency": "GT",
 "buyCurrency": "USDT", "sellAmount": "0.04464002", "buyAmount": "1", "status": 1,
 "rate": 22.40142365527614, "quoteId": "PAY-2a5743d8", "createTime": 1739971221273}}'''


def _data(raw: bytes) -> msgspec.Raw:
    env = ENVELOPE_DECODER.decode(raw)
    assert env.ok and env.code_text == "000000"
    return env.data


def test_currency_list() -> None:
    got = CURRENCIES_DECODER.decode(_data(CURRENCY_ANSWER))
    assert isinstance(got, CurrencyList)
    assert got.currency[:3] == ["USDT", "GT", "HOOK"]
    assert CURRENCIES_DECODER.decode(b'["BTC"]') == ["BTC"]  # a bare list is accepted too


def test_pair_list_limits_are_exact_decimals() -> None:
    pairs = PAIRS_DECODER.decode(_data(PAIR_ANSWER))
    btc = pairs[0]
    assert (btc.pair, btc.sellCurrency, btc.buyCurrency) == ("BTC_USDT", "BTC", "USDT")
    assert btc.sellCurrencyMin == Decimal("0.0002") and btc.sellCurrencyMax == Decimal("31")
    assert btc.buyCurrencyMin == Decimal("12") and btc.buyCurrencyMax == Decimal("1980000")
    assert isinstance(btc.sellCurrencyMin, Decimal)


def test_numbers_decode_to_decimal_too() -> None:
    pairs = PAIRS_DECODER.decode(b'[{"sellCurrency": "BTC", "buyCurrency": "USDT", '
                                 b'"sellCurrencyMin": 0.0002, "buyCurrencyMax": 1980000}]')
    assert pairs[0].sellCurrencyMin == Decimal("0.0002")
    assert pairs[0].buyCurrencyMax == Decimal("1980000") and pairs[0].sellCurrencyMax is None


def test_preview_price_or_rate() -> None:
    preview = PREVIEW_DECODER.decode(_data(PREVIEW_ANSWER))
    assert preview.sellAmount == Decimal("0.04466796") and preview.buyAmount == Decimal("1")
    assert preview.quoted_rate == Decimal("22.38741462") and preview.quoteId == "PAY-16991c65"
    named_rate = PREVIEW_DECODER.decode(b'{"sellCurrency": "GT", "buyCurrency": "USDT", '
                                        b'"sellAmount": "1", "buyAmount": "22.3", '
                                        b'"rate": "22.3", "quoteId": "q"}')
    assert named_rate.quoted_rate == Decimal("22.3")


def test_order_object() -> None:
    order = ORDER_DECODER.decode(_data(CONVERT_ANSWER))
    assert order.id == "327196066546229248" and order.state == "created"
    assert order.rate == Decimal("22.40142365527614")  # a JSON number, kept exact
    assert order.sellAmount == Decimal("0.04464002") and order.created_at == 1739971221.273
    assert ORDER_DECODER.decode(b'{"order_id": 5, "status": "3"}').state == "success"
    assert ORDER_DECODER.decode(b'{"order_id": "5", "status": 6}').state == "failed"
    assert ORDER_DECODER.decode(b'{"order_id": "5", "status": 9}').state == "status=9"


@pytest.mark.parametrize(("raw", "ok", "code"), [
    (b'{"status": "FAIL", "code": "400002", "label": "INVALID_SIGNATURE", '
     b'"errorMessage": "bad sign", "data": null}', False, "400002"),
    (b'{"status": "SUCCESS", "code": 0, "data": {}}', True, "000000"),
    (b'{"status": "FAIL", "code": "000000"}', False, "000000"),
    (b'{"code": 400622}', False, "400622"),
])
def test_envelope(raw: bytes, ok: bool, code: str) -> None:
    env = ENVELOPE_DECODER.decode(raw)
    assert env.ok is ok and env.code_text == code


def test_envelope_without_code_is_undecodable() -> None:
    with pytest.raises(msgspec.ValidationError):
        ENVELOPE_DECODER.decode(b'{"status": "SUCCESS"}')
