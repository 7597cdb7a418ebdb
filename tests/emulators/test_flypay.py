"""FlyPay emulator over raw HTTP, with a signer written here from the doc (not the adapter's).

The doc (flypay.txt): ``$signature = hash_hmac("sha256", $json_data, $secret_key)`` sent as
the ``Signature`` header next to ``Api-Key``; the answer carries a ``Signature`` header computed
the same way over the raw response body with the same secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.emulators.flypay import WindowBudget, create_app, credentials
from bench.world import World
from bench.world.profile_flypay import FLYPAY_ASSETS, build_flypay
from tests.support.vclock import FakeClock, virtual_time

KEY, SECRET = "fp-test-key-0001", "fp-test-secret-0001"
KEY2, SECRET2 = "fp-test-key-0002", "fp-test-secret-0002"
BLOCK = {"base_url": "http://ignored", "api_key": KEY, "api_secret": SECRET}
TRON = "TAzsQ9Gx8eqFNFSKbeXrbi45CuVPHzA8wr"
CLIENT = {"client_id": "u-1", "client_ip": "203.0.113.7", "client_email": "user@example.com"}


def sign(secret: str, body: bytes) -> str:
    """The doc: hex HMAC-SHA256 keyed with the secret over the exact JSON string."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FP:
    """A minimal raw client: (http status, headers, raw body); checks answer signatures."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.s, self.base = session, base

    async def raw(self, method: str, body: bytes, *, key: str | None = KEY,
                  secret: str = SECRET, signature: str | None = None, key_header: str = "Api-Key",
                  content_type: str | None = "application/json",
                  verb: str = "POST") -> tuple[int, Mapping[str, str], bytes]:
        h = {"Accept": "application/json"}
        if content_type is not None:
            h["Content-Type"] = content_type
        if key is not None:
            h[key_header] = key
        if signature != "":
            h["Signature"] = signature if signature is not None else sign(secret, body)
        async with self.s.request(verb, f"{self.base}/api/v1/{method}", data=body,
                                  headers=h) as r:
            return r.status, r.headers, await r.read()

    async def call(self, method: str, params: Any = None, *, compact: bool = False,
                   secret: str = SECRET, **kw: Any) -> tuple[int, dict[str, Any]]:
        body = b"" if params is None else json.dumps(
            params, separators=(",", ":") if compact else None).encode()
        status, headers, raw = await self.raw(method, body, secret=secret, **kw)
        assert headers["Signature"] == sign(secret, raw), "answer not signed with the key's secret"
        return status, json.loads(raw, parse_float=Decimal)

    async def ok(self, method: str, params: Any = None, **kw: Any) -> Any:
        status, env = await self.call(method, params, **kw)
        assert status == 200 and env["status"] == "success", env
        return env["data"]

    async def stats(self) -> dict[str, int]:
        async with self.s.get(self.base + "/_sandbox/stats") as r:
            return await r.json()


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[FP]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield FP(session, f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()


@pytest.fixture
async def fp() -> AsyncIterator[FP]:
    async with serve(create_app(World(5, frozen=True), credentials=BLOCK)) as client:
        yield client


def est(src: str = "btc", dst: str = "usdt", amount: Any = "0.01") -> dict[str, Any]:
    return {"currency_from": src, "currency_to": dst, "amount": amount}


def exchange(external_id: str, src: str = "usdt", dst: str = "btc",
             amount: Any = "100") -> dict[str, Any]:
    return {"external_id": external_id, **est(src, dst, amount), **CLIENT}


def D(x: Any) -> Decimal:  # noqa: N802
    assert isinstance(x, (int, Decimal)) and not isinstance(x, bool), x  # the doc: Float
    return Decimal(x)


# --- signatures ---------------------------------------------------------------------------------
def test_signer_matches_protocols_known_answers() -> None:
    # FlyPay's scheme is FixedFloat's (hex HMAC-SHA256 over the raw body): same vectors.
    assert sign("SECRET", b"{}") == \
        "deaf105d300669ecb5f322fc1564ea75595b32bea172e36f338b5e7dad28f670"
    body = json.dumps({"fromCcy": "BTC", "toCcy": "ETH", "amount": 0.1, "direction": "from",
                       "type": "fixed"}).encode()
    assert sign("SECRET", body) == \
        "b24c3dc389a558bea680a8897bccf9e4b0a37da9825da2b5f480eb3401271ebf"


async def test_known_answer_vector_is_accepted_and_answer_signed() -> None:
    app = create_app(World(1, frozen=True), credentials={"api_key": "K", "api_secret": "SECRET"})
    async with serve(app) as c:
        status, headers, raw = await c.raw(
            "balances", b"{}", key="K",
            signature="deaf105d300669ecb5f322fc1564ea75595b32bea172e36f338b5e7dad28f670")
    assert status == 200 and json.loads(raw)["status"] == "success"
    assert headers["Signature"] == sign("SECRET", raw)


async def test_every_answer_is_signed_over_its_raw_body(fp: FP) -> None:
    cases = [("payways", {}), ("exchange/estimated_amount", est(src="nope")),
             ("transaction/status", {"id": 1}), ("no/such/method", {})]
    statuses = [(await fp.call(m, p))[0] for m, p in cases]  # call() checks each Signature
    assert statuses == [200, 422, 404, 404]
    status, env = await fp.call("balances", {}, signature="0" * 64)
    assert status == 401 and env == {"status": "error", "message": "Invalid signature.",
                                     "data": None}


async def test_authorization_header_is_accepted_too(fp: FP) -> None:
    for value in (KEY, f"Bearer {KEY}"):
        data = await fp.ok("balances", {}, key=value, key_header="Authorization")
        assert "btc" in data


async def test_bad_or_missing_signature_is_401_signed(fp: FP) -> None:
    body = b"{}"
    for kw in ({"signature": "0" * 64}, {"secret": "wrong"}, {"signature": ""},
               {"signature": sign(SECRET, b"{ }")}):
        status, headers, raw = await fp.raw("balances", body, **kw)
        assert status == 401 and json.loads(raw)["status"] == "error", kw
        assert headers["Signature"] == sign(SECRET, raw)
    status, _, _ = await fp.raw("balances", body, signature=" " + sign(SECRET, body).upper())
    assert status == 200  # hex compared case-insensitively


async def test_unknown_or_missing_key_is_401_and_unsigned(fp: FP) -> None:
    for key in ("nope", None):
        status, headers, raw = await fp.raw("balances", b"{}", key=key)
        assert status == 401 and "Signature" not in headers
        assert json.loads(raw) == {"status": "error", "message": "Invalid API key.", "data": None}


async def test_raw_bytes_are_verified_not_reserialised(fp: FP) -> None:
    spaced = await fp.ok("exchange/estimated_amount", est())
    compact = await fp.ok("exchange/estimated_amount", est(), compact=True)
    assert spaced == compact
    # PHP's json_encode escapes "/" and sends [] for an empty array: both signed as sent.
    php = (b'{"external_id":"php-1","currency_from":"usdt","currency_to":"btc","amount":100,'
           b'"client_id":"u-1","client_ip":"203.0.113.7","client_email":"user@example.com",'
           b'"callback_url":"https:\\/\\/shop.example\\/cb"}')
    status, headers, raw = await fp.raw("transaction/exchange", php)
    assert status == 200 and json.loads(raw)["data"]["callback_url"] == "https://shop.example/cb"
    for body in (b"", b"[]", b"{ }"):
        status, _, raw = await fp.raw("payways", body)
        assert status == 200 and json.loads(raw)["status"] == "success", body


# --- errors -------------------------------------------------------------------------------------
async def test_content_type_json_is_required(fp: FP) -> None:
    for ct in (None, "text/plain", "application/x-www-form-urlencoded"):
        status, headers, raw = await fp.raw("balances", b"{}", content_type=ct)
        assert status == 415 and headers["Signature"] == sign(SECRET, raw), ct
    status, _, _ = await fp.raw("balances", b"{}", content_type="application/json; charset=UTF-8")
    assert status == 200


async def test_malformed_bodies_are_400(fp: FP) -> None:
    for body in (b"{not json", b"[1, 2]", b'"x"', b'{"amount": NaN}'):
        status, _, raw = await fp.raw("exchange/estimated_amount", body)
        assert status == 400 and json.loads(raw)["status"] == "error", body
    status, headers, raw = await fp.raw("payways", b'{"x": "' + b"a" * 300_000 + b'"}')
    assert status == 413 and headers["Signature"] == sign(SECRET, raw)


async def test_invalid_fields_are_422(fp: FP) -> None:
    bad = [est(src="nope"), est(dst="nope"), est(dst="btc"), est("doge", "ltc"), est(amount="-1"),
           est(amount="0"), est(amount="abc"), est(amount=True), est(amount=[1]),
           est(amount="1e30"), est(src=None), {"currency_from": "btc", "currency_to": "usdt"}]
    for params in bad:
        status, env = await fp.call("exchange/estimated_amount", params)
        assert status == 422 and env["status"] == "error" and env["message"], params
        assert env["data"] is None


async def test_unknown_method_and_wrong_verb(fp: FP) -> None:
    status, env = await fp.call("exchange/nothing", {})
    assert status == 404 and env["status"] == "error"
    status, headers, raw = await fp.raw("payways", b"", verb="GET")
    assert status == 405 and json.loads(raw)["status"] == "error"


# --- payways and quotes -------------------------------------------------------------------------
async def test_payways_structure(fp: FP) -> None:
    data = await fp.ok("payways", {})
    assert set(data) == {"payin", "payout", "exchange_payin", "exchange_payout", "exchange"}
    assert set(data["payin"]["usdt"]) == {"trc20", "erc20", "bep20"}
    assert set(data["payin"]["usdc"]) == {"erc20", "bep20", "sol"}
    assert data["payin"]["rub"]["card"]["is_crypto"] is False
    assert "rub" not in data["exchange_payin"] and "rub" not in data["exchange_payout"]
    for section in ("payin", "payout", "exchange_payin", "exchange_payout"):
        for symbol, ways in data[section].items():
            for payway, e in ways.items():
                assert set(e) == {"symbol", "name", "min_amount", "max_amount", "percent_fee",
                                  "amount_fee", "append_fee", "is_crypto", "has_memo_id",
                                  "payway", "auto_conversation"}
                assert e["symbol"] == symbol == symbol.lower() and e["payway"] == payway
                assert isinstance(e["append_fee"], bool) and isinstance(e["has_memo_id"], bool)
                assert 0 < D(e["min_amount"]) < D(e["max_amount"])
                assert D(e["percent_fee"]) >= 0 and D(e["amount_fee"]) >= 0
                assert e["append_fee"] is section.endswith("payout")
    assert data["payout"]["xrp"]["xrp"]["has_memo_id"] is True
    assert D(data["payout"]["usdt"]["erc20"]["amount_fee"]) > \
        D(data["payout"]["usdt"]["trc20"]["amount_fee"])  # the network matters
    assert "usdc" in data["payin"]["btc"]["btc"]["auto_conversation"]
    for key, e in data["exchange"].items():
        assert key == f"{e['currency_from']}_{e['currency_to']}"
        assert e["currency_fee"] == e["currency_from"]
        assert isinstance(e["currency_from_precision"], int)
        assert 0 < D(e["min_amount"]) < D(e["max_amount"]) and D(e["exchange_rate"]) > 0
    assert "doge_ltc" not in data["exchange"] and "ltc_doge" not in data["exchange"]
    assert {"btc_usdt", "usdt_btc", "doge_usdt", "eth_usdc"} <= set(data["exchange"])


async def test_payways_rate_is_the_world_rate_at_nominal_size() -> None:
    world = World(5, frozen=True)
    prof = build_flypay(world)
    async with serve(create_app(world, credentials=BLOCK)) as c:
        ex = (await c.ok("payways", {}))["exchange"]
    for key in ("btc_usdt", "usdt_btc", "eth_btc", "doge_usdc"):
        src, dst = key.split("_")
        mid = world.cross(src.upper(), dst.upper())
        ratio = D(ex[key]["exchange_rate"]) / mid
        assert abs(ratio - (1 - prof.spread_base)) < Decimal("1e-6"), key


async def test_estimate_matches_the_payways_fee_model(fp: FP) -> None:
    pw = (await fp.ok("payways", {}))["exchange"]["btc_usdt"]
    amount = Decimal("0.01")
    data = await fp.ok("exchange/estimated_amount", est(amount=str(amount)))
    assert data["currency_from"] == "btc" and data["currency_to"] == "usdt"
    assert D(data["amount_from"]) == amount
    fee = amount * D(pw["percent_fee"]) / 100 + D(pw["amount_fee"])
    model = (amount - fee) * D(pw["exchange_rate"])
    got = D(data["amount_to"])
    assert got <= model and got > model * Decimal("0.999")  # size spread only, frozen world


async def test_estimate_worse_for_large_amounts(fp: FP) -> None:
    pw = (await fp.ok("payways", {}))["exchange"]["usdt_btc"]

    async def unit_rate(amount: Decimal) -> Decimal:
        data = await fp.ok("exchange/estimated_amount", est("usdt", "btc", str(amount)))
        fee = amount * D(pw["percent_fee"]) / 100 + D(pw["amount_fee"])
        return D(data["amount_to"]) / (amount - fee)

    small, large = await unit_rate(Decimal(500)), await unit_rate(Decimal(50_000))
    assert D(pw["max_amount"]) >= 50_000
    assert large < small * Decimal("0.995")  # >= 1% of the $100k depth, 2% slope
    assert small < D(pw["exchange_rate"])


async def test_estimate_limits(fp: FP) -> None:
    pw = (await fp.ok("payways", {}))["exchange"]["eth_usdt"]
    lo, hi = D(pw["min_amount"]), D(pw["max_amount"])
    assert (await fp.call("exchange/estimated_amount", est("eth", "usdt", str(lo))))[0] == 200
    assert (await fp.call("exchange/estimated_amount", est("eth", "usdt", str(hi))))[0] == 200
    below = lo - Decimal("0.00000001")
    status, env = await fp.call("exchange/estimated_amount", est("eth", "usdt", str(below)))
    assert status == 422 and str(lo) in env["message"]
    status, env = await fp.call("exchange/estimated_amount", est("eth", "usdt", str(hi * 2)))
    assert status == 422 and str(hi) in env["message"]


async def test_payways_snapshot_per_minute_and_live_estimate() -> None:
    minute = 1_760_000_040.0
    clock = FakeClock(minute + 59)
    async with serve(create_app(World(21, clock=clock), credentials=BLOCK)) as c:
        early = (await c.ok("payways", {}))["exchange"]["btc_usdt"]["exchange_rate"]
        late_est = await c.ok("exchange/estimated_amount", est(amount="0.001"))
        clock.now = minute
        start_est = await c.ok("exchange/estimated_amount", est(amount="0.001"))
        assert (await c.ok("payways", {}))["exchange"]["btc_usdt"]["exchange_rate"] == early
        clock.now = minute + 61
        later = (await c.ok("payways", {}))["exchange"]["btc_usdt"]["exchange_rate"]
    assert later != early
    assert late_est["amount_to"] != start_est["amount_to"]  # the firm number is live


# --- transactions -------------------------------------------------------------------------------
async def test_exchange_transaction_moves_balances(fp: FP) -> None:
    before = await fp.ok("balances", {})
    assert set(before["btc"]) == {"symbol", "name", "amount", "amount_locked",
                                  "available_amount", "is_crypto"}
    quote = await fp.ok("exchange/estimated_amount", est("usdt", "btc", "100"))
    tx = await fp.ok("transaction/exchange", exchange("ord-1"))
    assert tx["type"] == "exchange" and tx["status"] == "completed"
    assert D(tx["amount_from"]) == 100 and tx["amount_to"] == quote["amount_to"]
    assert tx["currency_fee"] == "usdt" and D(tx["amount_fee"]) > 0
    assert isinstance(tx["id"], int) and isinstance(tx["create_time"], int)
    after = await fp.ok("balances", {})
    assert D(after["usdt"]["amount"]) == D(before["usdt"]["amount"]) - 100
    assert D(after["btc"]["amount"]) == D(before["btc"]["amount"]) + D(tx["amount_to"])
    assert await fp.ok("transaction/status", {"id": tx["id"]}) == tx
    assert await fp.ok("transaction/status", {"external_id": "ord-1"}) == tx
    status, _ = await fp.call("transaction/exchange", exchange("ord-1"))
    assert status == 422  # external_id taken
    status, _ = await fp.call("transaction/exchange", exchange("ord-2", amount="79000"))
    assert status == 422  # more than the usdt balance
    status, _ = await fp.call("transaction/exchange", {**exchange("ord-3"),
                                                       "client_email": "not-an-email"})
    assert status == 422
    assert (await fp.call("transaction/status", {"external_id": "nope"}))[0] == 404
    assert (await fp.call("transaction/status", {}))[0] == 422


async def test_payout_and_payin_and_history(fp: FP) -> None:
    payout = {"external_id": "po-1", "currency": "usdt", "payway": "trc20", "amount": "100",
              "wallet": TRON, **CLIENT}
    tx = await fp.ok("transaction/payout", payout)
    assert tx["status"] == "processing" and tx["payway"] == "trc20" and tx["wallet"] == TRON
    assert D(tx["amount_spent"]) == 100 + D(tx["payment_amount_fee"])
    bal = (await fp.ok("balances", {}))["usdt"]
    assert D(bal["amount_locked"]) == D(tx["amount_spent"])
    assert D(bal["available_amount"]) == D(bal["amount"]) - D(bal["amount_locked"])
    bad_wallet = {**payout, "external_id": "po-2", "wallet": "0x1234"}
    assert (await fp.call("transaction/payout", bad_wallet))[0] == 422
    xrp = {**payout, "external_id": "po-3", "currency": "xrp", "payway": "xrp",
           "wallet": "rN7n7otQDd6FczFgLdSqtcsAUxDkw6fzRH"}
    assert (await fp.call("transaction/payout", xrp))[0] == 422  # memo required
    payin = await fp.ok("transaction/payin", {"external_id": "pi-1", "currency": "btc",
                                              "amount": "0.01", **CLIENT})
    assert payin["payway"] == "btc" and payin["wallet"].startswith("bc1")
    assert payin["status"] == "pending" and D(payin["amount_ordered"]) == Decimal("0.01")
    xin = await fp.ok("transaction/exchange_payin", {
        "external_id": "xi-1", "currency_from": "usdt", "currency_to": "btc", "payway": "bep20",
        "amount": "100", **CLIENT})
    assert xin["wallet"].startswith("0x") and D(xin["out_amount"]) > 0
    page = await fp.call("transaction/history", {"limit": 2, "page": 1})
    env = page[1]
    assert env["total_count"] == 3 and env["per_page"] == 2 and env["page"] == 1
    assert [t["external_id"] for t in env["data"]] == ["xi-1", "pi-1"]
    assert (await fp.call("transaction/history", {"limit": 101}))[0] == 422
    addr = await fp.ok("deposit_address/create", {"currency_from": "xrp", "currency_to": "usdt"})
    assert addr["memo_id"] and addr["active"] is True and addr["address"].startswith("r")
    listed = (await fp.call("deposit_address/list", {"currency": "xrp"}))[1]
    assert listed["total_count"] == 1 and listed["data"] == [addr]


# --- budget and stats ---------------------------------------------------------------------------
async def test_budget_overrun_429_then_recovery() -> None:
    clock = FakeClock()
    creds = {KEY: SECRET, KEY2: SECRET2}
    async with serve(create_app(World(5, frozen=True), credentials=creds, clock=clock)) as c:
        for i in range(60):
            clock.now += 0.5 if i == 30 else 0
            assert (await c.call("balances", {}))[0] == 200
        status, headers, raw = await c.raw("balances", b"{}")
        assert status == 429 and headers["Signature"] == sign(SECRET, raw)
        assert json.loads(raw)["status"] == "error" and headers["Retry-After"] == "60"
        assert (await c.call("balances", {}, key=KEY2, secret=SECRET2))[0] == 200  # per key
        clock.now = 1059.9  # the first 30 calls (t=1000) leave the window at t=1060
        assert (await c.call("balances", {}))[0] == 429
        clock.now = 1060.0
        for _ in range(30):
            assert (await c.call("balances", {}))[0] == 200
        assert (await c.call("balances", {}))[0] == 429
        stats = await c.stats()
    assert stats["units"] == 60 + 1 + 30 and stats["rate_limited"] == 3 and stats["blocks"] == 0


async def test_budget_counts_known_keys_only_and_no_limits_disables() -> None:
    clock = FakeClock()
    async with serve(create_app(World(5, frozen=True), credentials=BLOCK, clock=clock)) as c:
        for _ in range(3):
            await c.raw("balances", b"{}", key="unknown")
        await c.raw("balances", b"{}", signature="f" * 64)  # known key, bad signature: charged
        stats = await c.stats()
        assert stats["units"] == 1 and stats["signature_failures"] == 4
    async with serve(create_app(World(5, frozen=True), credentials=BLOCK, no_limits=True,
                                clock=clock)) as c:
        codes = [(await c.call("balances", {}))[0] for _ in range(65)]
        assert codes == [200] * 65


def test_window_budget_retry_after() -> None:
    clock = FakeClock(0.0)
    b = WindowBudget(3, 60.0, clock)
    assert b.acquire("k") is None
    clock.now = 10
    assert b.acquire("k", 2) is None and b.used("k") == 3
    assert b.acquire("k") == 50  # the unit of t=0 frees at t=60
    assert b.acquire("k", 3) == 60  # needs the t=10 units too: t=70
    assert b.acquire("k", 4) == 60 and b.used("k") == 3  # refusals book nothing
    clock.now = 60
    assert b.acquire("k") is None


async def test_stats_count_each_kind_of_answer(fp: FP) -> None:
    await fp.call("balances", {})
    await fp.call("exchange/estimated_amount", est(src="nope"))
    await fp.raw("balances", b"{}", signature="00")
    await fp.raw("balances", b"{}", key="nope")
    assert await fp.stats() == {"requests": 4, "units": 3, "rate_limited": 0, "blocks": 0,
                                "signature_failures": 2, "errors": 1}
    async with fp.s.post(fp.base + "/_sandbox/reset") as r:
        assert r.status == 200
    assert set((await fp.stats()).values()) == {0}


# --- determinism, credentials, profile ------------------------------------------------------------
async def test_same_seed_frozen_worlds_answer_byte_identically() -> None:
    est_body = json.dumps(est("eth", "btc", "3.3")).encode()
    ex_body = json.dumps(exchange("det-1")).encode()
    answers = []
    for seed in (5, 5, 6):
        async with serve(create_app(World(seed, frozen=True), credentials=BLOCK)) as c:
            answers.append(tuple([(await c.raw(m, b))[2] for m, b in (
                ("payways", b"{}"), ("exchange/estimated_amount", est_body),
                ("transaction/exchange", ex_body), ("balances", b"{}"))]))
    assert answers[0] == answers[1]
    assert all(a != b for a, b in zip(answers[0], answers[2], strict=True))


def test_credentials_are_seeded() -> None:
    a, b, c = credentials(World(3)), credentials(World(3)), credentials(World(4))
    assert a == b and a != c
    assert set(a) == {"api_key", "api_secret"} and a["api_key"].isalnum()
    assert len(a["api_key"]) == 32 and len(a["api_secret"]) == 64


async def test_sandbox_block_round_trip() -> None:
    world = World(8, frozen=True)
    creds = credentials(world)
    async with serve(create_app(world, credentials=creds)) as c:
        data = await c.ok("balances", {}, key=creds["api_key"], secret=creds["api_secret"])
    assert "usdt" in data


def test_flypay_profile() -> None:
    w = World(9, frozen=True)
    p = build_flypay(w)
    assert p == build_flypay(World(9, frozen=True)) and p != build_flypay(World(10))
    assert set(p.assets) == set(FLYPAY_ASSETS) and all(w.asset(a) for a in p.assets)
    assert Decimal("0.002") <= p.fees.percent_for("exchange") <= Decimal("0.0035")
    assert p.fees.percent_for("exchange_alt") > p.fees.percent_for("exchange")
    ff = w.profile("fixedfloat")
    assert p.min_usd < ff.min_usd and p.max_usd < ff.max_usd
    assert p.spread(Decimal(1_000)) < ff.spread(Decimal(1_000)) + Decimal("0.0005")
    assert p.spread(Decimal(100_000)) > ff.spread(Decimal(100_000))


@virtual_time
async def test_latency_is_added_to_api_answers_only() -> None:
    app = create_app(World(5, frozen=True), credentials=BLOCK, latency_ms=80)
    async with serve(app) as c:
        loop = asyncio.get_running_loop()  # virtual: exact, whatever the load
        t0 = loop.time()
        await c.ok("balances", {})
        slow = loop.time() - t0
        t0 = loop.time()
        await c.stats()
        fast = loop.time() - t0
    assert slow == pytest.approx(0.08, abs=1e-6) and fast == 0
