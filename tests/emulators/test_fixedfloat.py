"""FixedFloat emulator over raw HTTP, with a signer written here from the doc (not the adapter's)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from decimal import Decimal
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.emulators.common import SlidingWindowLimiter
from bench.emulators.fixedfloat import create_app, render_rates_xml, synthetic_items
from bench.world import World
from tests.support.vclock import FakeClock, virtual_time

KEY, SECRET = "test-key-0001", "test-secret-0001"
KEY2, SECRET2 = "test-key-0002", "test-secret-0002"
CREDS = {KEY: SECRET, KEY2: SECRET2}
TRON_ADDR = "TAzsQ9Gx8eqFNFSKbeXrbi45CuVPHzA8wr"


def sign(secret: str, body: bytes) -> str:
    """The doc: hex HMAC-SHA256 with the API secret as key over the JSON data string."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FF:
    """A minimal raw client: returns (http status, headers, raw body)."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.s, self.base = session, base

    async def raw(self, method: str, body: bytes, *, key: str | None = KEY,
                  signature: str | None = None, secret: str = SECRET,
                  headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        h = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        if key is not None:
            h["X-API-KEY"] = key
            h["X-API-SIGN"] = signature if signature is not None else sign(secret, body)
        async with self.s.post(f"{self.base}/api/v2/{method}", data=body, headers=h) as r:
            return r.status, r.headers, await r.read()

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   compact: bool = False, **kw: Any) -> dict[str, Any]:
        body = b"" if params is None else json.dumps(
            params, separators=(",", ":") if compact else None).encode()
        status, _, raw = await self.raw(method, body, **kw)
        assert status == 200
        return json.loads(raw, parse_float=Decimal)

    async def get(self, path: str, **headers: str) -> tuple[int, Any, bytes]:
        async with self.s.get(self.base + path, headers=headers) as r:
            return r.status, r.headers, await r.read()


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[FF]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield FF(session, f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()


@pytest.fixture
async def ff() -> AsyncIterator[FF]:
    async with serve(create_app(World(5, frozen=True), credentials=CREDS)) as client:
        yield client


def price_params(src: str = "BTC", dst: str = "USDTTRC", amount: Any = "0.05",
                 direction: str = "from", type_: str = "float") -> dict[str, Any]:
    return {"fromCcy": src, "toCcy": dst, "amount": amount, "direction": direction,
            "type": type_}


def D(x: str) -> Decimal:  # noqa: N802
    assert isinstance(x, str), x  # the doc: amounts, rates and limits are strings
    return Decimal(x)


def parse_feed(body: bytes) -> dict[tuple[str, str], dict[str, Any]]:
    items = {}
    for it in ET.fromstring(body):
        rec: dict[str, Any] = {e.tag: e.text for e in it}
        items[(rec["from"], rec["to"])] = rec
    return items


def test_signer_matches_protocols_known_answers() -> None:
    assert sign("SECRET", b"{}") == \
        "deaf105d300669ecb5f322fc1564ea75595b32bea172e36f338b5e7dad28f670"
    body = json.dumps({"fromCcy": "BTC", "toCcy": "ETH", "amount": 0.1, "direction": "from",
                       "type": "fixed"}).encode()
    assert sign("SECRET", body) == \
        "b24c3dc389a558bea680a8897bccf9e4b0a37da9825da2b5f480eb3401271ebf"


async def test_known_answer_vector_is_accepted() -> None:
    body = (b'{"fromCcy": "BTC", "toCcy": "ETH", "amount": 0.1, "direction": "from", '
            b'"type": "fixed"}')
    app = create_app(World(1, frozen=True), credentials={"K": "SECRET"})
    async with serve(app) as c:
        status, _, raw = await c.raw(
            "price", body, key="K",
            signature="b24c3dc389a558bea680a8897bccf9e4b0a37da9825da2b5f480eb3401271ebf")
    assert status == 200 and json.loads(raw)["code"] == 0


async def test_ccies_good_signature(ff: FF) -> None:
    r = await ff.call("ccies", {})
    assert r["code"] == 0 and r["msg"] == "OK"
    rows = {c["code"]: c for c in r["data"]}
    assert {"BTC", "BTCLN", "ETH", "ETHARBITRUM", "USDT", "USDTTRC", "USDTBSC", "USDTSOL",
            "USDTPOL", "USDTTON", "USDCETH", "USDCBSC", "USDCSOL", "USDCPOL", "USDCARBITRUM",
            "DAI", "LTC", "SOL", "XMR", "DOGE", "TRX", "BSC", "TON", "XRP", "ADA"} == set(rows)
    assert (rows["USDTTRC"]["coin"], rows["USDTTRC"]["network"]) == ("USDT", "TRX")
    assert (rows["BSC"]["coin"], rows["BSC"]["network"]) == ("BNB", "BSC")
    assert (rows["USDTPOL"]["coin"], rows["USDTPOL"]["network"]) == ("USDT", "MATIC")
    assert (rows["BTCLN"]["coin"], rows["BTCLN"]["network"]) == ("BTC", "LN")
    assert (rows["DAI"]["coin"], rows["DAI"]["network"]) == ("DAI", "ETH")
    for row in rows.values():
        assert set(row) == {"code", "coin", "network", "name", "recv", "send", "tag", "logo",
                            "color", "priority"}
        assert isinstance(row["recv"], bool) and isinstance(row["send"], bool)
    assert 1 <= sum(not (c["recv"] and c["send"]) for c in rows.values()) <= 2
    assert rows["XRP"]["tag"] and rows["BTC"]["tag"] is None


async def test_bad_signature_unknown_key_missing_headers_are_401(ff: FF) -> None:
    body = b"{}"
    for kw in ({"signature": "0" * 64}, {"secret": "wrong"}, {"key": "nope"}, {"key": None},
               {"secret": SECRET2}):
        status, _, raw = await ff.raw("ccies", body, **kw)
        assert status == 200
        assert json.loads(raw)["code"] == 401, kw
    # Upper-case hex and surrounding spaces are the same signature.
    status, _, raw = await ff.raw("ccies", body, signature=" " + sign(SECRET, body).upper())
    assert json.loads(raw)["code"] == 0


async def test_compact_and_spaced_json_both_accepted(ff: FF) -> None:
    spaced = await ff.call("price", price_params())
    compact = await ff.call("price", price_params(), compact=True)
    assert spaced["code"] == compact["code"] == 0
    assert spaced["data"] == compact["data"]


async def test_empty_body_signed_over_empty_string(ff: FF) -> None:
    empty = await ff.call("ccies", None)
    braces = await ff.call("ccies", {})
    assert empty["code"] == braces["code"] == 0 and empty["data"] == braces["data"]
    # An empty body signed as if it were "{}" is a different message: refused.
    status, _, raw = await ff.raw("ccies", b"", signature=sign(SECRET, b"{}"))
    assert json.loads(raw)["code"] == 401


async def test_unknown_headers_and_params_ignored_and_number_or_string_amounts(ff: FF) -> None:
    as_str = await ff.call("price", {**price_params(amount="0.05"), "foo": [1, 2]},
                           headers={"X-Whatever": "1", "User-Agent": "Mozilla/5.0"})
    as_num = await ff.call("price", price_params(amount=0.05))
    assert as_str["code"] == as_num["code"] == 0
    assert as_str["data"] == as_num["data"]


async def test_invalid_input_is_301_with_http_200(ff: FF) -> None:
    bad = [
        price_params(src="NOPE"), price_params(dst="BTC", src="BTC"), price_params(type_="spot"),
        price_params(direction="sideways"), price_params(amount="-1"), price_params(amount="0"),
        price_params(amount="abc"), price_params(amount=True), price_params(amount="1e30"),
        price_params(amount=[1]), price_params(src=None),
        {k: v for k, v in price_params().items() if k != "amount"},
        {k: v for k, v in price_params().items() if k != "direction"},
    ]
    for params in bad:
        r = await ff.call("price", params)
        assert r["code"] == 301, params
    for body in (b"{not json", b"[1, 2]", b'{"amount": NaN}'):
        status, _, raw = await ff.raw("price", body)
        assert status == 200 and json.loads(raw)["code"] == 301, body
    r = await ff.call("order", {"id": "ZZZZZZ", "token": "x"})
    assert r["code"] == 301


@pytest.mark.parametrize("type_", ["fixed", "float"])
async def test_price_direction_from_is_consistent(ff: FF, type_: str) -> None:
    r = await ff.call("price", price_params(amount="0.05", type_=type_))
    assert r["code"] == 0 and r["data"]["errors"] == []
    f, t = r["data"]["from"], r["data"]["to"]
    assert set(f) == {"code", "network", "coin", "amount", "rate", "precision", "min", "max",
                      "usd", "btc"}
    assert set(t) == set(f) - {"btc"}
    assert isinstance(f["precision"], int) and isinstance(t["precision"], int)
    assert D(f["amount"]) == Decimal("0.05")
    q = Decimal(1).scaleb(-t["precision"])
    gross = D(f["amount"]) * D(f["rate"])
    fee = gross - D(t["amount"])  # the rate excludes the network fee (the doc's example)
    assert Decimal(0) < fee < gross * Decimal("0.01")
    # The fee is a constant network fee: another size implies the same one (to within rounding).
    r2 = await ff.call("price", price_params(amount="0.2", type_=type_))
    f2, t2 = r2["data"]["from"], r2["data"]["to"]
    assert abs(D(f2["amount"]) * D(f2["rate"]) - D(t2["amount"]) - fee) <= q
    # The inverse rate is the inverse.
    assert abs(D(f["rate"]) * D(t["rate"]) - 1) < Decimal("1e-6")
    assert D(f["min"]) < D(f["amount"]) < D(f["max"]) and D(t["min"]) < D(t["max"])
    assert D(f["usd"]) > D(t["usd"]) > 0


async def test_float_pays_more_than_fixed(ff: FF) -> None:
    fixed = await ff.call("price", price_params(type_="fixed"))
    flt = await ff.call("price", price_params(type_="float"))
    ratio = D(flt["data"]["from"]["rate"]) / D(fixed["data"]["from"]["rate"])
    assert Decimal("1.004") < ratio < Decimal("1.006")  # 0.5% vs 1% service margin


@pytest.mark.parametrize("type_", ["fixed", "float"])
async def test_price_direction_to_gives_minimal_from_amount(ff: FF, type_: str) -> None:
    want = Decimal("1500")
    r = await ff.call("price", price_params(amount=str(want), direction="to", type_=type_))
    assert r["code"] == 0 and r["data"]["errors"] == []
    f, t = r["data"]["from"], r["data"]["to"]
    assert D(t["amount"]) == want
    # the fee, measured the other way round at the same size
    probe = await ff.call("price", price_params(amount=f["amount"], type_=type_))
    fee = D(f["amount"]) * D(probe["data"]["from"]["rate"]) - D(probe["data"]["to"]["amount"])
    rate, step = D(f["rate"]), Decimal(1).scaleb(-f["precision"])
    assert D(f["amount"]) * rate - fee >= want - Decimal("0.000001")
    assert (D(f["amount"]) - step) * rate - fee < want


async def test_limits_are_errors_in_data_not_codes(ff: FF) -> None:
    base = (await ff.call("price", price_params()))["data"]["from"]
    lo, hi = D(base["min"]), D(base["max"])
    small = await ff.call("price", price_params(amount=str(lo / 3)))
    assert small["code"] == 0 and "LIMIT_MIN" in small["data"]["errors"]
    assert D(small["data"]["from"]["amount"]) > 0
    big = await ff.call("price", price_params(amount=str(hi * 2)))
    assert big["code"] == 0 and "LIMIT_MAX" in big["data"]["errors"]
    assert D(big["data"]["to"]["amount"]) > 0
    edge = await ff.call("price", price_params(amount=str(lo)))
    assert edge["data"]["errors"] == []


async def test_offline_currencies_are_reported(ff: FF) -> None:
    rows = (await ff.call("ccies", {}))["data"]
    no_recv = next(c["code"] for c in rows if not c["recv"])
    no_send = next(c["code"] for c in rows if not c["send"])
    r = await ff.call("price", {**price_params(src=no_recv, dst="BTC", amount="1000"),
                                "ccies": True})
    assert r["code"] == 0 and "OFFLINE_FROM" in r["data"]["errors"]
    assert {c["code"]: c["recv"] for c in r["data"]["ccies"]}[no_recv] is False
    r = await ff.call("price", price_params(src="BTC", dst=no_send))
    assert "OFFLINE_TO" in r["data"]["errors"]


async def test_create_order_round_trip(ff: FF) -> None:
    r = await ff.call("create", {**price_params(amount="0.05"), "toAddress": TRON_ADDR,
                                 "refcode": "x", "afftax": 0.1})
    assert r["code"] == 0, r
    o = r["data"]
    assert len(o["id"]) == 6 and len(o["token"]) >= 32 and o["status"] == "NEW"
    assert o["from"]["code"] == "BTC" and o["from"]["address"].startswith("bc1")
    assert o["to"]["address"] == TRON_ADDR and o["to"]["code"] == "USDTTRC"
    assert o["time"]["expiration"] - o["time"]["reg"] == o["time"]["left"] == 1800
    assert o["emergency"] == {"status": [], "choice": "NONE", "repeat": 0}
    assert o["back"]["address"] is None and set(o["from"]["tx"]) >= {"id", "amount", "fee"}
    ident = {"id": o["id"], "token": o["token"]}
    got = await ff.call("order", ident)
    assert got["code"] == 0
    assert got["data"] == {k: v for k, v in o.items() if k != "token"}
    assert (await ff.call("order", {"id": o["id"], "token": "wrong"}))["code"] == 301
    assert (await ff.call("setEmail", {**ident, "email": "a@b.co"}))["data"] is True
    assert (await ff.call("order", ident))["data"]["email"] == "a@b.co"
    assert (await ff.call("emergency", {**ident, "choice": "REFUND"}))["code"] == 301
    assert (await ff.call("emergency", {**ident, "choice": "EXCHANGE"}))["data"] is True
    qr = (await ff.call("qr", ident))["data"]
    assert len(qr) >= 2 and sum(q["checked"] for q in qr) == 1
    for q in qr:
        assert q["title"] and q["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(q["src"].split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


async def test_create_rejects_bad_address_and_out_of_limits(ff: FF) -> None:
    r = await ff.call("create", {**price_params(), "toAddress": "0xnotatronaddress"})
    assert r["code"] == 301
    r = await ff.call("create", {**price_params(amount="1000"), "toAddress": TRON_ADDR})
    assert r["code"] == 301
    r = await ff.call("create", price_params())
    assert r["code"] == 301


async def test_budget_overrun_blocks_and_escalates() -> None:
    clock = FakeClock()
    app = create_app(World(5, frozen=True), credentials=CREDS, clock=clock)
    create = {**price_params(), "toAddress": TRON_ADDR}
    async with serve(app) as c:
        for _ in range(5):  # 5 x 50 = the whole 250-unit minute
            assert (await c.call("create", create))["code"] == 0
        assert (await c.call("ccies", {}))["code"] == 429
        assert (await c.call("ccies", {}, key=KEY2, secret=SECRET2))["code"] == 0  # per key
        clock.now += 59
        assert (await c.call("ccies", {}))["code"] == 429  # first block: 60 s
        clock.now += 2
        assert (await c.call("ccies", {}))["code"] == 0
        for _ in range(4):
            assert (await c.call("create", create))["code"] == 0
        assert (await c.call("create", create))["code"] == 429  # 251 > 250: second offence
        clock.now += 119
        assert (await c.call("ccies", {}))["code"] == 429  # second block is longer: 120 s
        clock.now += 2
        assert (await c.call("ccies", {}))["code"] == 0
        _, _, raw = await c.get("/_sandbox/stats")
        stats = json.loads(raw)
    assert stats["blocks"] == 2
    assert stats["rate_limited"] == 4
    assert stats["units"] == 5 * 50 + 1 + 1 + 4 * 50 + 1


async def test_budget_counts_known_keys_only_and_no_limits_disables() -> None:
    clock = FakeClock()
    async with serve(create_app(World(5, frozen=True), credentials=CREDS, clock=clock)) as c:
        for _ in range(3):
            await c.call("ccies", {}, key="unknown")
        await c.call("ccies", {}, signature="f" * 64)  # known key, bad signature: charged
        stats = json.loads((await c.get("/_sandbox/stats"))[2])
        assert stats["units"] == 1 and stats["signature_failures"] == 4
    async with serve(create_app(World(5, frozen=True), credentials=CREDS, no_limits=True,
                                clock=clock)) as c:
        create = {**price_params(), "toAddress": TRON_ADDR}
        codes = [(await c.call("create", create))["code"] for _ in range(7)]
        assert codes == [0] * 7


def test_sliding_window_limiter_slides() -> None:
    clock = FakeClock(0.0)
    lim = SlidingWindowLimiter(250, 60.0, 60.0, clock)
    assert lim.acquire("k", 200).allowed
    clock.now = 30
    assert lim.acquire("k", 50).allowed and lim.used("k") == 250
    clock.now = 60.5  # the 200 units of t=0 left the window
    assert lim.used("k") == 50
    assert lim.acquire("k", 200).allowed
    d = lim.acquire("k", 1)
    assert not d.allowed and d.new_block and d.blocked_until == pytest.approx(120.5)


async def test_feed_format_and_caching(ff: FF) -> None:
    before = json.loads((await ff.get("/_sandbox/stats"))[2])
    rows = (await ff.call("ccies", {}))["data"]
    recv = {c["code"] for c in rows if c["recv"]}
    send = {c["code"] for c in rows if c["send"]}
    for kind in ("fixed", "float"):
        status, headers, body = await ff.get(f"/rates/{kind}.xml")
        assert status == 200 and "xml" in headers["Content-Type"]
        items = parse_feed(body)
        assert set(items) == {(a, b) for a in recv for b in send if a != b}
        with_fee = 0
        for (src, dst), rec in items.items():
            assert Decimal(rec["in"]) == 1 and Decimal(rec["out"]) > 0
            assert Decimal(rec["amount"]) > 0
            lo, lo_code = rec["minamount"].split()
            hi, hi_code = rec["maxamount"].split()
            assert lo_code == hi_code == src and Decimal(lo) < Decimal(hi)
            assert 8 <= len(rec["out"].split(".")[1]) <= 12
            if "tofee" in rec:
                with_fee += 1
                fee, code = rec["tofee"].split()
                assert code == dst and Decimal(fee) > 0
        assert 0 < with_fee < len(items)  # tofee is optional: some items leave it out
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert (await ff.get(f"/rates/{kind}.xml", **{"If-None-Match": etag}))[0] == 304
        assert (await ff.get(f"/rates/{kind}.xml", **{"If-Modified-Since": modified}))[0] == 304
        old = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
        assert (await ff.get(f"/rates/{kind}.xml", **{"If-Modified-Since": old}))[0] == 200
        assert (await ff.get(f"/rates/{kind}.xml", **{"If-None-Match": '"other"'}))[0] == 200
    fixed = parse_feed((await ff.get("/rates/fixed.xml"))[2])
    flt = parse_feed((await ff.get("/rates/float.xml"))[2])
    assert Decimal(flt[("BTC", "ETH")]["out"]) > Decimal(fixed[("BTC", "ETH")]["out"])
    after = json.loads((await ff.get("/_sandbox/stats"))[2])
    assert after["units"] - before["units"] == 1  # only ccies: the feed costs no budget


async def test_feed_is_a_minute_old_snapshot_and_firm_price_is_live() -> None:
    minute = 1_760_000_040.0
    clock = FakeClock(minute + 59)
    async with serve(create_app(World(21, clock=clock), credentials=CREDS)) as c:
        _, headers, body = await c.get("/rates/float.xml")
        live_late = await c.call("price", price_params(amount="0.002"))
        clock.now = minute
        live_start = await c.call("price", price_params(amount="0.002"))
        clock.now = minute + 61
        _, headers_next, body_next = await c.get("/rates/float.xml")
    assert headers["Last-Modified"] == formatdate(minute, usegmt=True)
    assert headers_next["Last-Modified"] == formatdate(minute + 60, usegmt=True)
    assert body != body_next and headers["ETag"] != headers_next["ETag"]
    feed_rate = Decimal(parse_feed(body)[("BTC", "USDTTRC")]["out"])
    start_rate = D(live_start["data"]["from"]["rate"])
    late_rate = D(live_late["data"]["from"]["rate"])
    assert abs(feed_rate / start_rate - 1) < Decimal("0.00002")  # priced at the minute start
    assert late_rate != start_rate  # the firm price moved within the minute


async def test_firm_price_worse_than_feed_for_large_amounts(ff: FF) -> None:
    feed = parse_feed((await ff.get("/rates/fixed.xml"))[2])
    nominal = Decimal(feed[("BTC", "USDTTRC")]["out"])
    small = await ff.call("price", price_params(amount="0.001", type_="fixed"))
    large = await ff.call("price", price_params(amount="1.8", type_="fixed"))  # ~ $150k
    assert large["data"]["errors"] == []
    small_rate, large_rate = D(small["data"]["from"]["rate"]), D(large["data"]["from"]["rate"])
    assert abs(small_rate / nominal - 1) < Decimal("0.00002")
    assert large_rate < nominal * Decimal("0.996")  # size-dependent spread, absent from the feed


async def test_stats_count_each_kind_of_answer(ff: FF) -> None:
    await ff.call("ccies", {})
    await ff.call("price", price_params(src="NOPE"))
    await ff.call("ccies", {}, signature="00")
    await ff.get("/rates/fixed.xml")
    stats = json.loads((await ff.get("/_sandbox/stats"))[2])
    assert stats == {"requests": 4, "units": 3, "rate_limited": 0, "blocks": 0,
                     "signature_failures": 1, "errors": 1}
    async with ff.s.post(ff.base + "/_sandbox/reset") as r:
        assert r.status == 200
    stats = json.loads((await ff.get("/_sandbox/stats"))[2])
    assert set(stats.values()) == {0}


async def test_same_seed_frozen_worlds_answer_byte_identically() -> None:
    body = json.dumps(price_params(src="ETH", dst="BTC", amount="3.3")).encode()
    answers = []
    for seed in (5, 5, 6):
        async with serve(create_app(World(seed, frozen=True), credentials=CREDS)) as c:
            _, _, raw = await c.raw("price", body)
            _, _, feed = await c.get("/rates/float.xml")
            answers.append((raw, feed))
    assert answers[0] == answers[1]
    assert answers[0][0] != answers[2][0] and answers[0][1] != answers[2][1]


@virtual_time
async def test_latency_is_added_to_api_answers_only() -> None:
    app = create_app(World(5, frozen=True), credentials=CREDS, latency_ms=120)
    async with serve(app) as c:
        loop = asyncio.get_running_loop()  # virtual: exact, whatever the load
        t0 = loop.time()
        assert (await c.call("ccies", {}))["code"] == 0
        slow = loop.time() - t0
        t0 = loop.time()
        await c.get("/_sandbox/stats")
        fast = loop.time() - t0
    assert slow == pytest.approx(0.12, abs=1e-6) and fast == 0


def test_synthetic_feed_renders_4096_parseable_items() -> None:
    body = render_rates_xml(synthetic_items(4096, seed=1))
    items = ET.fromstring(body).findall("item")
    assert len(items) == 4096
    assert len({(i.findtext("from"), i.findtext("to")) for i in items}) == 4096
    assert any(i.find("tofee") is None for i in items)
    assert render_rates_xml(synthetic_items(10, seed=1)) == render_rates_xml(
        synthetic_items(10, seed=1))
