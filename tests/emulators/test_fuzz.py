"""Fuzzing the emulators: random methods, paths, headers and bodies against each one, in process.

Every answer must be a documented one: a provider envelope or status, never an aiohttp default
"500 Internal Server Error" page and never a traceback. Requests are often correctly signed (with
the sandbox's own credentials, through the adapters' signers), so generated bodies reach the
handlers behind the signature checks. The emulators' own documented 500 answers (an envelope such
as GatePay's ``300000``) are allowed on the wire; each emulator exception behind one is collected
and reported (``EMULATOR_BUGS``) so that a bug is visible even though the answer is documented.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.fatpay.auth import PrivateKey
from adapters.fatpay.auth import Signer as FatPaySigner
from adapters.fixedfloat.auth import signed_headers as ff_headers
from adapters.flypay.auth import signed_headers as flypay_headers
from adapters.gatepay.auth import Signer as GatePaySigner
from adapters.onebitpay.auth import Signer as OneBitPaySigner
from bench.sandbox import Sandbox
from router.secret import Secret

PATHS: dict[str, list[tuple[str, str]]] = {
    "fixedfloat": [("POST", f"/api/v2/{m}") for m in ("ccies", "price", "create", "order",
                                                       "emergency", "setEmail", "qr")]
    + [("GET", "/rates/fixed.xml"), ("GET", "/rates/float.xml"), ("GET", "/rates.xml")],
    "gatepay": [("GET", "/v1/pay/convert/currency"), ("GET", "/v1/pay/convert/pair"),
                ("POST", "/v1/pay/convert/preview"), ("POST", "/v1/pay/convert"),
                ("GET", "/v1/pay/convert/order")],
    "flypay": [("POST", f"/api/v1/{m}") for m in ("payways", "exchange/estimated_amount",
                                                   "balances", "transaction/exchange",
                                                   "exchange/pairs", "transactions")],
    "onebitpay": [("POST", "/api/otc/rate"), ("POST", "/api/otc/create")],
    "fatpay": [("GET", "/open/api/onramp/price"), ("GET", "/open/api/onramp/token"),
               ("GET", "/open/api/onramp/currency")],
}
FIELDS = ["type", "fromCcy", "toCcy", "direction", "amount", "toAddress", "id", "token", "currency",
          "side", "fromCurrency", "toCurrency", "fromAmount", "toAmount", "quoteId", "clientReqId",
          "orderId", "currency_from", "currency_to", "payway_from", "payway_to", "external_id",
          "cryptoCurrency", "legalCurrency", "cryptoAmount", "legalAmount", "userId", "payType",
          "fiatCurrency", "cryptoCode", "fiatAmount", "network", "page", "per_page", "email"]
VALUES = st.one_of(
    st.sampled_from(["BTC", "USDT", "ETH", "USDTTRC", "CNY", "USD", "float", "fixed", "from", "to",
                     "buy", "sell", "0.5", "1", "-1", "0", "NaN", "1e308", "1e-30", "", "abc",
                     "TRC20", "TRX", "x" * 300]),
    st.integers(min_value=-(10**20), max_value=10**20), st.floats(allow_nan=False),
    st.none(), st.booleans(), st.text(max_size=10), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

#: Emulator exceptions behind a documented 500, collected across the run (see the docstring).
EMULATOR_BUGS: list[str] = []


class _Bugs(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and "emulator failed" in record.getMessage():
            EMULATOR_BUGS.append(f"{record.getMessage()}: {record.exc_info[1]!r}")


def _signer(name: str, creds: Mapping[str, str]) -> Callable[[str, str, dict[str, str], bytes],
                                                             dict[str, str]]:
    """Correct auth headers for one request of provider ``name``."""
    s = {k: Secret(v) for k, v in creds.items() if k != "base_url"}
    if name == "fixedfloat":
        return lambda m, p, q, body: ff_headers(s["api_key"], s["api_secret"], body)
    if name == "flypay":
        return lambda m, p, q, body: flypay_headers(s["api_key"], s["api_secret"], body)
    if name == "gatepay":
        gp = GatePaySigner(s["client_id"], s["api_secret"])
        return lambda m, p, q, body: gp.headers(body)
    if name == "onebitpay":
        ob = OneBitPaySigner(s["merchant_no"], s["api_key"], s["api_secret"])

        def one(m: str, p: str, q: dict[str, str], body: bytes) -> dict[str, str]:
            try:
                params = json.loads(body) if body else {}
                return ob.headers(params if isinstance(params, dict) else {})
            except (ValueError, TypeError):
                return ob.headers({})
        return one
    fp = FatPaySigner(s["partner_id"], PrivateKey.load(s["private_key_pem"]))
    host = urlsplit(creds["base_url"]).netloc
    return lambda m, p, q, body: fp.headers(m, host, p, q)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    handler = _Bugs(level=logging.ERROR)
    logger = logging.getLogger("bench")
    logger.addHandler(handler)
    try:
        async with Sandbox(seed=9, frozen=True, no_limits=True) as sb:
            yield sb
    finally:
        logger.removeHandler(handler)


def _documented_500(name: str, body: bytes) -> bool:
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    return {
        "fixedfloat": lambda d: d.get("code") == 300,
        "gatepay": lambda d: str(d.get("code")) in ("300000", "300001"),
        "flypay": lambda d: d.get("status") == "error",
        "onebitpay": lambda d: d.get("code") == 500,
        "fatpay": lambda d: d.get("code") == 500,
    }[name](doc)


@st.composite
def requests(draw: st.DrawFn, name: str) -> tuple[str, str, dict[str, str], bytes, bool]:
    choice = draw(st.integers(0, 9))
    if choice < 7:
        method, path = draw(st.sampled_from(PATHS[name]))
        if draw(st.integers(0, 9)) == 0:
            method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    else:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]))
        path = "/" + draw(st.one_of(
            st.sampled_from(["", "api", "api/v2/", "api/v1/x/../payways", "_sandbox/stats",
                             "_sandbox/faults", "_sandbox/nope", "v1/pay/convert/", "rates/x.xml",
                             "%00", "a" * 2000]),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/._-%~", max_size=40)))
    query = draw(st.dictionaries(st.sampled_from(FIELDS), st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", max_size=12),
        max_size=3))
    kind = draw(st.sampled_from(["fields", "fields", "fields", "json", "bytes", "empty"]))
    if kind == "fields":
        fields = draw(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
        body = json.dumps(fields).encode()
    elif kind == "json":
        body = json.dumps(draw(st.recursive(VALUES, lambda i: st.lists(i, max_size=3),
                                            max_leaves=6))).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=300))
    else:
        body = b""
    signed = draw(st.integers(0, 9)) < 7
    return method, path, query, body, signed


HEADER_NOISE = st.dictionaries(
    st.sampled_from(["Content-Type", "X-API-KEY", "X-API-SIGN", "Api-Key", "Signature",
                     "Authorization", "X-GatePay-Timestamp", "X-GatePay-Nonce", "ApiKey", "Sign",
                     "TimeStamp", "Nonce", "MerchantNo", "SignType", "Lang", "X-Fp-Partner-Id",
                     "X-Fp-Timestamp", "X-Fp-Nonce", "X-Fp-Signature", "X-Fp-Version",
                     "If-None-Match", "Accept"]),
    st.sampled_from(["", "x", "application/json", "text/plain", "1", "0" * 13, "zh", "-1",
                     "Bearer x", "deadbeef" * 8, "9" * 40]), max_size=3)


@pytest.mark.parametrize("name", list(PATHS))
@settings(database=None, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_emulator_answers_every_request_in_a_documented_way(
        name: str, data: st.DataObject, sandbox: Sandbox) -> None:
    creds = sandbox.providers[name]
    method, path, query, body, signed = data.draw(requests(name))
    headers: dict[str, str] = {}
    if signed:
        headers.update(_signer(name, creds)(method, path, query, body))
    headers.update(data.draw(HEADER_NOISE))
    event(f"{'signed' if signed else 'unsigned'} {method}")
    async with aiohttp.ClientSession() as session, session.request(
            method, creds["base_url"] + path, params=query, data=body, headers=headers,
            allow_redirects=False) as resp:
        answer = await resp.read()
        status = resp.status
    event(f"HTTP {status}")
    assert b"Traceback" not in answer and b"File \"" not in answer
    if status >= 500:
        assert _documented_500(name, answer), (method, path, status, answer[:200])
        event("documented 500")
    if path.startswith("/_sandbox/"):
        return
    if status < 300 or 400 <= status < 500:
        if answer and resp.content_type == "application/json":
            json.loads(answer)  # an answer that says it is JSON is JSON


def test_report_emulator_bugs_seen() -> None:
    """Runs after the fuzzing above (same module): the emulator exceptions it provoked, if any,
    behind their documented 500 answers. Printed with ``-s``; reported, not failed on."""
    for line in sorted(set(EMULATOR_BUGS)):
        print("emulator bug:", line)
    assert all(isinstance(line, str) for line in EMULATOR_BUGS)
