"""GatePay client against canned answers: wire format, signatures, convert retries, own codes.

What every client does (error table, 429, budget units, timeouts, secrets, close) is tested for
all five in ``tests/providers/test_clients.py``; this file keeps what is GatePay's own: the
request bytes and X-GatePay-* signature headers, preview's amount checks, signed GETs, convert's
reserve and idempotent retries, and the timestamp error's advice.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.gatepay import (
    DuplicateOrder,
    GatePayClient,
    GatePaySource,
    RateMoved,
    sign,
)
from router.errors import AuthError, InvalidRequest, ProviderUnavailable, TransientError
from router.secret import Secret
from tests.providers.gatepay.canned import (
    CLIENT_ID,
    ORDER,
    PREFIX,
    PREVIEW,
    SECRET,
    Canned,
    FakeGatePay,
    Seen,
    fail,
    make_client,
    ok,
)
from tests.providers.harness import RecordingBudget


@pytest.fixture
def client(gp: FakeGatePay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> GatePayClient:
    return make_client(gp, session, budget, timeout=2.0, clock=lambda: 1740019013.818,
                       nonce=lambda: "9722139164")


def assert_signed(seen: Seen) -> None:
    ts, nonce = seen.headers["X-GatePay-Timestamp"], seen.headers["X-GatePay-Nonce"]
    assert seen.headers["X-GatePay-Certificate-ClientId"] == CLIENT_ID
    assert seen.headers["X-GatePay-Signature"] == sign(SECRET.encode(), ts, nonce, seen.body)
    assert seen.headers["Content-Type"] == "application/json"


# -- wire format --------------------------------------------------------------------------------
async def test_preview_request_bytes_and_signature(gp: FakeGatePay, client: GatePayClient,
                                                   budget: RecordingBudget) -> None:
    gp.script[PREFIX + "/preview"] = Canned(ok(PREVIEW))
    preview = await client.preview("GT", "USDT", buy_amount=Decimal("1"))
    seen = gp.requests[0]
    assert (seen.method, seen.path) == ("POST", PREFIX + "/preview")
    assert seen.body == b'{"sellCurrency":"GT","buyCurrency":"USDT","buyAmount":"1"}'
    assert seen.headers["X-GatePay-Timestamp"] == "1740019013818"
    assert seen.headers["X-GatePay-Nonce"] == "9722139164"
    assert_signed(seen)
    assert budget.acquired == [(1, False)]
    assert preview.sellAmount == Decimal("0.04466796") and preview.quoteId == "PAY-16991c65"


async def test_amounts_are_plain_strings(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX + "/preview"] = Canned(ok(PREVIEW))
    await client.preview("BTC", "USDT", sell_amount=Decimal("1E+2"))
    assert json.loads(gp.requests[0].body)["sellAmount"] == "100"


@pytest.mark.parametrize(("sell", "buy"), [(None, None), (Decimal(1), Decimal(1))])
async def test_preview_needs_exactly_one_amount(gp: FakeGatePay, client: GatePayClient,
                                                budget: RecordingBudget, sell: Decimal | None,
                                                buy: Decimal | None) -> None:
    with pytest.raises(InvalidRequest):
        await client.preview("GT", "USDT", sell_amount=sell, buy_amount=buy)
    assert gp.requests == [] and budget.acquired == []


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
async def test_preview_refuses_impossible_amounts(client: GatePayClient, amount: Decimal) -> None:
    with pytest.raises(InvalidRequest):
        await client.preview("GT", "USDT", sell_amount=amount)


async def test_get_lists_sign_an_empty_body(gp: FakeGatePay, session: aiohttp.ClientSession,
                                            budget: RecordingBudget) -> None:
    gp.script[PREFIX + "/currency"] = Canned(ok({"currency": ["BTC", "USDT"]}))
    gp.script[PREFIX + "/pair"] = Canned(ok([{"pair": "BTC_USDT", "sellCurrency": "BTC",
                                              "buyCurrency": "USDT", "sellCurrencyMin": "0.0002",
                                              "sellCurrencyMax": "31", "buyCurrencyMin": "12",
                                              "buyCurrencyMax": "1980000"}]))
    client = make_client(gp, session, budget)  # real clock, random nonces
    assert await client.currencies("sell") == ["BTC", "USDT"]
    pairs = await client.pairs("BTC")
    assert pairs[0].sellCurrencyMax == Decimal("31")
    first, second = gp.requests
    assert first.method == "GET" and first.query == {"side": "sell"} and first.body == b""
    assert second.query == {"currency": "BTC"}
    for seen in gp.requests:
        assert_signed(seen)
    assert first.headers["X-GatePay-Nonce"] != second.headers["X-GatePay-Nonce"]
    assert budget.acquired == [(1, False), (1, False)]


async def test_order_query(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX + "/order"] = Canned(ok({**ORDER, "status": 3}))
    order = await client.order("327196066546229248")
    # the doc spells it two ways: both are sent
    assert gp.requests[0].query == {"orderId": "327196066546229248",
                                    "OrderID": "327196066546229248"}
    assert order.state == "success" and order.rate == Decimal("22.40142365527614")


# -- convert: reserve, exact echo, idempotent retries ---------------------------------------------
CONVERT_ARGS: dict[str, Any] = {"sell_currency": "GT", "buy_currency": "USDT",
                                "sell_amount": Decimal("0.04464002"), "buy_amount": Decimal("1")}


async def test_convert_body_and_reserve(gp: FakeGatePay, client: GatePayClient,
                                        budget: RecordingBudget) -> None:
    gp.script[PREFIX] = Canned(ok(ORDER))
    order = await client.convert("PAY-2a5743d8", "181147", **CONVERT_ARGS)
    assert json.loads(gp.requests[0].body) == {
        "clientReqId": "181147", "quoteId": "PAY-2a5743d8", "sellCurrency": "GT",
        "buyCurrency": "USDT", "sellAmount": "0.04464002", "buyAmount": "1"}
    assert budget.acquired == [(1, True)]
    assert order.id == "327196066546229248" and order.state == "created"


async def test_convert_retries_with_the_same_client_req_id(
        gp: FakeGatePay, session: aiohttp.ClientSession, budget: RecordingBudget) -> None:
    client = make_client(gp, session, budget, timeout=0.2)
    gp.script[PREFIX] = [Canned(ok(ORDER), delay=1.0), Canned(ok(ORDER))]
    order = await client.convert("PAY-2a5743d8", "req-1", **CONVERT_ARGS)
    assert order.id == "327196066546229248"
    first, second = gp.requests
    assert first.body == second.body and json.loads(second.body)["clientReqId"] == "req-1"
    assert first.headers["X-GatePay-Nonce"] != second.headers["X-GatePay-Nonce"]  # fresh nonce
    assert_signed(second)
    assert budget.acquired == [(1, True), (1, True)]


async def test_duplicate_on_retry_says_the_first_try_landed(
        gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX] = [Canned(fail("300000"), status=500), Canned(fail("400201"))]
    with pytest.raises(DuplicateOrder) as info:
        await client.convert("q", "req-2", **CONVERT_ARGS)
    assert "earlier try" in str(info.value) and info.value.code == "400201"
    assert len(gp.requests) == 2


async def test_rate_moved_is_transient_and_not_retried(gp: FakeGatePay,
                                                       client: GatePayClient) -> None:
    gp.script[PREFIX] = Canned(fail("400622", "CONVERT_FAILED", "rate changed"))
    with pytest.raises(RateMoved) as info:
        await client.convert("q", "req-3", **CONVERT_ARGS)
    assert isinstance(info.value, TransientError) and len(gp.requests) == 1


async def test_convert_gives_up_after_its_attempts(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX] = Canned(fail("300001"), status=500)
    with pytest.raises(ProviderUnavailable):
        await client.convert("q", "req-4", **CONVERT_ARGS, attempts=3)
    assert len(gp.requests) == 3


# -- GatePay's own codes ------------------------------------------------------------------------
async def test_timestamp_error_says_check_the_clock(gp: FakeGatePay,
                                                    client: GatePayClient) -> None:
    gp.script[PREFIX + "/currency"] = Canned(fail("400003", "TIMESTAMP_EXPIRED", "expired"))
    with pytest.raises(AuthError) as info:
        await client.currencies()
    assert "clock" in str(info.value) and info.value.reason == "auth_failed"


def test_accepts_secret_or_str() -> None:
    GatePaySource(Secret(CLIENT_ID), Secret(SECRET))
    with pytest.raises(TypeError):
        GatePayClient(None, client_id=CLIENT_ID, api_secret=Secret(SECRET),  # type: ignore[arg-type]
                      budget=RecordingBudget())  # type: ignore[arg-type]
