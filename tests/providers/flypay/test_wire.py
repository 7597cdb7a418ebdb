"""FlyPay wire decoding of the doc's shapes and the ``payways`` model built from them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.flypay import asset_of, build_payways
from adapters.flypay.wire import (
    BALANCES_DECODER,
    ENVELOPE_DECODER,
    ESTIMATE_DECODER,
    JSON_ENCODER,
    PAYWAYS_DECODER,
    TRANSACTION_DECODER,
)


def payway(symbol: str, way: str, crypto: bool | int = True) -> dict[str, Any]:
    """One payway entry with every field the doc lists."""
    return {"symbol": symbol, "name": symbol.upper(), "min_amount": 10, "max_amount": 100000,
            "percent_fee": 0.5, "amount_fee": 1, "append_fee": True, "is_crypto": crypto,
            "has_memo_id": False, "payway": way, "auto_conversation": ["btc"]}


#: ``data`` of a ``payways`` answer shaped as the doc shows it (numbers and strings mixed).
PAYWAYS: dict[str, Any] = {
    "payin": {
        "usdt": {"trc20": payway("usdt", "trc20"), "erc20": payway("usdt", "erc20")},
        "btc": {"btc": payway("btc", "btc")},
        "rub": {"card": payway("rub", "card", crypto=0)},
    },
    "payout": {
        "usdt": {"trc20": payway("usdt", "trc20"), "bep20": payway("usdt", "bep20")},
        "btc": {"btc": payway("btc", "btc")},
    },
    "exchange_payin": [],  # PHP writes an empty associative array as []
    "exchange_payout": {"eth": [payway("eth", "eth")]},
    "exchange": {
        "btc_usdt": {"currency_from": "btc", "currency_to": "usdt",
                     "currency_from_precision": 8, "currency_to_precision": "2",
                     "exchange_rate": "@RATE@", "min_amount": 0.0001,
                     "max_amount": "10", "percent_fee": "0.5", "amount_fee": 1,
                     "currency_fee": "usdt"},
        "usdt_btc": {"currency_from": "usdt", "currency_to": "btc",
                     "currency_from_precision": 2, "currency_to_precision": 8,
                     "exchange_rate": "0.0000152", "min_amount": 10, "max_amount": 0,
                     "percent_fee": 1, "amount_fee": 0.5, "currency_fee": "usdt"},
        "usdt_eth": {"currency_from": "usdt", "currency_to": "eth", "exchange_rate": 0.0003,
                     "min_amount": None, "max_amount": None},
        "btc_xmr": {"currency_from": "btc", "currency_to": "xmr", "exchange_rate": 0},
        "eth_btc": {"currency_from": "eth", "currency_to": "btc", "exchange_rate": "lots"},
        "ltc_btc": {"currency_from": "ltc", "currency_to": "btc", "exchange_rate": 0.001,
                    "currency_fee": "usdt"},  # a third currency: cannot be priced
        "doge_btc": {"currency_from": "doge", "currency_to": "btc", "exchange_rate": 0.000002,
                     "min_amount": 100, "max_amount": 50},  # max below min
    },
}


def envelope(data: Any) -> bytes:
    return json.dumps({"status": "success", "data": data}).encode()


def payways_body() -> bytes:
    """The sample as raw JSON, with the btc_usdt rate a 20-digit JSON number (not a string)."""
    return json.dumps(PAYWAYS).replace('"@RATE@"', "65000.123456789012345").encode()


def test_envelope() -> None:
    env = ENVELOPE_DECODER.decode(envelope({"a": 1}))
    assert env.status == "success" and env.message is None and bytes(env.data) == b'{"a": 1}'
    err = ENVELOPE_DECODER.decode(b'{"status":"error","message":"Invalid amount"}')
    assert err.status == "error" and err.message == "Invalid amount" and bytes(err.data) == b"null"


def test_payways_decode_exact_decimals() -> None:
    data = PAYWAYS_DECODER.decode(payways_body())
    model = build_payways(data, fetched_at=123.0)
    assert set(model.pairs) == {"btc_usdt", "usdt_btc", "usdt_eth"}
    assert model.skipped == 4 and model.fetched_at == 123.0
    pair = model.pairs["btc_usdt"]
    assert pair.rate == Decimal("65000.123456789012345")  # the JSON number, never a float
    assert (pair.places_from, pair.places_to) == (8, 2)
    assert (pair.min, pair.max) == (Decimal("0.0001"), Decimal("10"))
    assert pair.percent == Decimal("0.005") and pair.fixed == Decimal(1)
    assert pair.fee_side == "to" and pair.fee_currency == "usdt"
    back = model.pairs["usdt_btc"]
    assert back.max is None  # 0: no maximum
    assert back.fee_side == "from" and back.percent == Decimal("0.01")
    assert back.fixed == Decimal("0.5") and back.rate == Decimal("0.0000152")
    bare = model.pairs["usdt_eth"]
    assert (bare.min, bare.max, bare.percent, bare.fixed) == (None, None, 0, 0)
    assert bare.fee_side == "from" and bare.places_from is None


def test_payways_networks_to_canonical_assets() -> None:
    model = build_payways(PAYWAYS_DECODER.decode(payways_body()), 0.0)
    assert model.inputs("usdt") == ("USDT@TRC20", "USDT@ERC20")
    assert model.inputs("btc") == ("BTC@BTC",)
    assert model.inputs("rub") == ("RUB",)  # not crypto: no network
    assert model.outputs("usdt") == ("USDT@TRC20", "USDT@BSC")
    assert model.outputs("eth") == ("ETH@ERC20",)  # from exchange_payout, a list under the symbol
    assert model.inputs("ltc") == ("LTC@LTC",)  # no payway: the coin on its home chain


def test_payways_all_empty_php_arrays() -> None:
    body = b'{"payin":[],"payout":[],"exchange_payin":[],"exchange_payout":[],"exchange":[]}'
    model = build_payways(PAYWAYS_DECODER.decode(body), 0.0)
    assert dict(model.pairs) == {} and model.skipped == 0


def test_exchange_as_a_list_uses_its_currencies_as_key() -> None:
    entry = PAYWAYS["exchange"]["usdt_btc"]
    body = json.dumps({"exchange": [entry]}).encode()
    model = build_payways(PAYWAYS_DECODER.decode(body), 0.0)
    assert list(model.pairs) == ["usdt_btc"]


def test_payways_wrong_shape_raises() -> None:
    with pytest.raises(msgspec.ValidationError):
        PAYWAYS_DECODER.decode(b'{"exchange": "none"}')


@pytest.mark.parametrize(("code", "way", "crypto", "expected"), [
    ("usdt", "trc20", True, "USDT@TRC20"),
    ("usdt", "TRC20", None, "USDT@TRC20"),
    ("usdt", "erc20", True, "USDT@ERC20"),
    ("usdt", "bep20", True, "USDT@BSC"),
    ("usdt", "bsc", True, "USDT@BSC"),
    ("usdt", "usdt_trc20", True, "USDT@TRC20"),
    ("usdt", "trc20_usdt", True, "USDT@TRC20"),
    ("usdt", "tron", True, "USDT@TRC20"),
    ("btc", "btc", True, "BTC@BTC"),
    ("btc", "lightning", True, "BTC@LN"),
    ("eth", "erc20", True, "ETH@ERC20"),
    ("eth", "arbitrum", True, "ETH@ARBITRUM"),
    ("bnb", "bep20", True, "BNB@BSC"),
    ("trx", "trc20", True, "TRX@TRC20"),
    ("usdc", "sol", True, "USDC@SOL"),
    ("rub", "card", False, "RUB"),
    ("uah", "card", False, "UAH"),
    ("usdt", None, None, "USDT"),
])
def test_asset_of(code: str, way: str | None, crypto: bool | None, expected: str) -> None:
    assert asset_of(code, way, is_crypto=crypto) == expected


def test_estimate_numbers_and_strings() -> None:
    est = ESTIMATE_DECODER.decode(b'{"currency_from":"btc","currency_to":"usdt",'
                                  b'"amount_from":0.05,"amount_to":"3246.51"}')
    assert est.amount_from == Decimal("0.05") and est.amount_to == Decimal("3246.51")
    with pytest.raises(msgspec.ValidationError):
        ESTIMATE_DECODER.decode(b'{"currency_from":"btc","currency_to":"usdt","amount_from":1}')


def test_balances_map_or_list() -> None:
    one = {"symbol": "btc", "name": "Bitcoin", "amount": 0.5, "amount_locked": "0.1",
           "available_amount": 0.4, "is_crypto": 1}
    by_map = BALANCES_DECODER.decode(json.dumps({"btc": one}).encode())
    by_list = BALANCES_DECODER.decode(json.dumps([one]).encode())
    assert isinstance(by_map, dict) and by_map["btc"].amount_locked == Decimal("0.1")
    assert isinstance(by_list, list) and by_list[0].is_crypto is True


def test_transaction() -> None:
    tx = TRANSACTION_DECODER.decode(json.dumps({
        "id": 77, "create_time": 1700000000, "update_time": 1700000001, "external_id": "ext-1",
        "currency_from": "btc", "currency_to": "usdt", "amount_from": 0.05,
        "amount_to": "3246.51", "type": "exchange", "status": "success", "amount_fee": 17.2,
        "currency_fee": "usdt", "callback_url": "", "client_id": "c1",
        "client_email": "a@b.c", "client_ip": "10.0.0.1"}).encode())
    assert tx.id == 77 and tx.amount_to == Decimal("3246.51") and tx.amount_fee == Decimal("17.2")


def test_encoder_writes_amounts_as_plain_json_numbers() -> None:
    body = JSON_ENCODER.encode({"currency_from": "btc", "amount": Decimal("0.050")})
    assert body == b'{"currency_from":"btc","amount":0.050}'
