"""FaTPay emulator over raw HTTP, with an RSA signer written here from the doc (not the adapter's).

The doc (docs/providers.md, FaTPay): sign ``METHOD + host + path + "?" + k=v&...`` over the lower-cased
``x-fp-*`` headers (not the signature) plus the query, empties dropped, keys in ASCII order, raw
values; ``X-Fp-Signature`` = base64(RSA-SHA256 PKCS#1 v1.5).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.emulators.fatpay import create_app, credentials, signing_map, string_to_sign
from bench.world import World
from bench.world.profile_fatpay import build_fatpay
from tests.support.vclock import FakeClock, virtual_time

PROD = "api.ramp.fatpay.xyz"
PRICE = "/open/api/onramp/price"
PARTNER = "2yQrS9A0xmM8xpfa"
VECTOR = ("GETapi.ramp.fatpay.xyz/open/api/onramp/price?cryptoCurrencyCode=USDT_ERC20"
          "&currencyAmount=199&fiatCurrency=USD&x-fp-nonce=868964&x-fp-partner-id=2yQrS9A0xmM8xpfa"
          "&x-fp-timestamp=1661346861&x-fp-version=v1.0")
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode()
CREDS = {"partner_id": PARTNER, "private_key_pem": PEM}
NOW = 1_700_000_000.0
SEED = 5


def doc_string_to_sign(method: str, host: str, path: str, headers: Mapping[str, str],
                       query: Sequence[tuple[str, str]]) -> str:
    """Written from the doc: lower-cased x-fp-* headers but the signature, plus the query."""
    m = {k.lower(): v for k, v in headers.items()
         if k.lower().startswith("x-fp-") and k.lower() != "x-fp-signature"}
    m.update(dict(query))
    pairs = sorted((k, v) for k, v in m.items() if v != "")
    return method + host + path + "?" + "&".join(f"{k}={v}" for k, v in pairs)


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


class FP:
    """A minimal raw client: returns (http status, headers, envelope parsed with Decimals)."""

    def __init__(self, session: aiohttp.ClientSession, port: int, wall: FakeClock) -> None:
        self.s, self.port, self.wall = session, port, wall
        self.host = f"127.0.0.1:{port}"

    async def raw(self, path: str, query: Sequence[tuple[str, str]] | Mapping[str, str] = (), *,
                  sign_host: str | None = None, key: rsa.RSAPrivateKey = KEY,
                  partner: str | None = PARTNER, ts: str | None = None,
                  nonce: str | None = "183216", version: str | None = "v1.0",
                  signature: str | None = None, signed_query: Any = None,
                  drop_signature: bool = False) -> tuple[int, Any, bytes]:
        items = list(query.items()) if isinstance(query, Mapping) else list(query)
        headers = {"X-Fp-Partner-Id": partner, "X-Fp-Nonce": nonce,
                   "X-Fp-Timestamp": ts if ts is not None else str(int(self.wall.now)),
                   "X-Fp-Version": version}
        headers = {k: v for k, v in headers.items() if v is not None}
        if signature is None:
            sq = items if signed_query is None else list(signed_query)
            signature = rsa_sign(key, doc_string_to_sign("GET", sign_host or self.host, path,
                                                         headers, sq))
        if not drop_signature:
            headers["X-Fp-Signature"] = signature
        url = f"http://{self.host}{path}"
        async with self.s.get(url, params=items, headers=headers) as r:
            return r.status, r.headers, await r.read()

    async def call(self, path: str, query: Any = (), **kw: Any) -> dict[str, Any]:
        status, _, raw = await self.raw(path, query, **kw)
        assert status == 200, raw
        return json.loads(raw, parse_float=Decimal)

    async def price(self, fiat: str = "USD", amount: str = "199", code: str = "USDT_ERC20",
                    **extra: str) -> dict[str, Any]:
        q = {"fiatCurrency": fiat, "currencyAmount": amount, "cryptoCurrencyCode": code, **extra}
        return await self.call(PRICE, q)

    async def stats(self) -> dict[str, int]:
        async with self.s.get(f"http://{self.host}/_sandbox/stats") as r:
            return await r.json()


@contextlib.asynccontextmanager
async def serve(world: World | None = None, creds: Mapping[str, str] = CREDS,
                wall: FakeClock | None = None, **kw: Any) -> AsyncIterator[FP]:
    wall = wall or FakeClock(NOW)
    app = create_app(world or World(SEED, frozen=True), credentials=creds, wall_clock=wall, **kw)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield FP(session, runner.addresses[0][1], wall)
    finally:
        await runner.cleanup()


@pytest.fixture
async def fp() -> AsyncIterator[FP]:
    async with serve() as client:
        yield client


def D(x: Any) -> Decimal:  # noqa: N802
    assert isinstance(x, (int, Decimal)) and not isinstance(x, bool), x  # JSON numbers
    return Decimal(x)


def down(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def up(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING)


# --- signature ----------------------------------------------------------------------------------
def test_string_to_sign_matches_protocols_vector() -> None:
    headers = {"X-Fp-Version": "v1.0", "X-Fp-Timestamp": "1661346861", "X-Fp-Nonce": "868964",
               "X-Fp-Partner-Id": PARTNER, "X-Fp-Signature": "ignored"}
    query = [("fiatCurrency", "USD"), ("currencyAmount", "199"),
             ("cryptoCurrencyCode", "USDT_ERC20")]
    assert doc_string_to_sign("GET", PROD, PRICE, headers, query) == VECTOR
    assert string_to_sign("GET", PROD, PRICE, signing_map(headers, dict(query))) == VECTOR
    # empties dropped on both sides
    assert string_to_sign("GET", PROD, PRICE,
                          signing_map(headers, {**dict(query), "payment": ""})) == VECTOR


async def test_known_answer_request_is_accepted() -> None:
    async with serve(wall=FakeClock(1661346861 + 30)) as c:
        query = {"fiatCurrency": "USD", "currencyAmount": "199",
                 "cryptoCurrencyCode": "USDT_ERC20"}
        kw: dict[str, Any] = {"ts": "1661346861", "nonce": "868964"}
        r = await c.call(PRICE, query, signature=rsa_sign(KEY, VECTOR), **kw)
        assert r["code"] == 10000 and r["msg"] == "success", r
        assert r["data"]["cryptoCurrencyCode"] == "USDT_ERC20"
        # The same signature over another amount is refused.
        r = await c.call(PRICE, {**query, "currencyAmount": "200"},
                         signature=rsa_sign(KEY, VECTOR), **kw)
        assert r["code"] == 10003 and r["data"] is None


@pytest.mark.parametrize("host", [None, "127.0.0.1", PROD])
async def test_good_signature_for_each_host_variant(fp: FP, host: str | None) -> None:
    r = await fp.call("/open/api/onramp/token", sign_host=host)
    assert r["code"] == 10000 and isinstance(r["code"], int)


async def test_bad_signatures_are_10003(fp: FP) -> None:
    q = {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "BTC"}
    cases: list[dict[str, Any]] = [
        {"signature": "not base64!"}, {"signature": base64.b64encode(b"x" * 256).decode()},
        {"key": OTHER_KEY}, {"partner": "unknownPartner01"}, {"partner": None},
        {"drop_signature": True}, {"sign_host": "example.com"},
        {"signed_query": {**q, "currencyAmount": "198"}.items()},
        {"signed_query": [*q.items(), ("x-fp-signature", "x")]},
    ]
    for kw in cases:
        r = await fp.call(PRICE, q, **kw)
        assert r["code"] == 10003 and r["data"] is None, kw
    # Keys sort in ASCII order (upper case first), values are signed raw, not URL-encoded.
    headers = {"X-Fp-Partner-Id": PARTNER, "X-Fp-Nonce": "183216",
               "X-Fp-Timestamp": str(int(NOW)), "X-Fp-Version": "v1.0"}
    extra = {**q, "Memo": "a b/c&d"}
    good = doc_string_to_sign("GET", fp.host, PRICE, headers, list(extra.items()))
    assert good.startswith(f"GET{fp.host}{PRICE}?Memo=a b/c&d&cryptoCurrencyCode=BTC&")
    assert (await fp.call(PRICE, extra, signature=rsa_sign(KEY, good)))["code"] == 10000
    pairs = good.split("?", 1)[1].replace("a b/c&d", "a b/c%26d").split("&")
    folded = "&".join(sorted(pairs, key=str.lower)).replace("%26", "&")
    assert folded != good.split("?", 1)[1]
    r = await fp.call(PRICE, extra, signature=rsa_sign(KEY, good.split("?")[0] + "?" + folded))
    assert r["code"] == 10003
    encoded = good.replace("a b/c&d", "a%20b%2Fc%26d")
    assert (await fp.call(PRICE, extra, signature=rsa_sign(KEY, encoded)))["code"] == 10003
    injected = good.replace("?", "?x=1&", 1)
    assert (await fp.call(PRICE, extra, signature=rsa_sign(KEY, injected)))["code"] == 10003


async def test_timestamp_window_and_header_format(fp: FP) -> None:
    now = int(NOW)
    for ts in (now - 60, now + 60, now):
        assert (await fp.call("/open/api/onramp/token", ts=str(ts)))["code"] == 10000, ts
    for ts in (now - 61, now + 61, now - 3600):
        assert (await fp.call("/open/api/onramp/token", ts=str(ts)))["code"] == 10003, ts
    bad_headers: list[dict[str, Any]] = [
        {"ts": str(now * 1000)}, {"ts": "abc"}, {"nonce": "12ab"}, {"nonce": "0"},
        {"nonce": None}, {"version": "v2.0"}, {"version": "V1.0"}, {"version": None},
    ]
    for kw in bad_headers:
        r = await fp.call("/open/api/onramp/token", **kw)
        assert r["code"] == 10002 and r["data"] is None, kw
    assert (await fp.call("/open/api/onramp/token", nonce="68964"))["code"] == 10000


async def test_empty_params_dropped_unknown_params_signed(fp: FP) -> None:
    base = {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "ETH"}
    plain = await fp.call(PRICE, base)
    with_empty = await fp.call(PRICE, {**base, "payment": ""})
    with_extra = await fp.call(PRICE, {**base, "foo": "bar"})
    assert plain["code"] == with_empty["code"] == with_extra["code"] == 10000
    assert plain["data"] == with_empty["data"] == with_extra["data"]
    # an extra parameter left out of the signed string is a different request
    r = await fp.call(PRICE, {**base, "foo": "bar"}, signed_query=base.items())
    assert r["code"] == 10003


# --- lists --------------------------------------------------------------------------------------
async def test_token_and_currency_lists_have_the_fixed_layout(fp: FP) -> None:
    tokens = await fp.call("/open/api/onramp/token")
    assert tokens["code"] == 10000 and tokens["msg"] == "success"
    rows = {t["cryptoCurrencyCode"]: t for t in tokens["data"]}
    assert set(rows) == {"USDT_ERC20", "USDT_TRC20", "USDT_BSC", "USDC_ERC20", "USDC_SOL", "BTC",
                         "ETH", "SOL", "TRX", "BNB_BSC"}
    for row in rows.values():
        assert set(row) == {"cryptoCurrencyCode", "cryptoCurrency", "network", "precision"}
        assert isinstance(row["precision"], int)
    assert (rows["USDT_ERC20"]["cryptoCurrency"], rows["USDT_ERC20"]["network"],
            rows["USDT_ERC20"]["precision"]) == ("USDT", "ERC20", 6)
    assert (rows["BNB_BSC"]["cryptoCurrency"], rows["BNB_BSC"]["network"]) == ("BNB", "BSC")
    assert (rows["TRX"]["network"], rows["ETH"]["network"], rows["BTC"]["precision"]) == \
        ("TRC20", "ERC20", 8)
    fiats = await fp.call("/open/api/onramp/currency")
    assert fiats["code"] == 10000
    by_fiat = {f["fiatCurrency"]: f for f in fiats["data"]}
    assert set(by_fiat) == {"USD", "EUR", "GBP", "BRL", "TRY", "INR"}
    for f in by_fiat.values():
        assert set(f) == {"fiatCurrency", "precision", "paymentOptions"} and f["precision"] == 2
        assert [o["name"] for o in f["paymentOptions"]] == ["card", "bank"]
        for o in f["paymentOptions"]:
            assert set(o) == {"name", "minAmount", "maxAmount"}
            assert 0 < D(o["minAmount"]) < D(o["maxAmount"])
    usd = {o["name"]: o for o in by_fiat["USD"]["paymentOptions"]}
    prof = build_fatpay(World(SEED, frozen=True))
    assert D(usd["card"]["minAmount"]) >= prof.min_usd > D(usd["card"]["minAmount"]) - 1
    assert D(usd["bank"]["maxAmount"]) <= prof.max_usd
    inr = {o["name"]: o for o in by_fiat["INR"]["paymentOptions"]}
    assert D(inr["card"]["minAmount"]) > 50 * D(usd["card"]["minAmount"])  # in fiat units


# --- quotes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fiat", "code", "amount"), [
    ("USD", "USDT_ERC20", "199"), ("EUR", "BTC", "1234.56"), ("TRY", "TRX", "45000"),
    ("GBP", "USDC_SOL", "800.5"), ("INR", "ETH", "90000"), ("BRL", "BNB_BSC", "3000"),
])
async def test_price_is_consistent_with_the_world(fp: FP, fiat: str, code: str,
                                                  amount: str) -> None:
    world = World(SEED, frozen=True)
    prof = build_fatpay(world)
    tokens = {t["cryptoCurrencyCode"]: t for t in
              (await fp.call("/open/api/onramp/token"))["data"]}
    r = await fp.price(fiat, amount, code)
    assert r["code"] == 10000, r
    d = r["data"]
    assert set(d) == {"fiatCurrency", "currencyAmount", "cryptoCurrency", "network",
                      "cryptoCurrencyCode", "cryptoCurrencyAmount", "cryptoCurrencyUnitPrice",
                      "gasFee", "platformFee", "totalFee", "paymentOptions"}
    token = tokens[code]
    assert (d["fiatCurrency"], d["cryptoCurrencyCode"], d["cryptoCurrency"], d["network"]) == \
        (fiat, code, token["cryptoCurrency"], token["network"])
    a, price, gas, platform, total = (D(d[k]) for k in (
        "currencyAmount", "cryptoCurrencyUnitPrice", "gasFee", "platformFee", "totalFee"))
    out = D(d["cryptoCurrencyAmount"])
    assert a == Decimal(amount)
    assert total == gas + platform
    assert out == down((a - total) / price, token["precision"])
    # unit price: mid plus a spread between the base and the cap
    asset = {"USDT_ERC20": "USDT@ERC20", "BTC": "BTC", "TRX": "TRX", "USDC_SOL": "USDC@SOL",
             "ETH": "ETH", "BNB_BSC": "BNB"}[code]
    mid = world.cross(asset, fiat)
    spread = price / mid - 1
    assert prof.spread_base - Decimal("1e-7") <= spread <= prof.spread_cap + Decimal("1e-7")
    expected_price = mid * (1 + prof.spread(a * world.usd(fiat)))  # size-dependent spread
    assert price >= expected_price and price / expected_price - 1 < Decimal("1e-7")
    # fees in fiat: gas = network fee x markup at mid; platform = percent + fixed
    assert abs(gas - world.network_fee(asset) * prof.fees.network_fee_markup * mid) <= \
        Decimal("0.01")
    expected_platform = a * prof.fees.percent_for("onramp") + prof.fees.fixed_usd / world.usd(fiat)
    assert up(expected_platform, 2) == platform
    # what the user gets is worth the fiat less fees less the spread
    assert abs(out * mid - (a - total) / (1 + spread)) <= mid * Decimal(10) ** -token["precision"]
    for o in d["paymentOptions"]:
        assert set(o) == {"name", "processingTime", "icon", "minAmount", "maxAmount"}
        assert D(o["minAmount"]) <= a <= D(o["maxAmount"])


async def test_spread_grows_with_size_and_fees_weigh_on_small_tickets(fp: FP) -> None:
    small = (await fp.price("USD", "100", "BTC"))["data"]
    large = (await fp.price("USD", "20000", "BTC"))["data"]
    assert D(large["cryptoCurrencyUnitPrice"]) > D(small["cryptoCurrencyUnitPrice"])
    assert D(small["gasFee"]) == D(large["gasFee"])  # gas does not depend on the amount
    cost_small = D(small["totalFee"]) / D(small["currencyAmount"])
    cost_large = D(large["totalFee"]) / D(large["currencyAmount"])
    assert cost_small > 3 * cost_large


async def test_limits_follow_the_payment_options(fp: FP) -> None:
    fiats = (await fp.call("/open/api/onramp/currency"))["data"]
    opts = {o["name"]: (D(o["minAmount"]), D(o["maxAmount"]))
            for o in next(f for f in fiats if f["fiatCurrency"] == "EUR")["paymentOptions"]}
    (card_lo, card_hi), (bank_lo, bank_hi) = opts["card"], opts["bank"]
    r = await fp.price("EUR", str(card_lo - Decimal("0.01")), "USDT_TRC20")
    assert r["code"] == 10002 and "minAmount" in r["msg"] and str(card_lo) in r["msg"]
    r = await fp.price("EUR", str(bank_hi + 1), "USDT_TRC20")
    assert r["code"] == 10002 and "maxAmount" in r["msg"] and str(bank_hi) in r["msg"]
    between = str(card_hi + 1)
    r = await fp.price("EUR", between, "USDT_TRC20", payment="card")
    assert r["code"] == 10002 and str(card_hi) in r["msg"]
    r = await fp.price("EUR", between, "USDT_TRC20", payment="bank")
    assert r["code"] == 10000
    assert [o["name"] for o in r["data"]["paymentOptions"]] == ["bank"]
    r = await fp.price("EUR", str(card_lo), "USDT_TRC20")  # edges are inside
    assert r["code"] == 10000 and [o["name"] for o in r["data"]["paymentOptions"]] == ["card"]
    got = {o["name"]: (D(o["minAmount"]), D(o["maxAmount"])) for o in r["data"]["paymentOptions"]}
    assert got["card"] == opts["card"]  # the price answer's limits are the list's
    r = await fp.price("EUR", str(bank_hi), "USDT_TRC20")
    assert r["code"] == 10000
    r = await fp.price("EUR", str(bank_lo), "USDT_TRC20")
    assert [o["name"] for o in r["data"]["paymentOptions"]] == ["card", "bank"]


async def test_price_parameter_errors_are_10002(fp: FP) -> None:
    good = {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "BTC"}
    cases: list[Any] = [
        {k: v for k, v in good.items() if k != "fiatCurrency"},
        {k: v for k, v in good.items() if k != "currencyAmount"},
        {k: v for k, v in good.items() if k != "cryptoCurrencyCode"},
        {**good, "fiatCurrency": "CNY"}, {**good, "fiatCurrency": "usd"},
        {**good, "cryptoCurrencyCode": "USDT"}, {**good, "cryptoCurrencyCode": "btc"},
        {**good, "currencyAmount": "abc"}, {**good, "currencyAmount": "-5"},
        {**good, "currencyAmount": "0"}, {**good, "currencyAmount": "1e3"},
        {**good, "currencyAmount": "199.001"}, {**good, "currencyAmount": "9" * 30},
        {**good, "payment": "paypal"},
        [*good.items(), ("fiatCurrency", "EUR")],
    ]
    for q in cases:
        r = await fp.call(PRICE, q)
        assert r["code"] == 10002 and r["data"] is None and r["msg"], q
    assert (await fp.price(amount="199.50"))["code"] == 10000
    assert (await fp.price(amount="199.500"))["code"] == 10000  # same value, 2 decimals


async def test_order_list_is_empty_and_validated(fp: FP) -> None:
    q = {"startTime": "1700000000", "endTime": "1700600000", "page": "1", "size": "20"}
    r = await fp.call("/open/api/onramp/order", q)
    assert r["code"] == 10000
    assert r["data"] == {"list": [], "totalCount": 0, "page": 1, "size": 20}
    for bad in ({**q, "endTime": "1600000000"}, {"endTime": "1700600000"},
                {**q, "size": "1000"}, {**q, "page": "x"}):
        assert (await fp.call("/open/api/onramp/order", bad))["code"] == 10002, bad


async def test_malformed_requests_never_500(fp: FP) -> None:
    weird: list[Any] = [
        {"fiatCurrency": "ÜSD", "currencyAmount": "１９９", "cryptoCurrencyCode": "BTC"},
        {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "BTC\x00"},
        {"currencyAmount": " 199 "},
    ]
    for q in weird:
        status, _, raw = await fp.raw(PRICE, q)
        assert status == 200 and json.loads(raw)["code"] == 10002, q
    status, _, raw = await fp.raw(PRICE, {"a": "b"}, nonce="１２３")
    assert status == 200 and json.loads(raw)["code"] == 10002


# --- budget, stats, determinism -----------------------------------------------------------------
async def test_budget_overrun_is_429_then_recovers() -> None:
    clock = FakeClock(1000.0)
    async with serve(clock=clock) as c:
        for _ in range(60):
            assert (await c.call("/open/api/onramp/token"))["code"] == 10000
        status, headers, raw = await c.raw("/open/api/onramp/token")
        assert status == 429 and headers["Retry-After"] == "60"
        env = json.loads(raw)
        assert env["code"] == 429 and env["data"] is None and env["msg"]
        # an unknown partner is refused before the budget (and never charged)
        assert (await c.call("/open/api/onramp/token", partner="nobody"))["code"] == 10003
        clock.now += 59
        status, headers, _ = await c.raw("/open/api/onramp/token")
        assert status == 429 and headers["Retry-After"] == "1"
        clock.now += 2
        assert (await c.call("/open/api/onramp/token"))["code"] == 10000
        stats = await c.stats()
    assert stats["units"] == 61 and stats["rate_limited"] == 2 and stats["blocks"] == 1


async def test_no_limits_disables_the_budget() -> None:
    async with serve(no_limits=True, clock=FakeClock(0.0)) as c:
        codes = {(await c.call("/open/api/onramp/token"))["code"] for _ in range(65)}
        assert codes == {10000} and (await c.stats())["units"] == 65


async def test_stats_count_each_kind_of_answer(fp: FP) -> None:
    await fp.call("/open/api/onramp/token")
    await fp.price(fiat="CNY")
    await fp.call("/open/api/onramp/token", key=OTHER_KEY)
    await fp.call("/open/api/onramp/token", partner="nobody")
    assert await fp.stats() == {"requests": 4, "units": 3, "rate_limited": 0, "blocks": 0,
                                "signature_failures": 2, "errors": 1}
    async with fp.s.post(f"http://{fp.host}/_sandbox/reset") as r:
        assert r.status == 200
    assert set((await fp.stats()).values()) == {0}


async def test_same_seed_frozen_worlds_answer_identically() -> None:
    q = {"fiatCurrency": "GBP", "currencyAmount": "777.77", "cryptoCurrencyCode": "SOL"}
    answers = []
    for seed in (SEED, SEED, SEED + 1):
        async with serve(World(seed, frozen=True)) as c:
            answers.append([(await c.raw(PRICE, q))[2],
                            (await c.raw("/open/api/onramp/currency"))[2]])
    assert answers[0] == answers[1]
    assert answers[0][0] != answers[2][0]


async def test_credentials_are_stable_per_world_and_usable() -> None:
    world = World(11, frozen=True)
    creds = credentials(world)
    assert credentials(world) == creds
    assert set(creds) == {"partner_id", "private_key_pem"}
    assert len(creds["partner_id"]) == 16 and creds["partner_id"].isalnum()
    assert credentials(World(11))["partner_id"] == creds["partner_id"]
    assert credentials(World(12))["partner_id"] != creds["partner_id"]
    assert creds["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    key = serialization.load_pem_private_key(creds["private_key_pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    async with serve(world, creds) as c:
        r = await c.call("/open/api/onramp/token", key=key, partner=creds["partner_id"])
        assert r["code"] == 10000
        r = await c.call("/open/api/onramp/token", partner=creds["partner_id"])  # wrong key
        assert r["code"] == 10003


def test_profile_builder_is_seeded() -> None:
    a, b = build_fatpay(World(3)), build_fatpay(World(3))
    assert a == b and a != build_fatpay(World(4))
    assert a.name == "fatpay" and {"USD", "INR", "BTC", "USDT@TRC20", "BNB"} <= set(a.assets)
    assert a.min_usd < a.max_usd and 0 < a.fees.percent_for("onramp") < Decimal("0.02")


@virtual_time
async def test_latency_is_added_to_api_answers_only() -> None:
    async with serve(latency_ms=80) as c:
        loop = asyncio.get_running_loop()  # virtual: exact, whatever the load
        t0 = loop.time()
        await c.call("/open/api/onramp/token")
        slow = loop.time() - t0
        t0 = loop.time()
        await c.stats()
        fast = loop.time() - t0
    assert slow == pytest.approx(0.08, abs=1e-6) and fast == 0
