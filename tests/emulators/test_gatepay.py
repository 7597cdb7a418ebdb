"""Gate Pay convert emulator over raw HTTP, with a signer written here from the doc (not the
adapter's)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.emulators.gatepay import STATE_KEY, WindowBudget, create_app, credentials
from bench.world import World
from bench.world.profile_gatepay import build_gatepay
from tests.support.vclock import FakeClock, virtual_time

CID, SECRET = "mZ96D37oKk-HrWJc", "test-secret-0001"
CID2, SECRET2 = "client-two", "test-secret-0002"
CREDS = {CID: SECRET, CID2: SECRET2}
WALL0 = 1_760_000_000.0
COINS = {"BTC", "ETH", "USDT", "USDC", "GT", "LTC", "SOL", "DOGE", "TRX", "XRP", "BNB", "TON",
         "ADA"}


def sign(secret: str, ts: str, nonce: str, body: bytes) -> str:
    """The doc: hex HMAC-SHA512(secret, ts + "\\n" + nonce + "\\n" + body + "\\n")."""
    return hmac.new(secret.encode(), ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n",
                    hashlib.sha512).hexdigest()


class GP:
    """A minimal raw client. ``raw`` returns (http status, headers, body bytes)."""

    _nonces = itertools.count(1)

    def __init__(self, session: aiohttp.ClientSession, base: str, wall: FakeClock) -> None:
        self.s, self.base, self.wall = session, base, wall

    async def raw(self, method: str, path: str, body: bytes = b"", *,
                  query: dict[str, str] | None = None, client_id: str | None = CID,
                  secret: str = SECRET, ts: str | None = None, nonce: str | None = None,
                  signature: str | None = None, content_type: str | None = "application/json",
                  signed_body: bytes | None = None) -> tuple[int, Any, bytes]:
        ts = ts if ts is not None else str(int(self.wall.now * 1000))
        nonce = nonce if nonce is not None else f"n{next(self._nonces)}"
        h: dict[str, str] = {"X-GatePay-Timestamp": ts, "X-GatePay-Nonce": nonce}
        if content_type is not None:
            h["Content-Type"] = content_type
        if client_id is not None:
            h["X-GatePay-Certificate-ClientId"] = client_id
        to_sign = (b"" if method == "GET" else body) if signed_body is None else signed_body
        h["X-GatePay-Signature"] = signature if signature is not None else sign(
            secret, ts, nonce, to_sign)
        async with self.s.request(method, self.base + path, params=query, data=body or None,
                                  headers=h) as r:
            return r.status, r.headers, await r.read()

    async def get(self, path: str, query: dict[str, str] | None = None, **kw: Any) -> dict:
        status, _, raw = await self.raw("GET", path, query=query, **kw)
        assert status == 200, raw
        return json.loads(raw, parse_float=Decimal)

    async def post(self, path: str, obj: Any, *, spaced: bool = False, **kw: Any) -> dict:
        body = json.dumps(obj, separators=None if spaced else (",", ":")).encode()
        status, _, raw = await self.raw("POST", path, body, **kw)
        assert status == 200, raw
        return json.loads(raw, parse_float=Decimal)

    async def preview(self, sell: str, buy: str, **amount: str) -> dict:
        return await self.post("/v1/pay/convert/preview",
                               {"buyCurrency": buy, "sellCurrency": sell, **amount})

    async def stats(self) -> dict[str, int]:
        async with self.s.get(self.base + "/_sandbox/stats") as r:
            return await r.json()


@contextlib.asynccontextmanager
async def serve(world: World | None = None, creds: dict[str, str] | None = None,
                wall: FakeClock | None = None, **kw: Any) -> AsyncIterator[GP]:
    wall = wall or FakeClock(WALL0)
    app = create_app(world or World(5, frozen=True), credentials=creds or CREDS,
                     wall_clock=wall, **kw)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            gp = GP(session, f"http://127.0.0.1:{runner.addresses[0][1]}", wall)
            gp.app = app  # type: ignore[attr-defined]
            yield gp
    finally:
        await runner.cleanup()


@pytest.fixture
async def gp() -> AsyncIterator[GP]:
    async with serve() as client:
        yield client


def D(x: Any) -> Decimal:  # noqa: N802
    assert isinstance(x, str), x  # the doc: amounts, prices and limits are strings
    return Decimal(x)


def ok(r: dict) -> Any:
    assert r["status"] == "SUCCESS" and r["code"] == "000000", r
    assert set(r) == {"status", "code", "label", "errorMessage", "data"}
    return r["data"]


def fail(r: dict, code: str) -> None:
    assert r["status"] == "FAIL" and r["code"] == code, r
    assert set(r) == {"status", "code", "label", "errorMessage", "data"} and r["label"]


# --- signatures ---------------------------------------------------------------------------------
def test_signer_matches_protocols_known_answers() -> None:
    assert sign("SECRET", "1740018226125", "5241889066", b"") == (
        "7252fd04ab3082d55914c55ce31807ad4392cddc0431112753e4d7cd9729054a"
        "b0ae3200d1d8e49eed35ec5c9918e7db19e0a3069169122a745bcccaed6c6371")
    assert sign("SECRET", "1740019013818", "9722139164",
                b'{"buyCurrency":"USDT","sellCurrency":"GT"}') == (
        "78b90c5ae88f9f5716318d34a856ca2cf5f0d528eec00ec2c4691ea8efc290ed"
        "c5f19eec5785e9032c576e5dec1574eaa2d2f96bf68cddfd1ff2de06ef87d89a")


async def test_known_answer_vectors_are_accepted() -> None:
    creds = {"client_id": "C", "api_secret": "SECRET"}  # the sandbox block form
    wall = FakeClock(1740018226.125)
    async with serve(creds=creds, wall=wall) as c:
        r = await c.get("/v1/pay/convert/currency", {"side": "sell"}, client_id="C",
                        ts="1740018226125", nonce="5241889066", signature=(
                            "7252fd04ab3082d55914c55ce31807ad4392cddc0431112753e4d7cd9729054a"
                            "b0ae3200d1d8e49eed35ec5c9918e7db19e0a3069169122a745bcccaed6c6371"))
        assert set(ok(r)["currency"]) == COINS
        wall.now = 1740019013.818
        status, _, raw = await c.raw(
            "POST", "/v1/pay/convert/preview", b'{"buyCurrency":"USDT","sellCurrency":"GT"}',
            client_id="C", ts="1740019013818", nonce="9722139164", signature=(
                "78b90c5ae88f9f5716318d34a856ca2cf5f0d528eec00ec2c4691ea8efc290ed"
                "c5f19eec5785e9032c576e5dec1574eaa2d2f96bf68cddfd1ff2de06ef87d89a"))
    fail(json.loads(raw), "400001")  # signature accepted; no amount given


async def test_bad_signatures_and_unknown_clients_are_400002(gp: GP) -> None:
    path = "/v1/pay/convert/currency"
    for kw in ({"secret": "wrong"}, {"secret": SECRET2}, {"signature": "0" * 128},
               {"signature": "zz"}, {"signature": ""}, {"client_id": "nobody"},
               {"client_id": None}):
        status, _, raw = await gp.raw("GET", path, **kw)
        assert status == 200
        fail(json.loads(raw), "400002")
    ts, nonce = str(int(gp.wall.now * 1000)), "upper1"
    upper = sign(SECRET, ts, nonce, b"").upper()
    ok(await gp.get(path, ts=ts, nonce=nonce, signature=upper))
    # The query string is not signed: any query goes with the same signature scheme.
    ok(await gp.get(path, {"side": "buy", "extra": "x"}))
    stats = await gp.stats()
    assert stats["signature_failures"] == 7 and stats["units"] == 5 + 2  # unknown ids not charged


async def test_post_is_signed_over_the_exact_raw_bytes(gp: GP) -> None:
    obj = {"sellCurrency": "BTC", "buyCurrency": "USDT", "sellAmount": "0.01"}
    compact = await gp.post("/v1/pay/convert/preview", obj)
    spaced = await gp.post("/v1/pay/convert/preview", obj, spaced=True)
    assert ok(compact) == ok(spaced)
    body = json.dumps(obj).encode()  # spaced bytes sent, compact bytes signed: refused
    status, _, raw = await gp.raw("POST", "/v1/pay/convert/preview", body,
                                  signed_body=json.dumps(obj, separators=(",", ":")).encode())
    fail(json.loads(raw), "400002")
    # A GET signs "" (or, leniently, the body it carries, as the doc's curl example does).
    ok(await gp.get("/v1/pay/convert/currency"))
    status, _, raw = await gp.raw("GET", "/v1/pay/convert/currency", b'{"a":1}',
                                  signed_body=b'{"a":1}')
    ok(json.loads(raw))


async def test_timestamp_window_is_ten_seconds(gp: GP) -> None:
    now_ms = int(gp.wall.now * 1000)
    path = "/v1/pay/convert/currency"
    ok(await gp.get(path, ts=str(now_ms - 10_000)))
    ok(await gp.get(path, ts=str(now_ms + 10_000)))
    for ts in (str(now_ms - 10_001), str(now_ms + 10_001), "", "abc", "-5", str(now_ms // 1000)):
        fail(await gp.get(path, ts=ts), "400003")


async def test_nonce_format_and_replay(gp: GP) -> None:
    path = "/v1/pay/convert/currency"
    for nonce in ("", "a" * 33, "abc-def", "abc def", "ñ1"):
        status, _, raw = await gp.raw("GET", path, nonce=nonce)
        fail(json.loads(raw), "400020")
    ok(await gp.get(path, nonce="a" * 32))
    ok(await gp.get(path, nonce="Replay123"))
    fail(await gp.get(path, nonce="Replay123"), "400020")
    ok(await gp.get(path, nonce="Replay123", client_id=CID2, secret=SECRET2))  # per client id
    fail(await gp.get(path, nonce="Replay123"), "400020")  # fresh timestamp, same nonce
    gp.wall.now += 25  # past any timestamp that nonce could have been fresh with: forgotten
    ok(await gp.get(path, nonce="Replay123"))
    # A bad signature does not burn the nonce.
    fail(await gp.get(path, nonce="Burn1", secret="wrong"), "400002")
    ok(await gp.get(path, nonce="Burn1"))


async def test_post_requires_json_content_type(gp: GP) -> None:
    obj = {"sellCurrency": "BTC", "buyCurrency": "USDT", "sellAmount": "0.01"}
    for ct in ("text/plain", "application/x-www-form-urlencoded", None):
        fail(await gp.post("/v1/pay/convert/preview", obj, content_type=ct), "400007")
    ok(await gp.post("/v1/pay/convert/preview", obj,
                     content_type="application/json; charset=UTF-8"))
    ok(await gp.get("/v1/pay/convert/currency", content_type=None))  # GET: no body, no check


# --- lists --------------------------------------------------------------------------------------
async def test_currency_list_and_side_validation(gp: GP) -> None:
    for side in (None, "buy", "sell", "SELL"):
        data = ok(await gp.get("/v1/pay/convert/currency", {"side": side} if side else None))
        assert set(data["currency"]) == COINS and len(data["currency"]) == len(COINS)
    fail(await gp.get("/v1/pay/convert/currency", {"side": "hold"}), "400001")


async def test_pair_list_limits_are_strings_both_sides(gp: GP) -> None:
    rows = ok(await gp.get("/v1/pay/convert/pair", {"currency": "BTC", "side": "sell"}))
    assert {r["buyCurrency"] for r in rows} == COINS - {"BTC"}
    for r in rows:
        assert list(r) == ["pair", "sellCurrency", "sellCurrencyMax", "sellCurrencyMin",
                           "buyCurrency", "buyCurrencyMax", "buyCurrencyMin"]
        assert r["sellCurrency"] == "BTC" and r["pair"] == f"BTC_{r['buyCurrency']}"
        assert D(r["sellCurrencyMin"]) < D(r["sellCurrencyMax"])
        assert D(r["buyCurrencyMin"]) < D(r["buyCurrencyMax"])
    by = {r["buyCurrency"]: r for r in rows}
    world = World(5, frozen=True)
    usd_min = D(by["USDT"]["buyCurrencyMin"]) * world.usd("USDT")
    assert Decimal(40) < usd_min < Decimal(70)  # a high minimum, about $50
    assert Decimal(40) < D(by["USDT"]["sellCurrencyMin"]) * world.usd("BTC") < Decimal(70)
    # Majors go far higher than alts.
    assert D(by["USDT"]["sellCurrencyMax"]) > 10 * D(by["DOGE"]["sellCurrencyMax"])
    buys = ok(await gp.get("/v1/pay/convert/pair", {"currency": "DOGE", "side": "buy"}))
    assert buys and all(r["buyCurrency"] == "DOGE" for r in buys)
    assert "XRP" not in {r["sellCurrency"] for r in buys}  # alt to alt goes through a hub
    both = ok(await gp.get("/v1/pay/convert/pair", {"currency": "DOGE"}))
    assert len(both) == 2 * len(buys)
    for query in ({}, {"currency": "NOPE"}, {"currency": "btc"}, {"currency": "BTC", "side": "x"}):
        fail(await gp.get("/v1/pay/convert/pair", query), "400001")


# --- previews -----------------------------------------------------------------------------------
async def test_preview_sell_amount_is_consistent_with_the_world(gp: GP) -> None:
    data = ok(await gp.preview("BTC", "USDT", sellAmount="0.1"))
    assert list(data) == ["sellCurrency", "buyCurrency", "sellAmount", "buyAmount", "price",
                          "rate", "quoteId"]
    assert re.fullmatch(r"PAY-[0-9a-f]{8}", data["quoteId"])
    assert D(data["sellAmount"]) == Decimal("0.1") and data["price"] == data["rate"]
    cross = World(5, frozen=True).cross("BTC", "USDT")
    got = D(data["buyAmount"]) / D(data["sellAmount"])
    haircut = 1 - got / cross
    assert Decimal("0.002") < haircut < Decimal("0.0045")  # 0.2 % fee + a spread growing with size
    assert abs(D(data["price"]) / got - 1) < Decimal("1e-6")  # USDT per BTC


async def test_preview_buy_amount_gives_the_minimal_sell_amount(gp: GP) -> None:
    data = ok(await gp.preview("ETH", "USDT", buyAmount="1000"))
    assert D(data["buyAmount"]) == 1000
    sell, price = D(data["sellAmount"]), D(data["price"])
    assert sell * price >= 1000 and (sell - Decimal("0.00000001")) * price < 1000
    assert len(data["sellAmount"].split(".")[1]) <= 8


async def test_price_is_quote_per_base_in_both_directions(gp: GP) -> None:
    """Both doc examples quote about 22 USDT per GT, whichever way the conversion goes."""
    sell_gt = ok(await gp.preview("GT", "USDT", buyAmount="100"))
    buy_gt = ok(await gp.preview("USDT", "GT", sellAmount="100"))
    gt_usd = World(5, frozen=True).cross("GT", "USDT")
    assert D(sell_gt["price"]) < gt_usd < D(buy_gt["price"])
    assert D(buy_gt["price"]) / D(sell_gt["price"]) < Decimal("1.02")  # alts pay 8x the spread


async def test_spread_grows_with_size_and_alts_cost_more(gp: GP) -> None:
    small = ok(await gp.preview("BTC", "USDT", sellAmount="0.01"))
    large = ok(await gp.preview("BTC", "USDT", sellAmount="4"))
    rate = lambda d: D(d["buyAmount"]) / D(d["sellAmount"])  # noqa: E731
    assert rate(large) < rate(small) * Decimal("0.999")
    world = World(5, frozen=True)
    alt = ok(await gp.preview("SOL", "USDT", sellAmount="2"))
    major = ok(await gp.preview("ETH", "USDT", sellAmount="0.1"))
    cost = lambda d, c: 1 - rate(d) / world.cross(c, "USDT")  # noqa: E731
    assert cost(alt, "SOL") > cost(major, "ETH") + Decimal("0.0005")


async def test_preview_amounts_cut_to_precision_and_numbers_accepted(gp: GP) -> None:
    data = ok(await gp.preview("BTC", "USDT", sellAmount="0.0123456789"))
    assert data["sellAmount"] == "0.01234567"
    as_number = await gp.post("/v1/pay/convert/preview",
                              {"sellCurrency": "BTC", "buyCurrency": "USDT", "sellAmount": 0.01})
    assert ok(as_number) == ok(await gp.preview("BTC", "USDT", sellAmount="0.01"))
    assert len(ok(await gp.preview("BTC", "USDT", sellAmount="0.01"))["buyAmount"]
               .split(".")[1]) <= 6  # USDT: 6 decimals


async def test_preview_limits(gp: GP) -> None:
    row = next(r for r in ok(await gp.get("/v1/pay/convert/pair",
                                         {"currency": "DOGE", "side": "sell"}))
               if r["buyCurrency"] == "USDT")
    lo, hi = D(row["sellCurrencyMin"]), D(row["sellCurrencyMax"])
    ok(await gp.preview("DOGE", "USDT", sellAmount=str(lo)))
    ok(await gp.preview("DOGE", "USDT", sellAmount=str(hi)))
    fail(await gp.preview("DOGE", "USDT", sellAmount=str(lo - 1)), "400001")
    fail(await gp.preview("DOGE", "USDT", sellAmount=str(hi + 1)), "400001")
    bmin, bmax = D(row["buyCurrencyMin"]), D(row["buyCurrencyMax"])
    ok(await gp.preview("DOGE", "USDT", buyAmount=str(bmin)))
    fail(await gp.preview("DOGE", "USDT", buyAmount=str(bmin - Decimal("0.01"))), "400001")
    fail(await gp.preview("DOGE", "USDT", buyAmount=str(bmax + 1)), "400001")


async def test_preview_invalid_params_are_400001(gp: GP) -> None:
    base = {"sellCurrency": "BTC", "buyCurrency": "USDT"}
    bad = [
        base, {**base, "sellAmount": "0.01", "buyAmount": "1000"},
        {**base, "sellCurrency": "NOPE", "sellAmount": "1"}, {**base, "buyCurrency": "BTC",
                                                              "sellAmount": "0.01"},
        {"sellCurrency": "DOGE", "buyCurrency": "XRP", "sellAmount": "1000"},
        {**base, "sellAmount": "-1"}, {**base, "sellAmount": "0"}, {**base, "sellAmount": "abc"},
        {**base, "sellAmount": True}, {**base, "sellAmount": [1]}, {**base, "sellAmount": "1e30"},
        {"buyCurrency": "USDT", "sellAmount": "0.01"}, {**base, "sellCurrency": 5},
        {**base, "sellAmount": "0.000000001"},
    ]
    for params in bad:
        fail(await gp.post("/v1/pay/convert/preview", params), "400001")
    for body in (b"{not json", b"[1, 2]", b'{"sellAmount": NaN}', b""):
        status, _, raw = await gp.raw("POST", "/v1/pay/convert/preview", body)
        assert status == 200
        fail(json.loads(raw), "400001")


# --- orders -------------------------------------------------------------------------------------
def convert_params(q: dict, req_id: str = "req-1", **over: Any) -> dict:
    return {"clientReqId": req_id, "sellCurrency": q["sellCurrency"],
            "buyCurrency": q["buyCurrency"], "buyAmount": q["buyAmount"],
            "sellAmount": q["sellAmount"], "price": q["price"], "quoteId": q["quoteId"], **over}


async def test_convert_and_order_round_trip(gp: GP) -> None:
    q = ok(await gp.preview("GT", "USDT", buyAmount="100"))
    status, _, raw = await gp.raw("POST", "/v1/pay/convert",
                                  json.dumps(convert_params(q)).encode())
    assert status == 200
    order = ok(json.loads(raw, parse_float=Decimal))
    assert list(order) == ["order_id", "userId", "sellCurrency", "buyCurrency", "sellAmount",
                           "buyAmount", "status", "rate", "quoteId", "createTime"]
    assert re.fullmatch(r"[0-9]{18}", order["order_id"]) and isinstance(order["userId"], int)
    assert order["status"] == 1 and order["quoteId"] == q["quoteId"]
    assert (order["sellAmount"], order["buyAmount"]) == (q["sellAmount"], q["buyAmount"])
    assert re.search(rb'"rate":[0-9]', raw)  # a JSON number, not a string
    assert isinstance(order["rate"], Decimal)
    assert abs(order["rate"] - D(q["buyAmount"]) / D(q["sellAmount"])) < Decimal("1e-9")
    assert order["createTime"] == World(5, frozen=True).epoch * 1000
    got = ok(await gp.get("/v1/pay/convert/order", {"orderId": order["order_id"]}))
    assert got == {**order, "status": 3}
    assert ok(await gp.get("/v1/pay/convert/order", {"OrderID": order["order_id"]})) == got
    fail(await gp.get("/v1/pay/convert/order", {"orderId": "123456789012345678"}), "400202")
    fail(await gp.get("/v1/pay/convert/order", {"orderId": order["order_id"]}, client_id=CID2,
                      secret=SECRET2), "400202")
    fail(await gp.get("/v1/pay/convert/order"), "400001")


async def test_client_req_id_is_idempotent(gp: GP) -> None:
    q = ok(await gp.preview("BTC", "USDT", sellAmount="0.01"))
    first = ok(await gp.post("/v1/pay/convert", convert_params(q)))
    again = ok(await gp.post("/v1/pay/convert", convert_params(q, spaced_extra=1)))
    assert again == first
    gp.wall.now += 60  # the quote has expired, the order still replays
    assert ok(await gp.post("/v1/pay/convert", convert_params(q))) == first
    q2 = ok(await gp.preview("BTC", "USDT", sellAmount="0.02"))
    fail(await gp.post("/v1/pay/convert", convert_params(q2)), "400201")
    other = ok(await gp.post("/v1/pay/convert", convert_params(q2, "req-2")))
    assert other["order_id"] != first["order_id"]


async def test_convert_rejects_expired_used_and_altered_quotes(gp: GP) -> None:
    q = ok(await gp.preview("ETH", "USDT", sellAmount="0.1"))
    fail(await gp.post("/v1/pay/convert", convert_params(q, buyAmount="999999")), "400001")
    fail(await gp.post("/v1/pay/convert", convert_params(q, buyCurrency="USDC")), "400001")
    fail(await gp.post("/v1/pay/convert", convert_params(q, quoteId="PAY-00000000")), "400622")
    fail(await gp.post("/v1/pay/convert", convert_params(q, req_id="")), "400001")
    for missing in ("clientReqId", "quoteId", "sellAmount", "buyAmount", "sellCurrency"):
        params = convert_params(q)
        del params[missing]
        fail(await gp.post("/v1/pay/convert", params), "400001")
    # Amounts as numbers or with trailing zeros are the same amounts.
    same = convert_params(q, sellAmount=q["sellAmount"] + "000")
    gp.wall.now += 20  # still valid at exactly 20 s
    ok(await gp.post("/v1/pay/convert", same))
    fail(await gp.post("/v1/pay/convert", convert_params(q, "again")), "400622")  # used
    q = ok(await gp.preview("ETH", "USDT", sellAmount="0.2"))
    gp.wall.now += 21
    fail(await gp.post("/v1/pay/convert", convert_params(q, "late")), "400622")
    # Another client cannot use the quote.
    q = ok(await gp.preview("ETH", "USDT", sellAmount="0.3"))
    fail(await gp.post("/v1/pay/convert", convert_params(q, "x"), client_id=CID2,
                       secret=SECRET2), "400622")


async def test_convert_fails_when_the_world_price_moved() -> None:
    t0 = 1_760_000_040.0
    world_clock = FakeClock(t0)
    world = World(9, clock=world_clock)
    # Find a later time at which BTC/USDT has moved by more than 1 % (computed from the world).
    later = next(t0 + dt for dt in range(3600, 30 * 86_400, 3600)
                 if abs(world.cross("BTC", "USDT", t0 + dt) / world.cross("BTC", "USDT", t0) - 1)
                 > Decimal("0.01"))
    async with serve(world) as c:
        q = ok(await c.preview("BTC", "USDT", sellAmount="0.01"))
        world_clock.now = t0 + 1  # a second later: well within tolerance
        ok(await c.post("/v1/pay/convert", convert_params(q, "a")))
        q = ok(await c.preview("BTC", "USDT", sellAmount="0.01"))
        world_clock.now = later  # the wall clock has not moved: the quote is fresh
        fail(await c.post("/v1/pay/convert", convert_params(q, "b")), "400622")


# --- budget, stats, determinism -------------------------------------------------------------------
async def test_budget_overrun_is_429_then_recovers() -> None:
    budget_clock = FakeClock(1000.0)
    async with serve(clock=budget_clock) as c:
        path = "/v1/pay/convert/currency"
        for i in range(120):
            budget_clock.now = 1000.0 + i * 0.25  # spread over 30 s
            ok(await c.get(path))
        status, headers, raw = await c.raw("GET", path)
        assert status == 429 and headers["Retry-After"] == "31"  # 1060 - 1029.75, rounded up
        assert json.loads(raw)["status"] == "FAIL" and json.loads(raw)["code"]
        ok(await c.get(path, client_id=CID2, secret=SECRET2))  # per client id
        budget_clock.now = 1060.0  # the first call left the window
        ok(await c.get(path))
        status, headers, _ = await c.raw("GET", path)
        assert status == 429 and headers["Retry-After"] == "1"
        budget_clock.now = 1091.0
        for _ in range(100):
            ok(await c.get(path))
        stats = await c.stats()
    assert stats["rate_limited"] == 2 and stats["blocks"] == 0
    assert stats["units"] == 120 + 1 + 1 + 100 and stats["requests"] == 224


async def test_no_limits_turns_the_budget_off() -> None:
    async with serve(clock=FakeClock(0.0), no_limits=True) as c:
        for _ in range(130):
            ok(await c.get("/v1/pay/convert/currency"))
        assert (await c.stats())["units"] == 130


def test_window_budget_retry_after() -> None:
    clock = FakeClock(0.0)
    b = WindowBudget(3, 60.0, clock)
    assert [b.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now = 10
    assert b.acquire("k") == pytest.approx(50.0)
    assert b.acquire("k", 2) == pytest.approx(50.0) and b.used("k") == 3
    clock.now = 60
    assert b.acquire("k") == 0.0 and b.used("k") == 1


async def test_stats_count_each_kind_of_answer(gp: GP) -> None:
    ok(await gp.get("/v1/pay/convert/currency"))
    fail(await gp.get("/v1/pay/convert/pair"), "400001")
    fail(await gp.get("/v1/pay/convert/currency", secret="bad"), "400002")
    fail(await gp.get("/v1/pay/convert/currency", client_id="who"), "400002")
    assert await gp.stats() == {"requests": 4, "units": 3, "rate_limited": 0, "blocks": 0,
                                "signature_failures": 2, "errors": 1}
    async with gp.s.post(gp.base + "/_sandbox/reset") as r:
        assert r.status == 200
    assert set((await gp.stats()).values()) == {0}


async def test_unknown_paths_and_internal_errors_answer_with_the_envelope(
        gp: GP, monkeypatch: pytest.MonkeyPatch) -> None:
    status, _, raw = await gp.raw("GET", "/v1/pay/convert/nothing")
    assert status == 404
    fail(json.loads(raw), "400001")
    status, _, raw = await gp.raw("DELETE", "/v1/pay/convert")
    assert status == 405

    def boom(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(gp.app[STATE_KEY], "currency", boom)  # type: ignore[attr-defined]
    status, _, raw = await gp.raw("GET", "/v1/pay/convert/currency")
    assert status == 500
    fail(json.loads(raw), "300001")


async def test_same_seed_frozen_worlds_answer_byte_identically() -> None:
    body = json.dumps({"sellCurrency": "SOL", "buyCurrency": "BTC", "sellAmount": "3.3"}).encode()
    answers = []
    for seed in (5, 5, 6):
        async with serve(World(seed, frozen=True)) as c:
            preview = (await c.raw("POST", "/v1/pay/convert/preview", body))[2]
            pairs = (await c.raw("GET", "/v1/pay/convert/pair", query={"currency": "SOL"}))[2]
            q = json.loads(preview)["data"]
            order = (await c.raw("POST", "/v1/pay/convert",
                                 json.dumps(convert_params(q)).encode()))[2]
            answers.append((preview, pairs, order))
    assert answers[0] == answers[1]
    assert all(a != b for a, b in zip(answers[0], answers[2]))


def test_credentials_and_profile_are_seeded() -> None:
    a, b = credentials(World(3)), credentials(World(3))
    assert a == b and set(a) == {"client_id", "api_secret"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", a["client_id"]) and len(a["api_secret"]) >= 32
    assert credentials(World(4)) != a
    prof = build_gatepay(World(3))
    assert set(prof.assets) == COINS and prof.fees.percent_for("convert") == Decimal("0.002")
    assert Decimal(45) <= prof.min_usd <= Decimal(60)


@virtual_time
async def test_latency_is_added_to_api_answers_only() -> None:
    async with serve(latency_ms=120) as c:
        loop = asyncio.get_running_loop()  # virtual: exact, whatever the load
        t0 = loop.time()
        ok(await c.get("/v1/pay/convert/currency"))
        slow = loop.time() - t0
        t0 = loop.time()
        await c.stats()
        fast = loop.time() - t0
    assert slow == pytest.approx(0.12, abs=1e-6) and fast == 0
