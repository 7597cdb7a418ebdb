"""Fault injection in the sandbox, observed over raw HTTP: every fault kind, the counters in
``/_sandbox/stats``, runtime switching through ``/_sandbox/faults``, seeded repeatability, the
``none`` profile changing nothing, and the CLI's refusal of unknown profile names.

Stalls, trickles, storms and blocks use short knobs (or a fake clock) so the file runs in seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import time
import types
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.emulators.fatpay import signing_map, string_to_sign
from bench.emulators.fixedfloat import create_app as ff_create_app
from bench.emulators.gatepay import create_app as gp_create_app
from bench.emulators.gatepay import credentials as gp_credentials
from bench.emulators.gatepay import sign as gp_sign
from bench.emulators.onebitpay import canonical_strings, md5_sign, signed_params
from bench.faults import (
    ABSURD_VALUES,
    KINDS,
    FaultProfile,
    FaultProfileError,
    UnknownProfile,
    fault_names,
    load_faults,
)
from bench.profiledata import PROVIDERS
from bench.sandbox import EMULATORS, Sandbox, run_sandbox
from bench.world import World
from router.cli import main as cli_main
from router.errors import InvalidRequest
from tests.support.vclock import FakeClock

SEED = 11
PROVIDER_NAMES = tuple(spec.name for spec in EMULATORS)
FF_PRICE = b'{"fromCcy":"BTC","toCcy":"USDTTRC","amount":"0.05","direction":"from","type":"float"}'
FLY_EST = b'{"currency_from":"btc","currency_to":"usdt","amount":"0.01"}'
OBP_RATE = {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}
FATPAY_PRICE = {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "USDT_ERC20"}
GP_PREVIEW = {"sellCurrency": "BTC", "buyCurrency": "USDT", "sellAmount": "0.01"}
QUICK = {"stall_s": 0.2, "trickle_s": 0.05, "storm_s": 0.2, "block_s": 0.2}
_MISSING = object()


class Answer(NamedTuple):
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)


def inline(params: dict[str, Any] | None = None, **probabilities: float) -> dict[str, Any]:
    return {"probabilities": probabilities, "params": params or {}}


class Client:
    """Raw, correctly signed calls to each emulator of a sandbox (signers from the docs)."""

    def __init__(self, session: aiohttp.ClientSession,
                 providers: dict[str, dict[str, str]]) -> None:
        self.s, self.p = session, providers
        self._nonce = itertools.count(1)

    async def _send(self, verb: str, url: str, timeout: float | None, **kw: Any) -> Answer:
        t = aiohttp.ClientTimeout(total=timeout) if timeout is not None else None
        async with self.s.request(verb, url, timeout=t, **kw) as r:
            return Answer(r.status, r.headers, await r.read())

    async def ff(self, body: bytes = FF_PRICE, method: str = "price", *,
                 timeout: float | None = None) -> Answer:
        b = self.p["fixedfloat"]
        sig = hmac.new(b["api_secret"].encode(), body, hashlib.sha256).hexdigest()
        return await self._send("POST", f"{b['base_url']}/api/v2/{method}", timeout, data=body,
                                headers={"X-API-KEY": b["api_key"], "X-API-SIGN": sig})

    async def flypay(self, body: bytes = FLY_EST, method: str = "exchange/estimated_amount",
                     *, timeout: float | None = None) -> Answer:
        b = self.p["flypay"]
        return await self._send("POST", f"{b['base_url']}/api/v1/{method}", timeout, data=body,
                                headers={"Api-Key": b["api_key"],
                                         "Signature": fly_sign(b["api_secret"], body),
                                         "Content-Type": "application/json"})

    async def gatepay(self, verb: str = "GET", path: str = "/v1/pay/convert/currency",
                      params: dict[str, Any] | None = None, *,
                      timeout: float | None = None) -> Answer:
        b = self.p["gatepay"]
        body = json.dumps(params).encode() if params is not None else b""
        ts, nonce = str(int(time.time() * 1000)), f"n{next(self._nonce)}"
        headers = {"X-GatePay-Certificate-ClientId": b["client_id"], "X-GatePay-Timestamp": ts,
                   "X-GatePay-Nonce": nonce,
                   "X-GatePay-Signature": gp_sign(b["api_secret"], ts, nonce, body)}
        if verb == "POST":
            headers["Content-Type"] = "application/json"
        return await self._send(verb, b["base_url"] + path, timeout, data=body, headers=headers)

    async def onebitpay(self, payload: dict[str, Any] = OBP_RATE, path: str = "/api/otc/rate",
                        *, timeout: float | None = None) -> Answer:
        b = self.p["onebitpay"]
        public = {"Nonce": f"n{next(self._nonce)}", "TimeStamp": str(int(time.time() * 1000)),
                  "MerchantNo": b["merchant_no"], "SignType": "1", "Lang": "en",
                  "ApiKey": b["api_key"]}
        canonical = canonical_strings(signed_params(public, payload))[0]
        headers = {**public, "Sign": md5_sign(canonical, b["api_secret"]),
                   "Content-Type": "application/json"}
        return await self._send("POST", b["base_url"] + path, timeout,
                                data=json.dumps(payload).encode(), headers=headers)

    async def fatpay(self, query: dict[str, str] = FATPAY_PRICE,
                     path: str = "/open/api/onramp/price", *,
                     timeout: float | None = None) -> Answer:
        b = self.p["fatpay"]
        key = serialization.load_pem_private_key(b["private_key_pem"].encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        headers = {"X-Fp-Partner-Id": b["partner_id"], "X-Fp-Nonce": str(next(self._nonce)),
                   "X-Fp-Timestamp": str(int(time.time())), "X-Fp-Version": "v1.0"}
        host = urlsplit(b["base_url"]).netloc
        message = string_to_sign("GET", host, path, signing_map(headers, query))
        headers["X-Fp-Signature"] = base64.b64encode(
            key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
        return await self._send("GET", b["base_url"] + path, timeout, params=query,
                                headers=headers)

    async def call(self, provider: str, **kw: Any) -> Answer:
        return await getattr(self, "ff" if provider == "fixedfloat" else provider)(**kw)

    async def stats(self, provider: str) -> dict[str, Any]:
        async with self.s.get(self.p[provider]["base_url"] + "/_sandbox/stats") as r:
            return await r.json()  # type: ignore[no-any-return]

    async def faults(self, provider: str, body: Any = _MISSING,
                     raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        url = self.p[provider]["base_url"] + "/_sandbox/faults"
        if body is _MISSING and raw is None:
            async with self.s.get(url) as r:
                return r.status, await r.json()
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.s.post(url, data=data) as r:
            return r.status, await r.json()

    async def set_faults(self, profile: Any, *providers: str) -> None:
        for name in providers or PROVIDER_NAMES:
            status, doc = await self.faults(name, {"profile": profile})
            assert status == 200, doc


@contextlib.asynccontextmanager
async def sandbox(faults: Any = None, seed: int = SEED, **kw: Any) -> AsyncIterator[Client]:
    async with Sandbox(seed=seed, frozen=True, no_limits=True, faults=faults, **kw) as sb, \
            aiohttp.ClientSession() as session:
        yield Client(session, sb.providers)


def fly_sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def diff(a: Any, b: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any, Any]]:
    """Every place where ``b`` differs from ``a`` (types count: 5 and "5" differ)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in [*a, *(k for k in b if k not in a)]
                for d in diff(a.get(k, _MISSING), b.get(k, _MISSING), (*path, k))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in diff(x, y, (*path, i))]
    if type(a) is type(b) and a == b:
        return []
    return [(path, a, b)]


# --- profiles ------------------------------------------------------------------------------------
def test_shipped_profiles_cover_every_fault_and_provider() -> None:
    names = fault_names()
    assert names[0] == "none"
    assert {"none", "flaky", "slow", "liar", "storm", "skew", "expired", "chaos"} <= set(names)
    assert set(PROVIDERS) == set(PROVIDER_NAMES)
    profiles = {n: load_faults(n) for n in names}
    assert all(p.description for p in profiles.values())
    assert not profiles["none"].active
    for provider in PROVIDERS:
        chaos = profiles["chaos"].for_provider(provider)
        assert [k for k, _ in chaos.probabilities] == list(KINDS)  # every kind, every provider
        assert sum(p for _, p in chaos.probabilities) <= 1
    flaky = dict(profiles["flaky"].for_provider("gatepay").probabilities)
    assert set(flaky) == {"http_5xx", "reset"}
    assert set(dict(profiles["slow"].for_provider("fatpay").probabilities)) == {"stall", "trickle"}
    assert profiles["slow"].for_provider("fatpay").params.stall_s == 10
    liar_fly = dict(profiles["liar"].for_provider("flypay").probabilities)
    assert {"malformed_json", "missing_field", "wrong_type", "absurd_number", "bad_signature",
            "missing_signature"} == set(liar_fly)
    assert "bad_signature" not in dict(profiles["liar"].for_provider("fixedfloat").probabilities)
    assert set(dict(profiles["storm"].for_provider("onebitpay").probabilities)) == {
        "rate_limit_storm", "blocked_key"}
    skew = profiles["skew"].for_provider("gatepay")
    assert dict(skew.probabilities) == {"clock_skew": 1.0} and skew.params.skew_s > 60
    assert dict(profiles["expired"].for_provider("gatepay").probabilities) == {
        "expired_quote": 1.0}


@pytest.mark.parametrize(("data", "complaint"), [
    (inline(bogus=0.1), "unknown fault kinds bogus"),
    (inline(reset=1.5), "within [0, 1]"),
    (inline(reset=0.6, stall=0.6), "more than 1"),
    ({"providers": {"nowhere": {}}}, "unknown providers nowhere"),
    (inline({"stall_seconds": 1}), "stall_seconds"),
    (inline({"status_codes": [404]}), "5xx"),
    ({"probabilities": {"reset": 0.5}, "extra": 1}, "extra"),
    ({"providers": {"flypay": {"probabilities": {"reset": 0.7}}},
      "probabilities": {"stall": 0.5}}, "more than 1"),
])
def test_malformed_profiles_are_refused_saying_why(data: dict[str, Any], complaint: str) -> None:
    with pytest.raises(FaultProfileError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        FaultProfile.from_data(data)


def test_per_provider_overrides_merge_key_by_key() -> None:
    profile = FaultProfile.from_data({
        "probabilities": {"reset": 0.1, "stall": 0.2}, "params": {"stall_s": 3},
        "providers": {"gatepay": {"probabilities": {"stall": 0, "expired_quote": 0.5},
                                  "params": {"skew_s": -30}}}})
    gp, ff = profile.for_provider("gatepay"), profile.for_provider("fixedfloat")
    assert gp.probabilities == (("reset", 0.1), ("expired_quote", 0.5))
    assert (gp.params.stall_s, gp.params.skew_s) == (3, -30)
    assert ff.probabilities == (("reset", 0.1), ("stall", 0.2)) and ff.params.skew_s == 120


async def test_unknown_profile_names_are_refused_listing_the_allowed_ones(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownProfile) as caught:
        Sandbox(faults="bogus")
    assert "none" in caught.value.allowed and "chaos" in caught.value.allowed
    with pytest.raises(InvalidRequest) as cli_error:
        run_sandbox(types.SimpleNamespace(faults="bogus"))
    assert cli_error.value.field == "--faults"
    assert cli_error.value.problem == "unknown profile 'bogus'"
    assert cli_error.value.allowed.startswith(
        "none, flaky, slow, liar, storm, skew, expired, chaos")
    assert cli_main(["sandbox", "--faults", "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--faults: unknown profile 'bogus'" in err
    assert "allowed: none, flaky" in err
    assert cli_main(["sandbox", "--latency-profile", "glacial"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--latency-profile: unknown profile 'glacial'" in err
    assert "fixed, normal, heavy" in err


# --- none and determinism ------------------------------------------------------------------------
async def _one_of_each(c: Client) -> list[Answer]:
    return [await c.ff(), await c.flypay(), await c.gatepay(), await c.onebitpay(),
            await c.fatpay(), await c.gatepay("POST", "/v1/pay/convert/preview", GP_PREVIEW)]


async def test_none_profile_answers_byte_identically_to_no_fault_injection() -> None:
    async with sandbox(None) as plain:
        before = await _one_of_each(plain)
        plain_stats = await plain.stats("fixedfloat")
    async with sandbox("none") as none:
        after = await _one_of_each(none)
        none_stats = await none.stats("fixedfloat")
    assert [a.status for a in before] == [200] * len(before)
    assert [a.body for a in after] == [a.body for a in before]
    assert [a.status for a in after] == [a.status for a in before]
    assert after[1].headers["Signature"] == before[1].headers["Signature"]
    assert "faults" not in plain_stats  # the contract's keys only, as before
    assert none_stats.pop("faults") == {}
    assert none_stats == plain_stats


async def test_decisions_repeat_with_the_seed_and_restart_after_reset() -> None:
    profile = inline({"status_codes": [500]}, http_5xx=0.5)

    async def statuses(seed: int) -> tuple[list[int], list[int]]:
        async with sandbox(profile, seed=seed) as c:
            first = [(await c.ff()).status for _ in range(16)]
            async with c.s.post(c.p["fixedfloat"]["base_url"] + "/_sandbox/reset") as r:
                assert r.status == 200
            again = [(await c.ff()).status for _ in range(16)]
            assert (await c.stats("fixedfloat"))["faults"] == {"http_5xx": again.count(500)}
            return first, again

    a, a_again = await statuses(SEED)
    b, _ = await statuses(SEED)
    other, _ = await statuses(SEED + 1)
    assert a == b == a_again
    assert {200, 500} == set(a)
    assert other != a


# --- connection-level faults ---------------------------------------------------------------------
async def test_reset_drops_the_connection_without_an_answer() -> None:
    async with sandbox(inline(reset=1.0)) as c:
        for _ in range(4):  # before and after the handler ran: the client sees the same
            with pytest.raises(aiohttp.ClientConnectionError):
                await c.ff()
        assert (await c.stats("fixedfloat"))["faults"] == {"reset": 4}
        await c.set_faults("none", "fixedfloat")
        assert (await c.ff()).json()["code"] == 0  # the emulator lives on


async def test_stall_outlasts_a_short_client_deadline_then_answers() -> None:
    async with sandbox(inline({"stall_s": 0.4}, stall=1.0)) as c:
        with pytest.raises(asyncio.TimeoutError):
            await c.flypay(timeout=0.1)
        start = time.perf_counter()
        late = await c.flypay(timeout=5)
        assert time.perf_counter() - start >= 0.35  # lower bound only
        assert late.status == 200 and late.json()["status"] == "success"
        assert (await c.stats("flypay"))["faults"] == {"stall": 2}


async def test_trickle_delivers_the_whole_body_a_few_bytes_at_a_time() -> None:
    async with sandbox("none") as c:
        whole = await c.onebitpay()
        await c.set_faults(inline({"trickle_s": 0.3, "trickle_chunk": 16}, trickle=1.0),
                           "onebitpay")
        b = c.p["onebitpay"]
        public = {"Nonce": "t1", "TimeStamp": str(int(time.time() * 1000)),
                  "MerchantNo": b["merchant_no"], "SignType": "1", "Lang": "en",
                  "ApiKey": b["api_key"]}
        sign = md5_sign(canonical_strings(signed_params(public, OBP_RATE))[0], b["api_secret"])
        chunks: list[bytes] = []
        start = time.perf_counter()
        async with c.s.post(b["base_url"] + "/api/otc/rate", data=json.dumps(OBP_RATE).encode(),
                            headers={**public, "Sign": sign,
                                     "Content-Type": "application/json"}) as r:
            assert r.status == 200 and r.content_length == len(whole.body)
            async for chunk in r.content.iter_any():
                chunks.append(chunk)
        assert time.perf_counter() - start >= 0.25  # lower bound only
        assert b"".join(chunks) == whole.body
        assert len(chunks) > 2
        assert (await c.stats("onebitpay"))["faults"] == {"trickle": 1}


# --- answers in the provider's shapes ------------------------------------------------------------
async def test_http_5xx_comes_in_each_providers_shape_or_from_a_proxy() -> None:
    async with sandbox(inline({"status_codes": [500]}, http_5xx=1.0)) as c:
        ff, fly, gp, obp, fat = (await c.ff(), await c.flypay(), await c.gatepay(),
                                 await c.onebitpay(), await c.fatpay())
        assert {a.status for a in (ff, fly, gp, obp, fat)} == {500}
        assert ff.json() == {"code": 300, "msg": "Internal error", "data": None}
        assert fly.json()["status"] == "error"
        assert fly.headers["Signature"] == fly_sign(c.p["flypay"]["api_secret"], fly.body)
        assert gp.json()["code"] == "300000" and gp.json()["status"] == "FAIL"
        assert obp.json()["code"] == 500
        assert fat.json()["code"] == 500
        await c.set_faults(inline({"status_codes": [502]}, http_5xx=1.0))
        proxy = await c.gatepay()
        assert proxy.status == 502 and proxy.headers["Content-Type"].startswith("text/html")
        assert b"502 Bad Gateway" in proxy.body
        for name in PROVIDER_NAMES:
            assert (await c.stats(name))["faults"] == {"http_5xx": 2 if name == "gatepay" else 1}


async def test_malformed_json_does_not_parse_and_flypay_still_signs_it() -> None:
    async with sandbox(inline(malformed_json=1.0)) as c:
        for _ in range(6):
            for answer in (await c.ff(), await c.gatepay(), await c.fatpay()):
                with pytest.raises(ValueError):
                    json.loads(answer.body)
        fly = await c.flypay()
        with pytest.raises(ValueError):
            json.loads(fly.body)
        assert fly.headers["Signature"] == fly_sign(c.p["flypay"]["api_secret"], fly.body)
        assert (await c.stats("fixedfloat"))["faults"] == {"malformed_json": 6}


def _check_field_fault(kind: str, before: Any, after: Any) -> None:
    changes = diff(before, after)
    assert len(changes) == 1, changes
    path, old, new = changes[0]
    assert path[0] == "data"  # the payload, never the envelope
    if kind == "missing_field":
        assert old is not _MISSING and new is _MISSING
    elif kind == "wrong_type":
        assert new == "abc" or new == [old]
    else:
        assert isinstance(new, str) and new in ABSURD_VALUES or new in (-5, 0, Decimal("1e300"))
        assert any(w in str(path[-1]).lower() for w in ("amount", "rate", "price", "fee", "min",
                                                         "max", "usd", "btc"))


@pytest.mark.parametrize("kind", ["missing_field", "wrong_type", "absurd_number"])
async def test_field_faults_change_one_payload_field_and_flypay_re_signs(kind: str) -> None:
    async with sandbox("none") as c:
        base = [await c.ff(), await c.flypay(), await c.fatpay(),
                await c.gatepay("POST", "/v1/pay/convert/preview", GP_PREVIEW)]
        await c.set_faults(inline(**{kind: 1.0}))
        for _ in range(3):  # different draws pick different fields
            got = [await c.ff(), await c.flypay(), await c.fatpay(),
                   await c.gatepay("POST", "/v1/pay/convert/preview", GP_PREVIEW)]
            for before, after in zip(base, got, strict=True):
                assert after.status == before.status == 200
                _check_field_fault(kind, before.json(), after.json())
            fly = got[1]
            assert fly.headers["Signature"] == fly_sign(c.p["flypay"]["api_secret"], fly.body)
        for name in ("fixedfloat", "flypay", "fatpay"):
            assert (await c.stats(name))["faults"] == {kind: 3}


@pytest.mark.parametrize("kind", ["bad_signature", "missing_signature"])
async def test_flypay_signature_faults(kind: str) -> None:
    async with sandbox(inline(**{kind: 1.0})) as c:
        fly = await c.flypay()
        assert fly.status == 200 and fly.json()["status"] == "success"  # the body is untouched
        if kind == "missing_signature":
            assert "Signature" not in fly.headers
        else:
            given = fly.headers["Signature"]
            assert len(given) == 64 and given != fly_sign(c.p["flypay"]["api_secret"], fly.body)
        assert (await c.stats("flypay"))["faults"] == {kind: 1}
        assert (await c.ff()).json()["code"] == 0  # nothing to spoil elsewhere
        assert (await c.stats("fixedfloat"))["faults"] == {}


# --- rate limiting ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield session, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_rate_limit_storm_answers_429_with_retry_after_whatever_the_budget() -> None:
    world, clock = World(SEED, frozen=True), FakeClock()
    creds = gp_credentials(world)
    app = gp_create_app(world, credentials=creds, clock=clock,
                        faults=inline({"storm_s": 5}, rate_limit_storm=1.0))
    async with serve(app) as (s, base):
        async def call() -> tuple[int, str, dict[str, Any]]:
            async with s.get(base + "/v1/pay/convert/currency",
                             headers={"X-GatePay-Certificate-ClientId": creds["client_id"]}) as r:
                return r.status, r.headers.get("Retry-After", ""), await r.json()

        status, retry, env = await call()
        assert (status, retry, env["label"]) == (429, "5", "TOO_MANY_REQUESTS")
        clock.now += 3
        assert (await call())[:2] == (429, "2")  # the same storm, not a new one
        clock.now += 3
        assert (await call())[:2] == (429, "5")  # a new storm
        async with s.get(base + "/_sandbox/stats") as r:
            stats = await r.json()
        assert stats["faults"] == {"rate_limit_storm": 3}
        assert stats["rate_limited"] == 0 and stats["units"] == 0  # the budget never saw them


async def test_blocked_keys_escalate_fixedfloat_style() -> None:
    world, clock = World(SEED, frozen=True), FakeClock()
    app = gp_create_app(world, credentials=gp_credentials(world), clock=clock,
                        faults=inline({"block_s": 10}, blocked_key=1.0))
    async with serve(app) as (s, base):
        async def call(key: str) -> tuple[int, str]:
            async with s.get(base + "/v1/pay/convert/currency",
                             headers={"X-GatePay-Certificate-ClientId": key}) as r:
                return r.status, r.headers.get("Retry-After", "")

        assert await call("key-a") == (429, "10")
        clock.now += 4
        assert await call("key-a") == (429, "6")  # still blocked
        clock.now += 7
        assert await call("key-a") == (429, "20")  # a second offence: twice as long
        assert await call("key-b") == (429, "10")  # per key
    ff_app = ff_create_app(world, credentials={"ff-key": "ff-secret"}, clock=clock,
                           faults=inline(blocked_key=1.0))
    async with serve(ff_app) as (s, base), s.post(base + "/api/v2/ccies", data=b"{}",
                                                  headers={"X-API-KEY": "ff-key"}) as r:
        assert r.status == 200 and "Retry-After" not in r.headers  # FixedFloat says no more
        assert (await r.json())["code"] == 429


# --- provider-specific faults --------------------------------------------------------------------
async def test_clock_skew_makes_correctly_signed_timestamps_stale() -> None:
    async with sandbox("none") as c:
        assert (await c.gatepay()).json()["code"] == "000000"
        assert (await c.fatpay()).json()["code"] == 10000
        await c.set_faults("skew")
        gp, fat, ff = await c.gatepay(), await c.fatpay(), await c.ff()
        assert gp.status == 200 and gp.json()["code"] == "400003"
        assert fat.status == 200 and fat.json()["code"] == 10003
        assert ff.json()["code"] == 0  # no timestamp window: unaffected
        assert (await c.stats("gatepay"))["faults"] == {"clock_skew": 1}
        assert (await c.stats("fatpay"))["faults"] == {"clock_skew": 1}
        assert (await c.stats("fixedfloat"))["faults"] == {}


async def test_expired_profile_makes_gatepay_convert_find_its_quote_expired() -> None:
    async with sandbox("none") as c:
        def convert(q: dict[str, Any], req: str) -> dict[str, Any]:
            return {"clientReqId": req, "quoteId": q["quoteId"], "sellCurrency": q["sellCurrency"],
                    "buyCurrency": q["buyCurrency"], "sellAmount": q["sellAmount"],
                    "buyAmount": q["buyAmount"]}

        quote = (await c.gatepay("POST", "/v1/pay/convert/preview", GP_PREVIEW)).json()["data"]
        await c.set_faults("expired")
        preview = await c.gatepay("POST", "/v1/pay/convert/preview", GP_PREVIEW)
        assert preview.json()["code"] == "000000"  # previews still work
        failed = await c.gatepay("POST", "/v1/pay/convert", convert(quote, "r1"))
        assert failed.json()["code"] == "400622"
        assert (await c.stats("gatepay"))["faults"] == {"expired_quote": 1}
        await c.set_faults("none")
        fresh = (await c.gatepay("POST", "/v1/pay/convert/preview", GP_PREVIEW)).json()["data"]
        done = await c.gatepay("POST", "/v1/pay/convert", convert(fresh, "r2"))
        assert done.json()["code"] == "000000"


# --- control API ---------------------------------------------------------------------------------
async def test_faults_control_endpoint_shows_and_switches_the_profile() -> None:
    async with sandbox(None) as c:
        status, doc = await c.faults("flypay")
        assert status == 200 and doc["profile"] is None and doc["provider"] == "flypay"
        assert "chaos" in doc["available"]
        assert "faults" not in await c.stats("flypay")
        status, doc = await c.faults("flypay", {"profile": "liar"})
        assert status == 200 and doc["profile"] == "liar"
        assert doc["probabilities"]["bad_signature"] == 0.04
        assert (await c.faults("flypay"))[1]["profile"] == "liar"
        assert (await c.stats("flypay"))["faults"] == {}
        status, doc = await c.faults("flypay", {"probabilities": {"http_5xx": 1.0},
                                                "params": {"status_codes": [503]}})
        assert status == 200 and doc["profile"] == "inline"
        assert (await c.flypay()).status == 503
        for bad, words in (({"profile": "nope"}, "allowed: none, flaky"),
                           ({"profile": {"probabilities": {"bogus": 1}}}, "bogus"),
                           ([1, 2], "JSON object")):
            status, doc = await c.faults("flypay", bad)
            assert status == 400 and words in doc["error"]
        status, doc = await c.faults("flypay", raw=b"{not json")
        assert status == 400
        assert (await c.faults("flypay"))[1]["profile"] == "inline"  # a refusal changes nothing
        status, doc = await c.faults("flypay", {"profile": None})
        assert status == 200 and doc["profile"] is None and doc["counts"] == {"http_5xx": 1}
        assert (await c.flypay()).status == 200
        assert (await c.stats("flypay"))["faults"] == {"http_5xx": 1}


async def test_sandbox_faults_option_reaches_every_emulator() -> None:
    async with sandbox("liar") as c:
        for name in PROVIDER_NAMES:
            status, doc = await c.faults(name)
            assert status == 200 and doc["profile"] == "liar"
            assert ("bad_signature" in doc["probabilities"]) == (name == "flypay")


async def test_chaos_never_crashes_an_emulator(caplog: pytest.LogCaptureFixture) -> None:
    chaos = load_faults("chaos").data
    quick = {**chaos, "params": {**chaos["params"], **QUICK}}
    caplog.set_level(logging.ERROR)
    async with sandbox(quick) as c:
        for name in PROVIDER_NAMES:
            server_errors = 0
            for _ in range(30):
                try:
                    answer = await c.call(name, timeout=2)
                except (TimeoutError, aiohttp.ClientError):
                    continue
                assert b"Traceback" not in answer.body
                server_errors += answer.status >= 500
            faults = (await c.stats(name))["faults"]
            assert faults and server_errors == faults.get("http_5xx", 0), (name, faults)
            await c.set_faults("none", name)
            assert (await c.call(name)).status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
