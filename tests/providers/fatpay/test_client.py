"""FaTPay client against canned answers: the RSA request signature, query encoding, limits.

What every client does (error table, 429, budget units, timeouts, secrets, close) is tested for
all five in ``tests/providers/test_clients.py``; this file keeps what is FaTPay's own: the signed
GET as the doc spells it (headers, sorted query, path prefix), the lists' string ``code``, and the
params error whose data carries the fiat limits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.fatpay import FaTPayClient
from router.errors import AmountOutOfRange, Rejected
from tests.providers.fatpay.canned import (
    CURRENCIES,
    PARTNER,
    PRICE,
    TOKENS,
    Canned,
    FakeFaTPay,
    make_client,
    ok,
)
from tests.providers.harness import RecordingBudget, started

fp = started(FakeFaTPay)


@pytest.fixture
def client(fp: FakeFaTPay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> FaTPayClient:
    return make_client(fp, session, budget)


# -- wire format --------------------------------------------------------------------------------
async def test_price_request_is_signed_as_the_doc_says(
        fp: FakeFaTPay, client: FaTPayClient, budget: RecordingBudget) -> None:
    fp.script["price"] = Canned(ok(PRICE))
    data = await client.price("USD", Decimal("199"), "USDT_ERC20")
    seen = fp.requests[0]
    assert seen.query == {"fiatCurrency": "USD", "currencyAmount": "199",
                          "cryptoCurrencyCode": "USDT_ERC20"}
    assert seen.headers["X-Fp-Partner-Id"] == PARTNER and seen.headers["X-Fp-Nonce"] == "868964"
    assert seen.headers["X-Fp-Timestamp"] == "1661346861"
    assert seen.headers["X-Fp-Version"] == "v1.0"
    assert seen.verified, "the signature must verify over METHOD host path ? sorted k=v"
    assert budget.acquired == [(1, False)]
    assert data.cryptoCurrencyAmount == Decimal("181.27") and data.gasFee == Decimal("5.92")


async def test_amount_plain_payment_passed_and_values_encoded_on_the_wire(
        fp: FakeFaTPay, client: FaTPayClient) -> None:
    fp.script["price"] = Canned(ok(PRICE))
    await client.price("USD", Decimal("1E+2"), "USDT_ERC20", payment="card & bank")
    seen = fp.requests[0]
    assert seen.query["currencyAmount"] == "100" and seen.query["payment"] == "card & bank"
    assert "payment=card%20%26%20bank" in seen.raw_path  # encoded on the wire, raw in the signature
    assert seen.verified


@pytest.mark.parametrize(("call", "data"), [("token", TOKENS), ("currency", CURRENCIES)])
async def test_lists_are_signed_gets(fp: FakeFaTPay, client: FaTPayClient,
                                     budget: RecordingBudget, call: str, data: Any) -> None:
    fp.script[call] = Canned(ok(data, code="10000"))  # the string form of the code
    got = await (client.tokens() if call == "token" else client.currencies())
    assert len(got) == len(data)
    assert fp.requests[0].query == {} and fp.requests[0].verified
    assert budget.acquired == [(1, False)]


async def test_base_url_with_a_path_prefix_signs_the_full_path(
        fp: FakeFaTPay, session: aiohttp.ClientSession, budget: RecordingBudget) -> None:
    prefix = web.Application()
    prefix.router.add_get("/gw/open/api/onramp/{call}", fp.handle)
    server = TestServer(prefix)
    await server.start_server()
    try:
        fp.script["token"] = Canned(ok(TOKENS))
        client = make_client(fp, session, budget, base_url=str(server.make_url("/gw")))
        await client.tokens()
        assert fp.requests[0].verified
    finally:
        await server.close()


# -- limits in a params error -------------------------------------------------------------------
@pytest.mark.parametrize(("data", "below", "limit"), [
    ({"minAmount": 20, "maxAmount": 5000}, True, Decimal(20)),
    ({"paymentOptions": [{"name": "card", "minAmount": 20, "maxAmount": 5000},
                         {"name": "bank", "minAmount": 50, "maxAmount": 20000}]}, True,
     Decimal(20)),
])
async def test_params_error_with_limits_in_data_is_out_of_range(
        fp: FakeFaTPay, client: FaTPayClient, data: dict[str, Any], below: bool,
        limit: Decimal) -> None:
    fp.script["price"] = Canned({"code": 10002, "msg": "amount too small", "data": data})
    with pytest.raises(AmountOutOfRange) as info:
        await client.price("USD", Decimal(10), "USDT_ERC20")
    assert info.value.below_min is below and info.value.limit == limit
    assert info.value.asset == "USD" and info.value.code == 10002


async def test_params_error_with_limits_the_amount_is_inside_stays_rejected(
        fp: FakeFaTPay, client: FaTPayClient) -> None:
    fp.script["price"] = Canned({"code": 10002, "msg": "x",
                                 "data": {"minAmount": 20, "maxAmount": 5000}})
    with pytest.raises(Rejected):
        await client.price("USD", Decimal(100), "USDT_ERC20")
