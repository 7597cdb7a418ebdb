"""1BitPay emulator over raw HTTP, with a signer written here from the doc (not the adapter's)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.emulators.onebitpay import create_app, credentials
from bench.world import World
from bench.world.profile_onebitpay import MIN_LEGAL, build_onebitpay
from tests.support.vclock import FakeClock, virtual_time

MERCHANT, KEY, SECRET = "mer1c92b0319ef5b794", "testApiKey0001", "testSecret0001"
CREDS = {"merchant_no": MERCHANT, "api_key": KEY, "api_secret": SECRET}
RATE, CREATE, BATCH = "/api/otc/rate", "/api/otc/create", "/api/otc/batch/sell"
DOC_PARAMS = {"orderNo": "Or12898771811", "name": "John Li", "TimeStamp": "1566781991111",
              "Nonce": "dnasja1N", "MerchantNo": "meraojiasdoa123", "Lang": "en", "SignType": "1",
              "ApiKey": "asdhuasdaosd"}


def text(v: Any) -> str:
    """A param value as it enters the string to sign."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def sign(params: dict[str, Any], secret: str, order: str = "ci") -> str:
    """The doc: drop Sign and empties, sort keys, join k=v with &, append the secret, md5 hex.

    ``order="ci"`` sorts like the doc's worked example (case-insensitive; keys equal but for case
    keep their insertion order), ``"ci-upper"`` puts the upper-case one of such keys first,
    ``"ascii"`` sorts like the doc's text.
    """
    kept = {k: text(v) for k, v in params.items() if k != "Sign" and v is not None and v != ""}
    if order == "ci":
        keys = sorted(kept, key=str.lower)
    elif order == "ci-upper":
        keys = sorted(kept, key=lambda k: (k.lower(), k))
    else:
        keys = sorted(kept)
    joined = "&".join(f"{k}={kept[k]}" for k in keys)
    return hashlib.md5((joined + secret).encode()).hexdigest()


class OBP:
    """A minimal raw client: returns (http status, headers, decoded envelope)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, creds: dict[str, str]) -> None:
        self.s, self.base, self.creds = session, base, creds

    def headers(self, lang: str = "en") -> dict[str, str]:
        return {"Nonce": "a1B2c3", "TimeStamp": "1760000000123",
                "MerchantNo": self.creds["merchant_no"], "SignType": "1", "Lang": lang,
                "ApiKey": self.creds["api_key"]}

    async def raw(self, path: str, body: bytes, headers: dict[str, str],
                  content_type: str = "application/json") -> tuple[int, Any, Any]:
        h = {"Content-Type": content_type, **headers}
        async with self.s.post(self.base + path, data=body, headers=h) as r:
            raw = await r.read()
            return r.status, r.headers, json.loads(raw, parse_float=Decimal)

    async def call(self, path: str, payload: Any, *, order: str = "ci", compact: bool = False,
                   secret: str | None = None, lang: str = "en", sign_value: str | None = None,
                   **overrides: str | None) -> dict[str, Any]:
        h = self.headers(lang)
        for k, v in overrides.items():
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        params = {**(payload if isinstance(payload, dict) else {}), **h}
        h["Sign"] = sign_value or sign(params, secret or self.creds["api_secret"], order)
        body = json.dumps(payload, separators=(",", ":") if compact else None,
                          ensure_ascii=False).encode()
        status, _, env = await self.raw(path, body, h)
        assert status == 200, env
        return env

    async def stats(self) -> dict[str, int]:
        async with self.s.get(self.base + "/_sandbox/stats") as r:
            return await r.json()


@contextlib.asynccontextmanager
async def serve(app: web.Application, creds: dict[str, str] = CREDS) -> AsyncIterator[OBP]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield OBP(session, f"http://127.0.0.1:{runner.addresses[0][1]}", creds)
    finally:
        await runner.cleanup()


@pytest.fixture
async def obp() -> AsyncIterator[OBP]:
    async with serve(create_app(World(5, frozen=True), credentials=CREDS)) as client:
        yield client


def order_body(**kw: Any) -> dict[str, Any]:
    """The doc's create example (its cryptoAmount 10 USDT is below 100 CNY: raised to 20)."""
    body = {"userName": "陈先生", "areaCode": "+86", "phone": "18848820305",
            "syncUrl": "https://example.com", "asyncUrl": "https://example.com",
            "cryptoAmount": "20", "cryptoCurrency": "USDT", "legalCurrency": "CNY",
            "idCardType": 1, "idCard": "412627288918989891", "kyc": 2,
            "merchantNo": MERCHANT, "merchantOrderNo": "1231222112d8", "orderType": 1,
            "payWay": "1", "bank": "建设银行", "bankAccount": "6217229282829299111",
            "bankBranch": "建设支行", "h5": False}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not None}


def batch_item(**kw: Any) -> dict[str, Any]:
    """The doc's batch element: the create body without kyc, orderType, h5 and payWay."""
    drop = {"kyc": None, "orderType": None, "h5": None, "payWay": None}
    return order_body(**{**drop, **kw})


def D(x: Any) -> Decimal:  # noqa: N802
    assert isinstance(x, str), x  # rates are decimal strings, as in the doc's example
    return Decimal(x)


# --- signature ------------------------------------------------------------------------------

def test_signer_reproduces_the_docs_worked_example() -> None:
    assert sign(DOC_PARAMS, "merasdasd", "ci") == "d826a31317bb52a1832cf023bc7b3a07"
    assert sign(DOC_PARAMS, "merasdasd", "ascii") == "ffa330626d0036b48cb877735b3ab8a0"


@pytest.mark.parametrize("signature", ["d826a31317bb52a1832cf023bc7b3a07",
                                       "ffa330626d0036b48cb877735b3ab8a0",
                                       "D826A31317BB52A1832CF023BC7B3A07"])
async def test_docs_worked_example_is_accepted_in_both_orders(signature: str) -> None:
    creds = {"merchant_no": "meraojiasdoa123", "api_key": "asdhuasdaosd",
             "api_secret": "merasdasd"}
    async with serve(create_app(World(1, frozen=True), credentials=creds), creds) as c:
        headers = {k: v for k, v in DOC_PARAMS.items() if k[0].isupper()}
        body = json.dumps({"orderNo": "Or12898771811", "name": "John Li"}).encode()
        status, _, env = await c.raw(RATE, body, {**headers, "Sign": signature})
        assert status == 200
        assert env["code"] == 150026  # past the signature: the rate call lacks cryptoCurrency
        _, _, env = await c.raw(RATE, body, {**headers, "Sign": "0" * 32})
        assert env["code"] == 150025


@pytest.mark.parametrize("order", ["ci", "ascii"])
@pytest.mark.parametrize("compact", [True, False])
async def test_good_signature_in_either_order_and_json_style(obp: OBP, order: str,
                                                             compact: bool) -> None:
    env = await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}, order=order,
                         compact=compact)
    assert env["code"] == 200 and env["message"] == "Success"
    assert set(env["data"]) == {"buyRate", "sellRate"}


async def test_auth_failures(obp: OBP) -> None:
    p = {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}
    assert (await obp.call(RATE, p, ApiKey=None))["code"] == 50017
    assert (await obp.call(RATE, p, ApiKey=""))["code"] == 50017
    assert (await obp.call(RATE, p, ApiKey="nope"))["code"] == 150024
    assert (await obp.call(RATE, p, MerchantNo="mer0000000000000000"))["code"] == 150024
    assert (await obp.call(RATE, p, secret="wrong"))["code"] == 150025
    assert (await obp.call(RATE, p, sign_value="f" * 32))["code"] == 150025
    for bad in ({"TimeStamp": "1760000000"}, {"TimeStamp": None}, {"SignType": "2"},
                {"Nonce": None}, {"Nonce": "bad nonce!"}, {"MerchantNo": None}):
        assert (await obp.call(RATE, p, **bad))["code"] in (150025, 150024), bad
    # The body is signed: a signature over other params does not cover this body.
    h = obp.headers()
    h["Sign"] = sign({**h, "cryptoCurrency": "USDT", "legalCurrency": "USD"}, SECRET)
    _, _, env = await obp.raw(RATE, json.dumps(p).encode(), h)
    assert env["code"] == 150025
    # Header names are case-insensitive; upper-case hex is the same signature.
    h = obp.headers()
    h["Sign"] = sign({**h, **p}, SECRET).upper()
    lower = {k.lower(): v for k, v in h.items()}
    status, _, env = await obp.raw(RATE, json.dumps(p).encode(), lower)
    assert status == 200 and env["code"] == 200
    assert (await obp.stats())["signature_failures"] == 13


async def test_empty_values_are_left_out_of_the_signature(obp: OBP) -> None:
    p = {"cryptoCurrency": "USDT", "legalCurrency": "CNY", "note": "", "extra": None}
    assert (await obp.call(RATE, p))["code"] == 200
    h = obp.headers()
    h["Sign"] = sign({**h, "cryptoCurrency": "USDT", "legalCurrency": "CNY"}, SECRET)
    _, _, env = await obp.raw(RATE, json.dumps(p).encode(), h)
    assert env["code"] == 200
    h["Sign"] = hashlib.md5(("&".join(f"{k}={v}" for k, v in sorted(
        {**h, **{k: v or ""for k, v in p.items()}}.items()) if k != "Sign")
        + SECRET).encode()).hexdigest()
    _, _, env = await obp.raw(RATE, json.dumps(p).encode(), h)
    assert env["code"] == 150025  # signing "note=&extra=" is a different string


async def test_malformed_bodies_are_documented_errors_not_500(obp: OBP) -> None:
    h = obp.headers()
    raw = b'{"cryptoCurrency": "USDT", "legalCurrency": "CNY"}'
    h["Sign"] = sign({**h, "cryptoCurrency": "USDT", "legalCurrency": "CNY"}, SECRET)
    status, _, env = await obp.raw(RATE, raw, h, content_type="text/plain")
    assert (status, env["code"]) == (200, 400)
    for body in (b"{not json", b'{"a": NaN}'):
        h2 = {**obp.headers(), "Sign": sign(obp.headers(), SECRET)}
        status, _, env = await obp.raw(RATE, body, h2)
        assert (status, env["code"]) == (200, 400)
    assert (await obp.call(RATE, [1, 2]))["code"] == 400
    assert (await obp.call(CREATE, "x"))["code"] == 400


# --- rates ----------------------------------------------------------------------------------

async def test_rates_surround_the_world_mid_with_the_profile_markup(obp: OBP) -> None:
    world = World(5, frozen=True)
    prof = build_onebitpay(world)
    for fiat in ("CNY", "USD", "EUR", "RUB"):
        env = await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": fiat})
        assert env["code"] == 200, fiat
        buy, sell = D(env["data"]["buyRate"]), D(env["data"]["sellRate"])
        mid = world.cross("USDT@TRC20", fiat)
        assert sell < mid < buy
        want_buy = mid * (1 + prof.fees.percent[f"buy:{fiat}"] + prof.spread_base)
        want_sell = mid * (1 - prof.fees.percent[f"sell:{fiat}"] - prof.spread_base)
        step = Decimal("0.01") if fiat in ("CNY", "RUB") else Decimal("0.0001")
        assert want_buy <= buy < want_buy + step
        assert want_sell - step < sell <= want_sell
        assert Decimal("0.003") < buy / sell - 1 < Decimal("0.08")
    env = await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"})
    assert Decimal("7.0") < D(env["data"]["sellRate"]) < D(env["data"]["buyRate"]) < Decimal("7.5")


async def test_rate_codes_are_case_insensitive_and_extra_params_ignored(obp: OBP) -> None:
    a = await obp.call(RATE, {"cryptoCurrency": "usdt", "legalCurrency": "cny", "foo": 1})
    b = await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"})
    assert a == b and a["code"] == 200


@pytest.mark.parametrize(("coin", "fiat", "code"), [
    ("BTC", "CNY", 150031), ("ETH", "USD", 150031), ("XYZ", "CNY", 150026),
    (None, "CNY", 150026), ("", "CNY", 150026), (5, "CNY", 150026),
    ("USDT", "GBP", 150033), ("USDT", "ABC", 150034), ("USDT", None, 150034),
])
async def test_rate_currency_errors(obp: OBP, coin: Any, fiat: Any, code: int) -> None:
    env = await obp.call(RATE, {"cryptoCurrency": coin, "legalCurrency": fiat})
    assert env["code"] == code and env["data"] is None and env["message"]


async def test_rates_are_stable_within_a_minute_and_move_with_world_time() -> None:
    minute = 1_760_000_040.0
    clock = FakeClock(minute + 1)
    async with serve(create_app(World(21, clock=clock), credentials=CREDS)) as c:
        p = {"cryptoCurrency": "USDT", "legalCurrency": "RUB"}
        first = (await c.call(RATE, p))["data"]
        clock.now = minute + 59
        assert (await c.call(RATE, p))["data"] == first
        seen = {json.dumps(first)}
        for k in range(1, 30):
            clock.now = minute + 3600 * k
            seen.add(json.dumps((await c.call(RATE, p))["data"]))
    assert len(seen) > 5


async def test_lang_zh_gives_chinese_messages(obp: OBP) -> None:
    env = await obp.call(RATE, {"cryptoCurrency": "XYZ", "legalCurrency": "CNY"}, lang="zh")
    assert env["code"] == 150026 and re.search(r"[\u4e00-\u9fff]", env["message"])
    env = await obp.call(RATE, {"cryptoCurrency": "XYZ", "legalCurrency": "CNY"})
    assert not re.search(r"[\u4e00-\u9fff]", env["message"])


# --- orders ---------------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["ci", "ci-upper", "ascii"])
async def test_create_order_and_idempotent_repeat(obp: OBP, order: str) -> None:
    env = await obp.call(CREATE, order_body(), order=order)
    assert env["code"] == 200, env
    d = env["data"]
    assert d["isNew"] is True and re.fullmatch(r"[1-9][0-9]{17}", d["orderNo"])
    assert d["url"].startswith("https://") and f"o={d['orderNo']}" in d["url"]
    again = await obp.call(CREATE, order_body())
    assert again["data"] == {**d, "isNew": False}
    other = await obp.call(CREATE, order_body(merchantOrderNo="another-1"))
    assert other["data"]["isNew"] is True and other["data"]["orderNo"] != d["orderNo"]


async def test_create_minimum_volume_in_fiat(obp: OBP) -> None:
    rates = (await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}))["data"]
    buy, sell = D(rates["buyRate"]), D(rates["sellRate"])
    # The doc's own example (10 USDT, about 72 CNY) is below the 100 CNY minimum.
    assert (await obp.call(CREATE, order_body(cryptoAmount="10")))["code"] == 150032
    just = (Decimal(100) / buy).quantize(Decimal("0.000001")) + Decimal("0.000001")
    assert (await obp.call(CREATE, order_body(cryptoAmount=str(just))))["code"] == 200
    below = (Decimal(100) / buy).quantize(Decimal("0.000001")) - Decimal("0.000001")
    assert (await obp.call(CREATE, order_body(cryptoAmount=str(below),
                                              merchantOrderNo="b")))["code"] == 150032
    # A sell is valued at the (lower) sell rate: the same USDT may clear a buy but not a sell.
    mid_amt = (Decimal(100) / buy + Decimal(100) / sell) / 2
    sell_body = order_body(cryptoAmount=str(mid_amt.quantize(Decimal("0.000001"))), orderType=2,
                           merchantOrderNo="s")
    assert (await obp.call(CREATE, sell_body))["code"] == 150032
    assert (await obp.call(CREATE, {**sell_body, "orderType": 1}))["code"] == 200
    for fiat, lo in MIN_LEGAL.items():
        body = order_body(cryptoAmount=None, legalAmount=int(lo) - 1, legalCurrency=fiat,
                          merchantOrderNo=f"m-{fiat}")
        assert (await obp.call(CREATE, body))["code"] == 150032, fiat
        assert (await obp.call(CREATE, {**body, "legalAmount": str(int(lo))}))["code"] == 200


@pytest.mark.parametrize("change", [
    {"legalAmount": "100.5", "cryptoAmount": None}, {"legalAmount": 100.5, "cryptoAmount": None},
    {"cryptoAmount": None}, {"cryptoAmount": "-3"}, {"cryptoAmount": "abc"},
    {"userName": None}, {"phone": ""}, {"idCardType": 3}, {"kyc": 1}, {"orderType": 3},
    {"payWay": 4}, {"h5": None}, {"h5": "yes"}, {"merchantOrderNo": None},
    {"orderType": 2, "payWay": 2}, {"orderType": 2, "bank": None},
    {"orderType": 2, "bankAccount": ""}, {"asyncUrl": "ftp://x"}, {"idCardType": True},
])
async def test_create_rejects_invalid_fields_with_400(obp: OBP, change: dict[str, Any]) -> None:
    assert (await obp.call(CREATE, order_body(**change)))["code"] == 400


async def test_create_currency_checks_and_ignored_legal_amount(obp: OBP) -> None:
    assert (await obp.call(CREATE, order_body(cryptoCurrency="BTC")))["code"] == 150031
    assert (await obp.call(CREATE, order_body(legalCurrency="TRY")))["code"] == 150033
    assert (await obp.call(CREATE, order_body(legalCurrency="JPY")))["code"] == 150034
    # With both amounts legalAmount is ignored, even a malformed one.
    env = await obp.call(CREATE, order_body(legalAmount="1.5"))
    assert env["code"] == 200 and env["data"]["isNew"] is True


async def test_batch_sell(obp: OBP) -> None:
    items = [batch_item(), batch_item(payWay="1", legalCurrency="EUR", cryptoAmount="20")]
    env = await obp.call(BATCH, items)  # public params alone are signed for an array body
    assert env["code"] == 200, env
    d = env["data"]
    assert re.fullmatch(r"[0-9]{11}", d["batchNo"])
    nos = d["merchantOrderNos"]
    assert len(nos) == 2 and len(set(nos)) == 2
    assert all(re.fullmatch(r"[1-9][0-9]{17}", n) for n in nos)
    env2 = await obp.call(BATCH, items)
    assert env2["data"]["batchNo"] != d["batchNo"]
    small = [batch_item(), batch_item(cryptoAmount="1")]
    assert (await obp.call(BATCH, small))["code"] == 150032
    assert (await obp.call(BATCH, [batch_item(bankBranch=None)]))["code"] == 400
    assert (await obp.call(BATCH, [batch_item(payWay="2")]))["code"] == 400
    assert (await obp.call(BATCH, [batch_item(legalCurrency="XXX")]))["code"] == 150034
    assert (await obp.call(BATCH, []))["code"] == 400
    assert (await obp.call(BATCH, batch_item()))["code"] == 400
    assert (await obp.call(BATCH, [1]))["code"] == 400
    assert (await obp.call(BATCH, [batch_item()] * 101))["code"] == 400
    assert (await obp.call(BATCH, items, secret="wrong"))["code"] == 150025


async def test_mpc_cosigner_calls(obp: OBP) -> None:
    env = await obp.call("/api/transaction/pending", {"pageNum": 1, "pageSize": 20})
    assert env == {"code": 200, "message": "Success", "data": {"total": 0, "list": []}}
    assert (await obp.call("/api/transaction/pending", {"pageNum": 0, "pageSize": 20}))[
        "code"] == 400
    env = await obp.call("/api/transaction/assets/collect", {"isMain": 1, "data": "HDOA|ASD"})
    assert env == {"code": 200, "message": "Success"}
    assert (await obp.call("/api/transaction/assets/collect", {"isMain": 1}))["code"] == 400
    env = await obp.call("/api/transaction/approve", {"id": 1, "status": 1, "data": "x"})
    assert env["code"] == 400  # nothing is pending in the sandbox


# --- budget, stats, determinism ---------------------------------------------------------------

async def test_budget_overrun_is_429_with_retry_after_then_recovers() -> None:
    clock = FakeClock()
    p = {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}
    async with serve(create_app(World(5, frozen=True), credentials=CREDS, clock=clock)) as c:
        for i in range(60):
            clock.now = 1000 + i * 0.5  # 60 calls over 29.5 s
            assert (await c.call(RATE, p))["code"] == 200
        h = {**c.headers(), "Sign": sign({**c.headers(), **p}, SECRET)}
        status, headers, env = await c.raw(RATE, json.dumps(p).encode(), h)
        assert status == 429 and env["code"] == 429 and env["message"]
        assert headers["Retry-After"] == "31"  # the first call leaves the window at t=1060
        clock.now = 1059.9
        status, headers, _ = await c.raw(RATE, json.dumps(p).encode(), h)
        assert status == 429 and headers["Retry-After"] == "1"
        clock.now = 1060
        assert (await c.call(RATE, p))["code"] == 200  # one unit freed, one spent
        status, _, _ = await c.raw(RATE, json.dumps(p).encode(), h)
        assert status == 429
        clock.now = 1090
        assert (await c.call(RATE, p))["code"] == 200
        stats = await c.stats()
    assert stats["rate_limited"] == 3 and stats["units"] == 62 and stats["blocks"] == 0


async def test_budget_charges_known_keys_only_and_no_limits_disables() -> None:
    clock = FakeClock()
    p = {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}
    async with serve(create_app(World(5, frozen=True), credentials=CREDS, clock=clock)) as c:
        for _ in range(70):
            assert (await c.call(RATE, p, ApiKey="unknown"))["code"] == 150024
        assert (await c.call(RATE, p, secret="bad"))["code"] == 150025  # known key: charged
        assert (await c.stats())["units"] == 1
    async with serve(create_app(World(5, frozen=True), credentials=CREDS, no_limits=True,
                                clock=clock)) as c:
        codes = {(await c.call(RATE, p))["code"] for _ in range(65)}
        assert codes == {200}


async def test_stats_count_each_kind_of_answer(obp: OBP) -> None:
    await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"})
    await obp.call(RATE, {"cryptoCurrency": "BTC", "legalCurrency": "CNY"})
    await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}, secret="x")
    await obp.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}, ApiKey=None)
    assert await obp.stats() == {"requests": 4, "units": 3, "rate_limited": 0, "blocks": 0,
                                 "signature_failures": 2, "errors": 1}
    async with obp.s.post(obp.base + "/_sandbox/reset") as r:
        assert r.status == 200
    assert set((await obp.stats()).values()) == {0}


async def test_same_seed_frozen_worlds_answer_byte_identically() -> None:
    answers = []
    for seed in (5, 5, 6):
        creds = credentials(World(seed, frozen=True))
        async with serve(create_app(World(seed, frozen=True), credentials=creds), creds) as c:
            out = []
            for fiat in ("CNY", "USD", "EUR", "RUB"):
                out.append(await c.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": fiat}))
            out.append(await c.call(CREATE, order_body(cryptoAmount="500")))
            out.append(await c.call(BATCH, [batch_item(), batch_item()]))
            answers.append((creds, json.dumps(out, default=str)))
    assert answers[0] == answers[1]
    assert answers[0][0] != answers[2][0] and answers[0][1] != answers[2][1]


def test_credentials_look_like_the_docs_and_derive_from_the_seed() -> None:
    a, b = credentials(World(3)), credentials(World(3))
    assert a == b and a != credentials(World(4))
    assert set(a) == {"merchant_no", "api_key", "api_secret"}
    assert re.fullmatch(r"mer[0-9a-f]{16}", a["merchant_no"])
    assert a["api_key"] != a["api_secret"] and len(a["api_secret"]) >= 32
    with pytest.raises(ValueError):
        create_app(World(3), credentials={"api_key": "k", "api_secret": "s"})


@virtual_time
async def test_latency_is_added_to_api_answers_only() -> None:
    async with serve(create_app(World(5, frozen=True), credentials=CREDS, latency_ms=80)) as c:
        loop = asyncio.get_running_loop()  # virtual: exact, whatever the load
        t0 = loop.time()
        await c.call(RATE, {"cryptoCurrency": "USDT", "legalCurrency": "CNY"})
        slow = loop.time() - t0
        t0 = loop.time()
        await c.stats()
        fast = loop.time() - t0
    assert slow == pytest.approx(0.08, abs=1e-6) and fast == 0
