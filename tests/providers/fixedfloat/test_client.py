"""FixedFloat client against canned answers: wire format, signature, create's cost, data.errors.

What every client does (error classes, 429, budget units, timeouts, secrets, close) is tested for
all five in ``tests/providers/test_clients.py``; this file keeps what is FixedFloat's own: the
request bytes and X-API-SIGN, the 50-unit ``create`` from the reserve, and the source's reading of
``data.errors``, limits and fees from a canned ``price`` answer.
"""

from __future__ import annotations

import contextlib
import json
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.fixedfloat import FixedFloatClient, FixedFloatSource, sign
from router.errors import AmountOutOfRange, MalformedResponse, ProviderUnavailable
from router.model import Market
from router.secret import Secret
from tests.providers.fixedfloat.canned import (
    KEY,
    PRICE_DATA,
    SECRET,
    Canned,
    FakeFF,
    ok,
)
from tests.providers.harness import RecordingBudget, opened, started

ff = started(FakeFF)


@pytest.fixture
def client(ff: FakeFF, session: aiohttp.ClientSession, budget: RecordingBudget) -> FixedFloatClient:
    return FixedFloatClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                            budget=budget, base_url=ff.base_url, timeout=2.0)  # type: ignore[arg-type]


# -- wire format --------------------------------------------------------------------------------
async def test_price_request_bytes_signature_and_decimals(
        ff: FakeFF, client: FixedFloatClient, budget: RecordingBudget) -> None:
    ff.script["price"] = Canned(ok(PRICE_DATA))
    data = await client.price("float", "BTC", "USDTTRC", "from", Decimal("0.50"))
    method, body, headers = ff.requests[0]
    assert method == "price"
    assert body == (b'{"type":"float","fromCcy":"BTC","toCcy":"USDTTRC",'
                    b'"direction":"from","amount":0.50}')  # compact, amount a JSON number
    assert headers["X-API-KEY"] == KEY
    assert headers["X-API-SIGN"] == sign(SECRET.encode(), body)
    assert headers["Content-Type"] == "application/json; charset=UTF-8"
    assert budget.acquired == [(1, False)]
    assert data.from_.amount == Decimal("0.5") and data.to.amount == Decimal("15000.05")
    assert data.from_.min == Decimal("0.0005") and data.to.precision == 6


async def test_amount_never_in_exponent_form(ff: FakeFF, client: FixedFloatClient) -> None:
    ff.script["price"] = Canned(ok(PRICE_DATA))
    await client.price("fixed", "BTC", "USDTTRC", "to", Decimal("1E+2"))
    assert b'"amount":100}' in ff.requests[0][1]


async def test_ccies_accepts_booleans_and_zero_one(ff: FakeFF, client: FixedFloatClient) -> None:
    ff.script["ccies"] = Canned(ok([
        {"code": "BTC", "coin": "BTC", "network": "BTC", "name": "Bitcoin", "recv": True,
         "send": True, "tag": None, "priority": "5", "logo": "x", "color": "#f7931a"},
        {"code": "USDTTRC", "coin": "USDT", "network": "TRX", "name": "Tether", "recv": 1,
         "send": 0, "priority": 20},
    ]))
    ccies = await client.ccies()
    assert ff.requests[0][1] == b"{}"
    assert ff.requests[0][2]["X-API-SIGN"] == sign(SECRET.encode(), b"{}")
    assert [(c.code, c.asset_id, c.recv, c.send, c.priority) for c in ccies] == [
        ("BTC", "BTC@BTC", True, True, 5), ("USDTTRC", "USDT@TRC20", True, False, 20)]


async def test_create_costs_50_from_the_reserve_and_order_round_trip(
        ff: FakeFF, client: FixedFloatClient, budget: RecordingBudget) -> None:
    order = {"id": "ABC123", "type": "fixed", "status": "NEW", "token": "TOKEN-secretish",
             "from": {"code": "BTC", "amount": "0.5", "address": "bc1qdeposit"},
             "to": {"code": "USDTTRC", "amount": "15000", "address": "TAddr"},
             "time": {"reg": 1, "expiration": 1801, "left": 1800}}
    ff.script["create"] = Canned(ok(order))
    ff.script["order"] = Canned(ok({**order, "token": None, "status": "PENDING"}))
    created = await client.create("fixed", "BTC", "USDTTRC", "from", Decimal("0.5"), "TAddr")
    assert json.loads(ff.requests[0][1])["toAddress"] == "TAddr"
    assert created.id == "ABC123" and created.token == "TOKEN-secretish"
    assert created.from_.address == "bc1qdeposit" and created.to.amount == Decimal("15000")
    assert "TOKEN-secretish" not in repr(created)
    again = await client.order(created.id, created.token or "")
    assert json.loads(ff.requests[1][1]) == {"id": "ABC123", "token": "TOKEN-secretish"}
    assert again.status == "PENDING"
    assert budget.acquired == [(50, True), (1, False)]


# -- data.errors through the source ---------------------------------------------------------------
@pytest.mark.parametrize(("errors", "side", "below", "limit", "asset"), [
    (["LIMIT_MIN"], "sell", True, Decimal("0.0005"), "BTC@BTC"),
    (["LIMIT_MAX"], "sell", False, Decimal("3.5"), "BTC@BTC"),
    (["RESERVE_TO", "LIMIT_MAX"], "sell", False, Decimal("3.5"), "BTC@BTC"),
    (["LIMIT_MIN"], "buy", True, Decimal("15"), "USDT@TRC20"),
])
async def test_data_errors_carry_the_providers_limit(
        ff: FakeFF, session: aiohttp.ClientSession, errors: list[str], side: str, below: bool,
        limit: Decimal, asset: str) -> None:
    data = {**PRICE_DATA, "errors": errors}
    ff.script["price"] = Canned(ok(data))
    async with _source(ff, session) as source:
        with pytest.raises(AmountOutOfRange) as info:
            await source.firm(MARKET, Decimal("0.5") if side == "sell" else Decimal("15000.05"),
                              side)  # type: ignore[arg-type]
    err = info.value
    assert err.below_min is below and err.limit == limit and err.asset == asset
    assert err.reason == ("limit_min" if below else "limit_max")


@pytest.mark.parametrize("errors", [["OFFLINE_TO"], ["MAINTENANCE_FROM"]])
async def test_offline_is_unavailable(ff: FakeFF, session: aiohttp.ClientSession,
                                      errors: list[str]) -> None:
    ff.script["price"] = Canned(ok({**PRICE_DATA, "errors": errors}))
    async with _source(ff, session) as source:
        with pytest.raises(ProviderUnavailable):
            await source.firm(MARKET, Decimal("0.5"), "sell")


@pytest.mark.parametrize("patch", [
    {"from": {**PRICE_DATA["from"], "amount": "0.7"}},  # not what we asked
    {"to": {**PRICE_DATA["to"], "amount": "0"}},
    {"to": {**PRICE_DATA["to"], "amount": "NaN"}},
    {"to": {**PRICE_DATA["to"], "amount": "99999999"}},  # far beyond from.amount * rate
    {"to": {**PRICE_DATA["to"], "code": "ETH"}},
])
async def test_impossible_answers_are_malformed(ff: FakeFF, session: aiohttp.ClientSession,
                                                patch: dict[str, Any]) -> None:
    ff.script["price"] = Canned(ok({**PRICE_DATA, **patch}))
    async with _source(ff, session) as source:
        with pytest.raises(MalformedResponse):
            await source.firm(MARKET, Decimal("0.5"), "sell")


async def test_firm_quote_from_canned_answer(ff: FakeFF, session: aiohttp.ClientSession) -> None:
    ff.script["price"] = Canned(ok(PRICE_DATA))
    async with _source(ff, session) as source:
        quote = await source.firm(MARKET, Decimal("0.5"), "sell")
    assert quote.kind == "firm" and quote.amount_in == Decimal("0.5")
    assert quote.amount_out == Decimal("15000.05") and quote.limit_min == Decimal("0.0005")
    fees = {f.kind: f for f in quote.fees}
    # no feed: the network fee is what the answer implies, 0.5 * 30000.1 - 15000.05 = 0
    assert set(fees) == {"provider"}
    assert fees["provider"].asset == "USDT@TRC20"
    assert fees["provider"].amount == Decimal("75.377136")  # 15000.05 * 0.005 / 0.995


MARKET = Market("fixedfloat", "BTC@BTC", "USDT@TRC20", "float", "BTC/USDTTRC")


def _source(ff: FakeFF,
            session: aiohttp.ClientSession) -> AbstractAsyncContextManager[FixedFloatSource]:
    """An opened FixedFloatSource on the fake server (its feeds 404: no indicative data)."""
    return opened(FixedFloatSource(KEY, SECRET, base_url=ff.base_url), session)


async def test_markets_from_ccies_and_feeds(ff: FakeFF, session: aiohttp.ClientSession) -> None:
    ff.script["ccies"] = Canned(ok([
        {"code": "BTC", "coin": "BTC", "network": "BTC", "recv": True, "send": True},
        {"code": "USDTTRC", "coin": "USDT", "network": "TRX", "recv": 1, "send": 0},
        {"code": "ETH", "coin": "ETH", "network": "ETH", "recv": 0, "send": 1},
    ]))
    ff.feeds["float"] = (b"<rates><item><from>BTC</from><to>ETH</to><in>1</in><out>15</out>"
                         b"<amount>10</amount></item><item><from>ETH</from><to>BTC</to><in>1</in>"
                         b"<out>0.06</out><amount>1</amount></item></rates>")
    async with _source(ff, session) as source:
        markets = await source.markets()
        await source.markets()
    got = {(m.rate_type, m.ref, m.asset_in, m.asset_out) for m in markets}
    assert got == {
        # no export for fixed: every pair ccies allows (recv -> from, send -> to)
        ("fixed", "BTC/ETH", "BTC@BTC", "ETH@ERC20"),
        ("fixed", "USDTTRC/BTC", "USDT@TRC20", "BTC@BTC"),
        ("fixed", "USDTTRC/ETH", "USDT@TRC20", "ETH@ERC20"),
        # float: only what the export lists and ccies allows (ETH cannot be sent in)
        ("float", "BTC/ETH", "BTC@BTC", "ETH@ERC20"),
    }
    assert [r[0] for r in ff.requests] == ["ccies"]  # cached


@pytest.mark.parametrize(("side", "amount", "sent"), [
    ("sell", "0.123456789", b'"amount":0.12345678}'),  # BTC: 8 places, down
    ("buy", "15000.0500001", b'"amount":15000.050001}'),  # USDT: 6 places, up
])
async def test_amount_cut_to_precision(ff: FakeFF, session: aiohttp.ClientSession, side: str,
                                       amount: str, sent: bytes) -> None:
    ff.script["price"] = Canned(ok(PRICE_DATA))
    async with _source(ff, session) as source:
        with contextlib.suppress(MalformedResponse):  # the canned answer is for 0.5 BTC
            await source.firm(MARKET, Decimal(amount), side)  # type: ignore[arg-type]
    assert ff.requests[0][1].endswith(sent)


async def test_indicative_learns_the_payout_fee_the_export_leaves_out(
        ff: FakeFF, session: aiohttp.ClientSession) -> None:
    ff.feeds["float"] = (b"<rates><item><from>BTC</from><to>USDTTRC</to><in>1</in>"
                         b"<out>30000</out><amount>1000000</amount></item></rates>")
    answer = {**PRICE_DATA, "to": {**PRICE_DATA["to"], "amount": "14998.8"}}  # 0.5*30000.1-1.25
    ff.script["price"] = Canned(ok(answer))
    async with _source(ff, session) as source:
        before = await source.indicative(MARKET, Decimal("0.5"), "sell")
        firm = await source.firm(MARKET, Decimal("0.5"), "sell")
        after = await source.indicative(MARKET, Decimal("0.5"), "sell")
    assert before is not None and after is not None
    assert before.amount_out == Decimal("15000") and "network" not in {f.kind for f in before.fees}
    assert {f.kind: f.amount for f in firm.fees}["network"] == Decimal("1.25")
    assert after.amount_out == Decimal("14998.75")
    assert {f.kind: f.amount for f in after.fees}["network"] == Decimal("1.25")
