"""FlyPay client against canned, signed answers: wire format, response verification, reserve.

What every client does (error table, 429, budget units, timeouts, secrets, close) is tested for
all five in ``tests/providers/test_clients.py``; this file keeps what is FlyPay's own: the request
bytes and Api-Key/Signature headers, the reserve for ``transaction/exchange``, the API prefix in
``base_url``, and the HMAC every answer must carry before its body is read.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.flypay import FlyPayClient, sign
from router.errors import AuthError, RateLimited, Rejected, SignatureInvalid
from router.secret import Secret
from tests.providers.flypay.canned import (
    ESTIMATE,
    KEY,
    SECRET,
    Canned,
    FakeFlyPay,
    error,
    ok,
)
from tests.providers.harness import RecordingBudget, started

fly = started(FakeFlyPay)


@pytest.fixture
def client(fly: FakeFlyPay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> FlyPayClient:
    return FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                        budget=budget, base_url=fly.base_url, timeout=2.0)  # type: ignore[arg-type]


# -- wire format --------------------------------------------------------------------------------
async def test_estimate_request_bytes_headers_and_decimals(
        fly: FakeFlyPay, client: FlyPayClient, budget: RecordingBudget) -> None:
    fly.script["exchange/estimated_amount"] = Canned(ok(ESTIMATE))
    est = await client.estimated_amount("btc", "usdt", Decimal("0.050"))
    method, body, headers = fly.requests[0]
    assert method == "exchange/estimated_amount"
    assert body == b'{"currency_from":"btc","currency_to":"usdt","amount":0.050}'
    assert headers["Api-Key"] == KEY and headers["Signature"] == sign(SECRET.encode(), body)
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert budget.acquired == [(1, False)]
    assert est.amount_from == Decimal("0.05") and est.amount_to == Decimal("2984.5")


async def test_amount_never_in_exponent_form(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["exchange/estimated_amount"] = Canned(ok(ESTIMATE))
    await client.estimated_amount("usdt", "btc", Decimal("1E+2"))
    assert fly.requests[0][1].endswith(b'"amount":100}')


async def test_calls_without_params_sign_an_empty_object(
        fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["payways"] = Canned(ok({"exchange": []}))
    fly.script["balances"] = Canned(ok({"btc": {"symbol": "btc", "amount": "0.5"}}))
    payways = await client.payways()
    balances = await client.balances()
    assert [r[1] for r in fly.requests] == [b"{}", b"{}"]
    assert all(r[2]["Signature"] == sign(SECRET.encode(), b"{}") for r in fly.requests)
    assert payways.exchange == [] and balances["btc"].amount == Decimal("0.5")


async def test_exchange_uses_the_reserve(fly: FakeFlyPay, client: FlyPayClient,
                                         budget: RecordingBudget) -> None:
    fly.script["transaction/exchange"] = Canned(ok({
        "id": 9, "external_id": "e-1", "currency_from": "btc", "currency_to": "usdt",
        "amount_from": 0.05, "amount_to": 2984.5, "type": "exchange", "status": "success",
        "amount_fee": 15, "currency_fee": "usdt"}))
    tx = await client.exchange("e-1", "btc", "usdt", Decimal("0.05"), client_id="c1",
                               client_ip="10.0.0.1", client_email="a@b.c")
    assert json.loads(fly.requests[0][1]) == {
        "external_id": "e-1", "currency_from": "btc", "currency_to": "usdt", "amount": 0.05,
        "client_id": "c1", "client_ip": "10.0.0.1", "client_email": "a@b.c"}
    assert budget.acquired == [(1, True)]
    assert tx.id == 9 and tx.amount_to == Decimal("2984.5")


async def test_base_url_may_carry_the_api_prefix(fly: FakeFlyPay, session: aiohttp.ClientSession,
                                                 budget: RecordingBudget) -> None:
    fly.script["payways"] = Canned(ok({}))
    client = FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                          budget=budget, base_url=fly.base_url + "/api/v1/")  # type: ignore[arg-type]
    await client.payways()
    assert fly.methods() == ["payways"]


# -- response signatures ------------------------------------------------------------------------
@pytest.mark.parametrize("canned", [
    Canned(ok(ESTIMATE), signing="none"),
    Canned(ok(ESTIMATE), signing="bad"),
    Canned(error(), status=400, signing="bad"),
    Canned(error(), status=400, signing="none"),
    Canned("not json", signing="none"),
    Canned(ok(ESTIMATE), status=500, signing="bad"),
    Canned(ok(ESTIMATE), headers={"Signature": "0" * 64}, signing="none"),
])
async def test_unverified_answers_raise_signature_invalid(
        fly: FakeFlyPay, client: FlyPayClient, canned: Canned) -> None:
    fly.script["exchange/estimated_amount"] = canned
    with pytest.raises(SignatureInvalid) as info:
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert info.value.reason == "signature_invalid" and info.value.status == canned.status
    assert "Something" not in str(info.value)  # nothing of the body was read


async def test_repeated_signature_header_is_refused(fly: FakeFlyPay,
                                                    client: FlyPayClient) -> None:
    def twice(_: dict[str, Any]) -> Canned:
        raw = json.dumps(ok(ESTIMATE)).encode()
        return Canned(raw, signing="good", headers={"signature": sign(SECRET.encode(), raw)})

    fly.script["exchange/estimated_amount"] = twice
    with pytest.raises(SignatureInvalid):
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))


async def test_uppercase_hex_signature_is_accepted(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["exchange/estimated_amount"] = Canned(ok(ESTIMATE), signing="upper")
    est = await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert est.amount_to == Decimal("2984.5")


# -- error messages -----------------------------------------------------------------------------
async def test_verified_error_message_is_kept(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["exchange/estimated_amount"] = Canned(error("Pair is disabled"), status=400)
    with pytest.raises(Rejected) as info:
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert "Pair is disabled" in info.value.detail


# -- errors at HTTP 200: the doc defines only ``status: error`` and a message -------------------
@pytest.mark.parametrize("signing", ["good", "bad", "none"])
@pytest.mark.parametrize("message", ["Invalid API key.", "Invalid signature.", "Unauthorized"])
async def test_a_bad_key_at_http_200_is_auth_failed_signed_or_not(
        fly: FakeFlyPay, client: FlyPayClient, message: str, signing: str) -> None:
    fly.script["payways"] = Canned(error(message), status=200, signing=signing)  # type: ignore[arg-type]
    with pytest.raises(AuthError) as info:
        await client.payways()
    assert info.value.reason == "auth_failed"


@pytest.mark.parametrize("signing", ["good", "bad"])
async def test_a_rate_limit_at_http_200_pauses_the_budget(
        fly: FakeFlyPay, client: FlyPayClient, budget: RecordingBudget, signing: str) -> None:
    fly.script["payways"] = Canned(error("Too many requests."), status=200,
                                   headers={"Retry-After": "9"}, signing=signing)  # type: ignore[arg-type]
    with pytest.raises(RateLimited) as info:
        await client.payways()
    assert info.value.retry_after == 9.0 and budget.penalties == [9.0]


async def test_an_unverified_refusal_that_names_nothing_is_a_bad_signature(
        fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["payways"] = Canned(error("Something is wrong"), status=200, signing="bad")
    with pytest.raises(SignatureInvalid):
        await client.payways()


async def test_a_verified_refusal_at_http_200_is_rejected(
        fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["payways"] = Canned(error("Currency pair is disabled"), status=200)
    with pytest.raises(Rejected):
        await client.payways()
