"""Every doc ambiguity is a sandbox variant: in a variant the emulator accepts only that reading.

Each test sends raw HTTP written from the provider's doc (signed by :mod:`._raw`, never by adapter
code) and proves, for each value of a variant, that the emulator takes that reading and refuses
(or no longer answers in) the other one, while with no variant chosen both readings pass as
before. ``GET /_sandbox/variants`` lists every variant, its values and the active one.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bench.emulators.fixedfloat import create_app as ff_create_app
from bench.sandbox import Sandbox, sandbox_variants
from bench.world import World
from router.errors import InvalidRequest

from ._raw import (
    fatpay_headers,
    ff_headers,
    flypay_headers,
    gatepay_headers,
    onebitpay_canonical,
    onebitpay_headers,
    send,
)

#: What a caller passes to ``Sandbox(variants=...)``: every key and its values.
EXPECTED = {
    "fixedfloat": {"rates_path": ["single", "split"], "empty_params": ["empty", "braces"],
                   "amount_type": ["number", "string"], "ccies_flags": ["bool", "int"]},
    "flypay": {"key_header": ["api-key", "authorization"], "errors": ["http-status", "http-200"]},
    "gatepay": {"pair_rows": ["directed", "both"], "preview_rate_field": ["price", "rate"],
                "order_id_param": ["OrderID", "orderId"]},
    "onebitpay": {"sign_order": ["ascii", "casefold"]},
    "fatpay": {"lists": ["designed", "missing", "renamed"], "code_type": ["int", "string"],
               "payment_options": ["list", "object"]},
}


class Box:
    def __init__(self, sb: Sandbox, session: aiohttp.ClientSession) -> None:
        self.sb = sb
        self.s = session

    def block(self, provider: str) -> dict[str, str]:
        return self.sb.providers[provider]

    def url(self, provider: str, path: str) -> str:
        return self.block(provider)["base_url"] + path


@asynccontextmanager
async def box(variants: Mapping[str, str] | None = None, **kw: Any) -> AsyncIterator[Box]:
    kw.setdefault("no_limits", True)
    async with Sandbox(seed=11, frozen=True, variants=variants, **kw) as sb:
        async with aiohttp.ClientSession() as session:
            yield Box(sb, session)


# --- the listing and the checks on names --------------------------------------------------------

async def test_each_emulator_lists_every_variant_its_values_and_the_active_one() -> None:
    chosen = {"fixedfloat.rates_path": "split", "flypay.errors": "http-200",
              "gatepay.pair_rows": "both", "onebitpay.sign_order": "casefold",
              "fatpay.lists": "missing"}
    async with box(chosen) as b:
        for provider, names in EXPECTED.items():
            status, _, raw = await send(b.s, "GET", b.url(provider, "/_sandbox/variants"))
            assert status == 200
            listing = json.loads(raw)
            assert listing["provider"] == provider
            assert {n: v["values"] for n, v in listing["variants"].items()} == names
            active = {f"{provider}.{n}": v["active"] for n, v in listing["variants"].items()
                      if v["active"] is not None}
            assert active == {k: v for k, v in chosen.items() if k.startswith(provider + ".")}
            assert all(v["summary"] and v["default"] for v in listing["variants"].values())
    async with box() as b:  # none chosen: every emulator runs its lenient default
        for provider in EXPECTED:
            _, _, raw = await send(b.s, "GET", b.url(provider, "/_sandbox/variants"))
            assert {v["active"] for v in json.loads(raw)["variants"].values()} == {None}


@pytest.mark.parametrize(("variants", "words"), [
    ({"nowhere.x": "y"}, ["'nowhere.x'", "fixedfloat", "fatpay"]),
    ({"fixedfloat": "split"}, ["'fixedfloat'", "PROVIDER.NAME"]),
    ({"fixedfloat.rate_path": "split"}, ["fixedfloat.rate_path", "fixedfloat.rates_path"]),
    ({"fixedfloat.rates_path": "both"}, ["fixedfloat.rates_path", "single, split", "'both'"]),
    ({"onebitpay.sign_order": "ASCII"}, ["onebitpay.sign_order", "ascii, casefold"]),
])
def test_an_unknown_provider_name_or_value_is_a_clear_error(variants: dict[str, str],
                                                             words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        Sandbox(variants=variants)
    for word in words:
        assert word in str(info.value)


def test_create_app_checks_its_variants_too() -> None:
    with pytest.raises(ValueError, match="fixedfloat.rates_path must be one of single, split"):
        ff_create_app(World(1), credentials={"k": "s"}, variants={"rates_path": "x"})


def test_the_cli_option_is_parsed_and_checked() -> None:
    args = argparse.Namespace(variant=["fixedfloat.rates_path=split",
                                       "flypay.key_header = authorization"])
    assert sandbox_variants(args) == {"fixedfloat.rates_path": "split",
                                      "flypay.key_header": "authorization"}
    with pytest.raises(InvalidRequest, match="--variant"):
        sandbox_variants(argparse.Namespace(variant=["fixedfloat.rates_path"]))
    with pytest.raises(InvalidRequest, match="directed, both"):
        sandbox_variants(argparse.Namespace(variant=["gatepay.pair_rows=sideways"]))


# --- FixedFloat ---------------------------------------------------------------------------------

FEEDS = ("/rates.xml", "/rates/fixed.xml", "/rates/float.xml")


@pytest.mark.parametrize(("value", "served"), [
    (None, FEEDS), ("single", ("/rates.xml",)),
    ("split", ("/rates/fixed.xml", "/rates/float.xml"))])
async def test_fixedfloat_rates_path(value: str | None, served: tuple[str, ...]) -> None:
    async with box({"fixedfloat.rates_path": value} if value else None) as b:
        for path in FEEDS:
            status, headers, raw = await send(b.s, "GET", b.url("fixedfloat", path))
            if path in served:
                assert status == 200 and raw.startswith(b"<rates><item>"), path
                assert headers["Content-Type"].startswith("application/xml")
            else:
                assert status == 404, path


def _hmac_sha256(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("value", "accepted"), [
    (None, {"no body, signed \"\"", "{}, signed \"{}\""}),
    ("empty", {"no body, signed \"\"", "{}, signed \"\""}),
    ("braces", {"{}, signed \"{}\"", "no body, signed \"{}\""}),
])
async def test_fixedfloat_signing_a_call_without_params(value: str | None,
                                                        accepted: set[str]) -> None:
    async with box({"fixedfloat.empty_params": value} if value else None) as b:
        block = b.block("fixedfloat")
        cases = {"no body, signed \"\"": (b"", b""), "{}, signed \"{}\"": (b"{}", b"{}"),
                 "{}, signed \"\"": (b"{}", b""), "no body, signed \"{}\"": (b"", b"{}")}
        for name, (body, signed) in cases.items():
            headers = {"X-API-KEY": block["api_key"],
                       "X-API-SIGN": _hmac_sha256(block["api_secret"], signed)}
            status, _, raw = await send(b.s, "POST", b.url("fixedfloat", "/api/v2/ccies"),
                                        body=body, headers=headers)
            env = json.loads(raw)
            assert status == 200
            assert (env["code"] == 0) == (name in accepted), (name, env["code"], env["msg"])
            if name not in accepted:
                assert env["code"] == 401


PRICE = {"fromCcy": "BTC", "toCcy": "ETH", "direction": "from", "type": "float"}


@pytest.mark.parametrize(("value", "accepted"), [
    (None, {"number", "string"}), ("number", {"number"}), ("string", {"string"})])
async def test_fixedfloat_amount_type(value: str | None, accepted: set[str]) -> None:
    async with box({"fixedfloat.amount_type": value} if value else None) as b:
        block = b.block("fixedfloat")
        for kind, body in (("number", b'{"amount": 0.1, '), ("string", b'{"amount": "0.1", ')):
            body += json.dumps(PRICE).encode()[1:]
            _, _, raw = await send(b.s, "POST", b.url("fixedfloat", "/api/v2/price"),
                                   body=body, headers=ff_headers(block, body))
            env = json.loads(raw)
            if kind in accepted:
                assert env["code"] == 0 and Decimal(env["data"]["from"]["amount"]) == Decimal(
                    "0.1"), env
            else:
                assert env["code"] == 301 and "amount" in env["msg"], env


@pytest.mark.parametrize(("value", "flag_type"), [(None, bool), ("bool", bool), ("int", int)])
async def test_fixedfloat_ccies_flags(value: str | None, flag_type: type) -> None:
    async with box({"fixedfloat.ccies_flags": value} if value else None) as b:
        block = b.block("fixedfloat")
        _, _, raw = await send(b.s, "POST", b.url("fixedfloat", "/api/v2/ccies"), body=b"{}",
                               headers=ff_headers(block, b"{}"))
        rows = json.loads(raw)["data"]
        flags = [row[k] for row in rows for k in ("recv", "send")]
        assert flags and all(type(f) is flag_type for f in flags)
        assert {int(f) for f in flags} <= {0, 1}


# --- FlyPay -------------------------------------------------------------------------------------

async def _fly(b: Box, method: str, body: bytes, **kw: Any) -> tuple[int, Mapping[str, str], Any]:
    status, headers, raw = await send(b.s, "POST", b.url("flypay", "/api/v1/" + method),
                                      body=body, headers=flypay_headers(b.block("flypay"), body,
                                                                        **kw))
    return status, headers, json.loads(raw)


@pytest.mark.parametrize(("value", "accepted"), [
    (None, {"Api-Key", "Authorization"}), ("api-key", {"Api-Key"}),
    ("authorization", {"Authorization"})])
async def test_flypay_key_header(value: str | None, accepted: set[str]) -> None:
    async with box({"flypay.key_header": value} if value else None) as b:
        for header in ("Api-Key", "Authorization"):
            status, headers, env = await _fly(b, "balances", b"{}", key_header=header)
            if header in accepted:
                assert status == 200 and env["status"] == "success", header
                assert "Signature" in headers
            else:
                assert status == 401 and env == {"status": "error", "message": "Invalid API key.",
                                                 "data": None}, header
                assert "Signature" not in headers  # no key known: nothing to sign with
        if "Authorization" in accepted:
            body = b"{}"
            hdrs = flypay_headers(b.block("flypay"), body, key_header="Authorization")
            hdrs["Authorization"] = "Bearer " + hdrs["Authorization"]
            status, _, _ = await send(b.s, "POST", b.url("flypay", "/api/v1/balances"),
                                      body=body, headers=hdrs)
            assert status == 200


@pytest.mark.parametrize("value", [None, "http-status", "http-200"])
async def test_flypay_errors(value: str | None) -> None:
    async with box({"flypay.errors": value} if value else None, no_limits=False) as b:
        bad_field = json.dumps({"currency_from": "btc", "currency_to": "usdt",
                                "amount": "-1"}).encode()
        answers = {"invalid field": await _fly(b, "exchange/estimated_amount", bad_field)}
        block = b.block("flypay")
        status, _, raw = await send(b.s, "POST", b.url("flypay", "/api/v1/balances"), body=b"{}",
                                    headers={**flypay_headers(block, b"{}"), "Api-Key": "nope"})
        answers["bad key"] = (status, {}, json.loads(raw))
        while True:  # spend the key's budget (60 units a minute) until refused
            answer = await _fly(b, "balances", b"{}")
            if answer[2]["status"] == "error":
                answers["rate limit"] = answer
                break
        assert answers["rate limit"][1]["Retry-After"]
        expected = {"invalid field": 422, "bad key": 401, "rate limit": 429}
        for name, (status, _, env) in answers.items():
            assert env["status"] == "error" and env["message"] and env["data"] is None, name
            assert status == (200 if value == "http-200" else expected[name]), name


# --- Gate Pay -----------------------------------------------------------------------------------

async def _gp_get(b: Box, path: str, query: Mapping[str, str]) -> Any:
    _, _, raw = await send(b.s, "GET", b.url("gatepay", path), params=query,
                           headers=gatepay_headers(b.block("gatepay")))
    return json.loads(raw)


async def _gp_post(b: Box, path: str, obj: Any) -> Any:
    body = json.dumps(obj).encode()
    _, _, raw = await send(b.s, "POST", b.url("gatepay", path), body=body,
                           headers=gatepay_headers(b.block("gatepay"), body))
    return json.loads(raw)


async def _rows(b: Box, currency: str, side: str | None = None) -> dict[str, dict[str, str]]:
    query = {"currency": currency, **({"side": side} if side else {})}
    env = await _gp_get(b, "/v1/pay/convert/pair", query)
    assert env["status"] == "SUCCESS", env
    return {row["pair"]: row for row in env["data"]}


async def _preview(b: Box, sell: str, buy: str, amount: Decimal) -> Any:
    return await _gp_post(b, "/v1/pay/convert/preview",
                          {"sellCurrency": sell, "buyCurrency": buy, "sellAmount": str(amount)})


async def test_gatepay_pair_rows_lenient_lists_each_direction_and_converts_both() -> None:
    async with box() as b:
        rows = await _rows(b, "SOL")
        assert {"SOL_BTC", "BTC_SOL", "SOL_USDT", "USDT_SOL"} <= set(rows)
        min_btc = Decimal(rows["BTC_SOL"]["sellCurrencyMin"])
        assert (await _preview(b, "BTC", "SOL", min_btc * 2))["status"] == "SUCCESS"


async def test_gatepay_pair_rows_directed_one_direction_per_row() -> None:
    async with box({"gatepay.pair_rows": "directed"}) as b:
        rows = await _rows(b, "SOL")
        assert {"SOL_BTC", "SOL_USDT", "USDT_SOL"} <= set(rows)
        assert "BTC_SOL" not in rows  # SOL is bought with USDT only
        assert set(await _rows(b, "SOL", "sell")) == {p for p in rows if p.startswith("SOL_")}
        row = rows["SOL_BTC"]
        min_sol, min_btc = Decimal(row["sellCurrencyMin"]), Decimal(row["buyCurrencyMin"])
        assert (await _preview(b, "SOL", "BTC", min_sol * 2))["status"] == "SUCCESS"
        refused = await _preview(b, "BTC", "SOL", min_btc * 2)  # the row read both ways
        assert refused["status"] == "FAIL" and refused["code"] == "400001"
        assert "pair" in refused["errorMessage"]


async def test_gatepay_pair_rows_both_one_row_per_pair_serving_both_directions() -> None:
    async with box({"gatepay.pair_rows": "both"}) as b:
        rows = await _rows(b, "SOL")
        assert {"SOL_BTC", "SOL_USDT"} <= set(rows)
        assert "BTC_SOL" not in rows and "USDT_SOL" not in rows  # no row per direction
        assert await _rows(b, "SOL", "buy") == rows == await _rows(b, "SOL", "sell")
        unordered = [frozenset((r["sellCurrency"], r["buyCurrency"])) for r in rows.values()]
        assert len(unordered) == len(set(unordered))
        assert set(await _rows(b, "BTC")) >= {"BTC_USDT", "SOL_BTC"}  # base_quote naming
        row = rows["SOL_BTC"]
        min_btc = Decimal(row["buyCurrencyMin"])  # BTC's limit, under its own name
        sold_btc = await _preview(b, "BTC", "SOL", min_btc)  # the reverse of the row
        assert sold_btc["status"] == "SUCCESS", sold_btc
        below = await _preview(b, "BTC", "SOL", min_btc - Decimal("0.00000001"))
        assert below["code"] == "400001" and "minimum" in below["errorMessage"]


@pytest.mark.parametrize(("value", "fields"), [
    (None, {"price", "rate"}), ("price", {"price"}), ("rate", {"rate"})])
async def test_gatepay_preview_rate_field(value: str | None, fields: set[str]) -> None:
    async with box({"gatepay.preview_rate_field": value} if value else None) as b:
        data = (await _preview(b, "BTC", "USDT", Decimal("0.01")))["data"]
        assert {"price", "rate"} & set(data) == fields
        assert Decimal(data[next(iter(fields))]) > 1000  # USDT per BTC, market convention


@pytest.mark.parametrize(("value", "accepted"), [
    (None, {"OrderID", "orderId"}), ("OrderID", {"OrderID"}), ("orderId", {"orderId"})])
async def test_gatepay_order_id_param(value: str | None, accepted: set[str]) -> None:
    async with box({"gatepay.order_id_param": value} if value else None) as b:
        preview = (await _preview(b, "BTC", "USDT", Decimal("0.01")))["data"]
        order = await _gp_post(b, "/v1/pay/convert", {
            "clientReqId": "r1", "quoteId": preview["quoteId"],
            **{k: preview[k] for k in ("sellCurrency", "buyCurrency", "sellAmount",
                                       "buyAmount")}})
        assert order["status"] == "SUCCESS", order
        for name in ("OrderID", "orderId"):
            env = await _gp_get(b, "/v1/pay/convert/order", {name: order["data"]["order_id"]})
            if name in accepted:
                assert env["status"] == "SUCCESS" and env["data"]["order_id"] == \
                    order["data"]["order_id"]
            else:
                assert env["code"] == "400001" and value in env["errorMessage"]


# --- 1BitPay ------------------------------------------------------------------------------------

def test_the_test_signer_matches_the_docs_worked_example() -> None:
    params = {"orderNo": "Or12898771811", "name": "John Li", "TimeStamp": "1566781991111",
              "Nonce": "dnasja1N", "MerchantNo": "meraojiasdoa123", "Lang": "en",
              "SignType": "1", "ApiKey": "asdhuasdaosd"}
    md5 = {o: hashlib.md5((onebitpay_canonical(params, o) + "merasdasd").encode()).hexdigest()
           for o in ("ascii", "casefold")}  # noqa: S324 - the doc's algorithm
    assert md5 == {"casefold": "d826a31317bb52a1832cf023bc7b3a07",
                   "ascii": "ffa330626d0036b48cb877735b3ab8a0"}  # the known-answer vectors in docs/providers.md


@pytest.mark.parametrize(("value", "accepted"), [
    (None, {"ascii", "casefold"}), ("ascii", {"ascii"}), ("casefold", {"casefold"})])
async def test_onebitpay_sign_order(value: str | None, accepted: set[str]) -> None:
    body = {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}
    async with box({"onebitpay.sign_order": value} if value else None) as b:
        block = b.block("onebitpay")
        signs = {}
        for order in ("ascii", "casefold"):
            headers = onebitpay_headers(block, body, order=order)
            signs[order] = headers["Sign"]
            _, _, raw = await send(b.s, "POST", b.url("onebitpay", "/api/otc/rate"),
                                   body=json.dumps(body).encode(), headers=headers)
            env = json.loads(raw)
            if order in accepted:
                assert env["code"] == 200 and Decimal(env["data"]["buyRate"]) > 0, env
            else:
                assert env["code"] == 150025, env
        assert signs["ascii"] != signs["casefold"]  # the two orders really differ for otc/rate


# --- FaTPay -------------------------------------------------------------------------------------

async def _fat(b: Box, method: str, query: Mapping[str, str] | None = None
               ) -> tuple[int, Any]:
    path = "/open/api/onramp/" + method
    headers = fatpay_headers(b.block("fatpay"), "api.ramp.fatpay.xyz", path, query or {})
    status, _, raw = await send(b.s, "GET", b.url("fatpay", path), params=query,
                                headers=headers)
    return status, json.loads(raw)


QUOTE = {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "USDT_ERC20"}


@pytest.mark.parametrize("value", [None, "designed", "missing", "renamed"])
async def test_fatpay_lists(value: str | None) -> None:
    async with box({"fatpay.lists": value} if value else None) as b:
        (ts, tokens), (cs, fiats) = await _fat(b, "token"), await _fat(b, "currency")
        price_status, price = await _fat(b, "price", QUOTE)
        assert price_status == 200 and price["code"] == 10000  # the quote never moves
        if value == "missing":
            assert (ts, cs) == (404, 404)
            assert tokens["code"] == fiats["code"] == 10002 and tokens["data"] is None
            return
        assert (ts, cs) == (200, 200) and tokens["code"] == fiats["code"] == 10000
        if value == "renamed":
            assert set(tokens["data"]) == set(fiats["data"]) == {"list"}
            assert {"symbol", "chain", "code", "decimals"} == set(tokens["data"]["list"][0])
            assert {"currency", "decimals", "payments"} == set(fiats["data"]["list"][0])
            assert "USDT_ERC20" in {t["code"] for t in tokens["data"]["list"]}
        else:
            assert "USDT_ERC20" in {t["cryptoCurrencyCode"] for t in tokens["data"]}
            assert "USD" in {f["fiatCurrency"] for f in fiats["data"]}


@pytest.mark.parametrize(("value", "code_type"), [(None, int), ("int", int), ("string", str)])
async def test_fatpay_code_type(value: str | None, code_type: type) -> None:
    async with box({"fatpay.code_type": value} if value else None) as b:
        _, ok = await _fat(b, "price", QUOTE)
        _, bad = await _fat(b, "price", {**QUOTE, "fiatCurrency": "XXX"})
        assert type(ok["code"]) is code_type and int(ok["code"]) == 10000
        assert type(bad["code"]) is code_type and int(bad["code"]) == 10002


@pytest.mark.parametrize("value", [None, "list", "object"])
async def test_fatpay_payment_options(value: str | None) -> None:
    async with box({"fatpay.payment_options": value} if value else None) as b:
        _, answer = await _fat(b, "price", QUOTE)
        options = answer["data"]["paymentOptions"]
        if value == "object":
            assert isinstance(options, dict) and {"name", "minAmount", "maxAmount"} <= set(
                options)
        else:
            assert isinstance(options, list) and options and isinstance(options[0], dict)
