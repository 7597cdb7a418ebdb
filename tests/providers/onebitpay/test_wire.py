"""1BitPay wire structs decode the doc's examples exactly (strings and numbers to Decimal)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from adapters.onebitpay.wire import (
    CREATE_DECODER,
    ENVELOPE_DECODER,
    JSON_ENCODER,
    RATE_DECODER,
)

DOC_RATE = b'{"code": 200, "message": "Success", "data": {"buyRate":"6.47", "sellRate":"6.9"}}'
DOC_CREATE = (b'{"code": 200, "message": "Success", "data": {"url": "http://sanbox.1bitpay.io/'
              b'1bitpay-open-api-h5/otc.html?t=02d457b0ced0576a69282054911585aa&o=33579344965351'
              b'4240&l=zh", "isNew": true, "orderNo": "335793449653514240"}}')


def test_rate_doc_example() -> None:
    env = ENVELOPE_DECODER.decode(DOC_RATE)
    assert env.code == 200 and env.message == "Success"
    rate = RATE_DECODER.decode(env.data)
    assert rate.buyRate == Decimal("6.47") and rate.sellRate == Decimal("6.9")
    assert isinstance(rate.buyRate, Decimal)


def test_rate_as_json_numbers_is_exact() -> None:
    rate = RATE_DECODER.decode(b'{"buyRate": 7.123456789012345678, "sellRate": 7, "x": 1}')
    assert rate.buyRate == Decimal("7.123456789012345678") and rate.sellRate == Decimal(7)


def test_code_as_string_and_missing_data() -> None:
    env = ENVELOPE_DECODER.decode(b'{"code": "150025", "message": "sign error"}')
    assert env.code == 150025 and bytes(env.data) == b"null"


@pytest.mark.parametrize("data", [b'{"buyRate": "6.47"}', b'{"buyRate": "x", "sellRate": 1}',
                                  b'null', b'[]'])
def test_rate_missing_or_bad_fields_fail(data: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        RATE_DECODER.decode(data)


def test_create_doc_example_hides_the_checkout_url() -> None:
    order = CREATE_DECODER.decode(ENVELOPE_DECODER.decode(DOC_CREATE).data)
    assert order.orderNo == "335793449653514240" and order.isNew is True
    assert order.url.startswith("http://sanbox.1bitpay.io/")
    assert "02d457b0" not in repr(order)
    numeric = CREATE_DECODER.decode(b'{"orderNo": 335793449653514240, "isNew": false}')
    assert numeric.orderNo == "335793449653514240" and numeric.isNew is False


def test_money_is_written_as_json_strings() -> None:
    assert JSON_ENCODER.encode({"cryptoAmount": Decimal("10.50"), "legalAmount": 100}) == (
        b'{"cryptoAmount":"10.50","legalAmount":100}')
