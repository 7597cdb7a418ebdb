"""1BitPay client against canned answers: wire format, MD5 signature, create, minimum volume.

What every client does (error table, 429, budget units, timeouts, secrets, close) is tested for
all five in ``tests/providers/test_clients.py``; this file keeps what is 1BitPay's own: the
request bytes and signed headers, JSON-number rates, ``otc/create``'s body, reserve and input
checks, and the limit code 150032 carries.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.onebitpay import OneBitPayClient
from router.errors import AmountOutOfRange, InvalidRequest, UnsupportedPair
from tests.providers.harness import RecordingBudget, started
from tests.providers.onebitpay.canned import (
    KEY,
    MERCHANT,
    SECRET,
    Canned,
    Fake1BitPay,
    doc_sign,
    make_client,
    ok,
)

fake = started(Fake1BitPay)


@pytest.fixture
def client(fake: Fake1BitPay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> OneBitPayClient:
    return make_client(fake.base_url, session, budget, clock=lambda: 1700000000.123,
                       nonce=lambda: "a1B2c3")


# -- wire format --------------------------------------------------------------------------------
async def test_rate_request_bytes_headers_and_signature(
        fake: Fake1BitPay, client: OneBitPayClient, budget: RecordingBudget) -> None:
    fake.script["rate"] = Canned(ok({"buyRate": "6.47", "sellRate": "6.9"}))
    rate = await client.rate("USDT", "CNY")
    method, body, headers = fake.requests[0]
    assert method == "rate"
    assert body == b'{"cryptoCurrency":"USDT","legalCurrency":"CNY"}'
    assert headers["Content-Type"] == "application/json"
    assert (headers["Nonce"], headers["TimeStamp"], headers["SignType"], headers["Lang"]) == (
        "a1B2c3", "1700000000123", "1", "en")
    assert headers["MerchantNo"] == MERCHANT and headers["ApiKey"] == KEY
    assert headers["Sign"] == doc_sign(headers, body, SECRET)
    assert (rate.buyRate, rate.sellRate) == (Decimal("6.47"), Decimal("6.9"))
    assert budget.acquired == [(1, False)]


async def test_rate_accepts_json_numbers(fake: Fake1BitPay, client: OneBitPayClient) -> None:
    fake.script["rate"] = Canned(b'{"code":200,"message":"Success","data":'
                                 b'{"buyRate":7.2512,"sellRate":7.0101}}')
    rate = await client.rate("USDT", "CNY")
    assert (rate.buyRate, rate.sellRate) == (Decimal("7.2512"), Decimal("7.0101"))


async def test_create_is_signed_uses_the_reserve_and_sends_money_as_strings(
        fake: Fake1BitPay, client: OneBitPayClient, budget: RecordingBudget) -> None:
    fake.script["create"] = Canned(ok({"url": "https://x/otc.html?t=TOKEN", "isNew": True,
                                       "orderNo": "335793449653514240"}))
    order = await client.create(
        order_type=2, crypto="USDT", fiat="CNY", merchant_order_no="1231222112d8",
        user_name="陈先生", area_code="+86", phone="18848820305", id_card_type=1,
        id_card="412627288918989891", pay_way=1, crypto_amount=Decimal("10.50"),
        bank="建设银行", bank_account="6217229282829299111", async_url="https://example.com")
    _, body, headers = fake.requests[0]
    sent = json.loads(body)
    assert sent["cryptoAmount"] == "10.50" and sent["orderType"] == 2 and sent["kyc"] == 2
    assert sent["h5"] is False and "syncUrl" not in sent and "bankBranch" not in sent
    assert "legalAmount" not in sent
    assert headers["Sign"] == doc_sign(headers, body, SECRET)
    assert order.orderNo == "335793449653514240" and "TOKEN" not in repr(order)
    assert budget.acquired == [(1, True)]


@pytest.mark.parametrize("kwargs", [
    {"order_type": 3},
    {"legal_amount": Decimal("100.5")},  # the doc: legalAmount takes no decimals
    {"bank": None},  # a sell order needs the user's bank
    {"crypto_amount": Decimal(0)},
])
async def test_create_refuses_bad_input_before_spending(
        fake: Fake1BitPay, client: OneBitPayClient, budget: RecordingBudget,
        kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = dict(
        order_type=2, crypto="USDT", fiat="CNY", merchant_order_no="m1", user_name="u",
        area_code="+86", phone="1", id_card_type=1, id_card="x", pay_way=1,
        crypto_amount=Decimal(10), bank="b", bank_account="a")
    if "legal_amount" in kwargs:
        args["crypto_amount"] = None
    args.update(kwargs)
    with pytest.raises(InvalidRequest):
        await client.create(**args)
    assert fake.requests == [] and budget.acquired == []


# -- minimum volume -----------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["exceeds the maximum volume", "超过最大交易量", "Amount too large"])
async def test_150031_naming_a_maximum_is_above_the_limit(
        fake: Fake1BitPay, client: OneBitPayClient, message: str) -> None:
    fake.script["rate"] = Canned({"code": 150031, "message": message, "data": None})
    with pytest.raises(AmountOutOfRange) as info:
        await client.rate("USDT", "CNY")
    assert not info.value.below_min and info.value.reason == "limit_max"
    assert info.value.code == 150031 and info.value.asset == "CNY"


async def test_150031_otherwise_is_an_unsupported_pair(
        fake: Fake1BitPay, client: OneBitPayClient) -> None:
    fake.script["rate"] = Canned({"code": 150031, "message": "trading pair does not exist",
                                  "data": None})
    with pytest.raises(UnsupportedPair):
        await client.rate("USDT", "CNY")


async def test_below_minimum_volume_carries_the_assumed_limit(
        fake: Fake1BitPay, client: OneBitPayClient) -> None:
    fake.script["rate"] = Canned({"code": 150032, "message": "nope", "data": None})
    with pytest.raises(AmountOutOfRange) as info:
        await client.rate("USDT", "CNY")
    err = info.value
    assert err.below_min and err.limit == Decimal(100) and err.asset == "CNY"
    assert err.reason == "limit_min" and err.code == 150032
