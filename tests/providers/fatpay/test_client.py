"""FaTPay client against canned answers: request signing, envelope, error table, budget, secrets."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.fatpay import FaTPayClient, FaTPaySource, PrivateKey, Signer
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    Rejected,
)
from router.secret import Secret

PARTNER = "partner-2yQrS9A0xmM8xpfa"


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def key_pem() -> str:
    return rsa_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()).decode()


def expected_text(request: web.Request) -> str:
    """The doc's string to sign, rebuilt here independently from what the server received."""
    params = {k.lower(): v for k, v in request.headers.items()
              if k.lower().startswith("x-fp-") and k.lower() != "x-fp-signature"}
    params.update(request.query)
    pairs = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v)
    return f"{request.method}{request.host}{request.path}?{pairs}"


def verifies(request: web.Request) -> bool:
    try:
        rsa_key().public_key().verify(base64.b64decode(request.headers["X-Fp-Signature"]),
                                      expected_text(request).encode(), padding.PKCS1v15(),
                                      hashes.SHA256())
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


@dataclass
class Canned:
    """One scripted answer."""

    body: bytes | str | dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    call: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_path: str
    verified: bool


Script = Canned | Callable[[web.Request], Canned]


class FakeFaTPay:
    """Answers GET /open/api/onramp/<call> from a per-call script; records every request."""

    def __init__(self) -> None:
        self.script: dict[str, Script] = {}
        self.requests: list[Seen] = []
        app = web.Application()
        app.router.add_get("/open/api/onramp/{call}", self.handle)
        self.server = TestServer(app)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        call = request.match_info["call"]
        self.requests.append(Seen(call, dict(request.query), dict(request.headers),
                                  request.raw_path, verifies(request)))
        script = self.script[call]
        canned = script(request) if callable(script) else script
        if canned.delay:
            await asyncio.sleep(canned.delay)
        body = canned.body
        if isinstance(body, dict):
            body = json.dumps(body)
        return web.Response(status=canned.status, body=body.encode() if isinstance(body, str)
                            else body, headers=canned.headers, content_type="application/json")

    def calls(self, name: str) -> list[Seen]:
        return [r for r in self.requests if r.call == name]

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")


class RecordingBudget:
    """Stands in for router.budgets.Budget: records acquire/penalize calls."""

    def __init__(self) -> None:
        self.acquired: list[tuple[int, bool]] = []
        self.penalties: list[float | None] = []

    async def acquire(self, cost: int = 1, *, reserved: bool = False,
                      timeout: float | None = None) -> None:
        self.acquired.append((cost, reserved))

    async def penalize(self, retry_after: float | None = None) -> float:
        self.penalties.append(retry_after)
        return 5.0


def ok(data: Any, code: int | str = 10000) -> dict[str, Any]:
    return {"code": code, "msg": "success", "data": data}


PRICE: dict[str, Any] = {
    "fiatCurrency": "USD", "currencyAmount": 199, "cryptoCurrency": "USDT", "network": "ERC20",
    "cryptoCurrencyCode": "USDT_ERC20", "cryptoCurrencyAmount": 181.27,
    "cryptoCurrencyUnitPrice": 1.0003, "gasFee": 5.92, "platformFee": 11.79, "totalFee": 17.71,
    "paymentOptions": [{"name": "card", "processingTime": "1-3 min", "icon": "",
                        "minAmount": 20, "maxAmount": 5000}],
}
TOKENS: list[dict[str, Any]] = [
    {"cryptoCurrencyCode": "USDT_ERC20", "cryptoCurrency": "USDT", "network": "ERC20",
     "precision": 6},
    {"cryptoCurrencyCode": "BTC", "cryptoCurrency": "BTC", "network": "BTC", "precision": 8},
    {"cryptoCurrencyCode": "BNB_BSC", "cryptoCurrency": "BNB", "network": "BSC", "precision": 8},
]
CURRENCIES: list[dict[str, Any]] = [
    {"fiatCurrency": "USD", "precision": 2, "paymentOptions": [
        {"name": "card", "minAmount": 20, "maxAmount": 5000},
        {"name": "bank", "minAmount": 50, "maxAmount": 20000}]},
    {"fiatCurrency": "EUR", "precision": 2,
     "paymentOptions": {"name": "card", "minAmount": 25, "maxAmount": 4000}},
]


def assert_no_secret(*things: object) -> None:
    body = key_pem().splitlines()[1]
    for thing in things:
        for text in (str(thing), repr(thing)):
            assert PARTNER not in text and body not in text


@pytest.fixture
async def fp() -> AsyncIterator[FakeFaTPay]:
    fake = FakeFaTPay()
    await fake.server.start_server()
    yield fake
    await fake.server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def budget() -> RecordingBudget:
    return RecordingBudget()


def make_client(fp: FakeFaTPay, session: aiohttp.ClientSession, budget: Any, *,
                timeout: float = 2.0, base_url: str | None = None) -> FaTPayClient:
    signer = Signer(Secret(PARTNER), PrivateKey.load(key_pem()), clock=lambda: 1661346861,
                    nonce=lambda: "868964")
    return FaTPayClient(session, signer=signer, budget=budget,
                        base_url=base_url or fp.base_url, timeout=timeout, secrets=(PARTNER,))


@pytest.fixture
def client(fp: FakeFaTPay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> FaTPayClient:
    return make_client(fp, session, budget)


# -- wire format --------------------------------------------------------------------------------
async def test_price_request_is_signed_as_the_doc_says(
        fp: FakeFaTPay, client: FaTPayClient, budget: RecordingBudget) -> None:
    fp.script["price"] = Canned(ok(PRICE))
    data = await client.price("USD", Decimal("199"), "USDT_ERC20")
    seen = fp.requests[0]
    assert seen.query == {"fiatCurrency": "USD", "currencyAmount": "199",
                          "cryptoCurrencyCode": "USDT_ERC20"}
    assert seen.headers["X-Fp-Partner-Id"] == PARTNER and seen.headers["X-Fp-Nonce"] == "868964"
    assert seen.headers["X-Fp-Timestamp"] == "1661346861"
    assert seen.headers["X-Fp-Version"] == "v1.0"
    assert seen.verified, "the signature must verify over METHOD host path ? sorted k=v"
    assert budget.acquired == [(1, False)]
    assert data.cryptoCurrencyAmount == Decimal("181.27") and data.gasFee == Decimal("5.92")


async def test_amount_plain_payment_passed_and_values_encoded_on_the_wire(
        fp: FakeFaTPay, client: FaTPayClient) -> None:
    fp.script["price"] = Canned(ok(PRICE))
    await client.price("USD", Decimal("1E+2"), "USDT_ERC20", payment="card & bank")
    seen = fp.requests[0]
    assert seen.query["currencyAmount"] == "100" and seen.query["payment"] == "card & bank"
    assert "payment=card%20%26%20bank" in seen.raw_path  # encoded on the wire, raw in the signature
    assert seen.verified


@pytest.mark.parametrize(("call", "data"), [("token", TOKENS), ("currency", CURRENCIES)])
async def test_lists_are_signed_gets(fp: FakeFaTPay, client: FaTPayClient,
                                     budget: RecordingBudget, call: str, data: Any) -> None:
    fp.script[call] = Canned(ok(data, code="10000"))  # the string form of the code
    got = await (client.tokens() if call == "token" else client.currencies())
    assert len(got) == len(data)
    assert fp.requests[0].query == {} and fp.requests[0].verified
    assert budget.acquired == [(1, False)]


async def test_base_url_with_a_path_prefix_signs_the_full_path(
        fp: FakeFaTPay, session: aiohttp.ClientSession, budget: RecordingBudget) -> None:
    prefix = web.Application()
    prefix.router.add_get("/gw/open/api/onramp/{call}", fp.handle)
    server = TestServer(prefix)
    await server.start_server()
    try:
        fp.script["token"] = Canned(ok(TOKENS))
        client = make_client(fp, session, budget, base_url=str(server.make_url("/gw")))
        await client.tokens()
        assert fp.requests[0].verified
    finally:
        await server.close()


# -- error table --------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "cls"), [
    (10002, Rejected), ("10002", Rejected), (10003, AuthError), ("10003", AuthError),
    (10099, Rejected), ("E-weird", Rejected)])
async def test_envelope_codes(fp: FakeFaTPay, client: FaTPayClient, budget: RecordingBudget,
                              code: int | str, cls: type[ProviderError]) -> None:
    fp.script["price"] = Canned({"code": code, "msg": "incorrect params", "data": None})
    with pytest.raises(ProviderError) as info:
        await client.price("USD", Decimal(199), "USDT_ERC20")
    assert type(info.value) is cls
    assert str(info.value.code) == str(code)
    assert budget.penalties == []


async def test_signature_error_with_http_401(fp: FakeFaTPay, client: FaTPayClient) -> None:
    fp.script["token"] = Canned({"code": 10003, "msg": "signature error", "data": None},
                                status=401)
    with pytest.raises(AuthError) as info:
        await client.tokens()
    assert info.value.reason == "auth_failed" and info.value.status == 401


@pytest.mark.parametrize(("data", "below", "limit"), [
    ({"minAmount": 20, "maxAmount": 5000}, True, Decimal(20)),
    ({"paymentOptions": [{"name": "card", "minAmount": 20, "maxAmount": 5000},
                         {"name": "bank", "minAmount": 50, "maxAmount": 20000}]}, True,
     Decimal(20)),
])
async def test_params_error_with_limits_in_data_is_out_of_range(
        fp: FakeFaTPay, client: FaTPayClient, data: dict[str, Any], below: bool,
        limit: Decimal) -> None:
    fp.script["price"] = Canned({"code": 10002, "msg": "amount too small", "data": data})
    with pytest.raises(AmountOutOfRange) as info:
        await client.price("USD", Decimal(10), "USDT_ERC20")
    assert info.value.below_min is below and info.value.limit == limit
    assert info.value.asset == "USD" and info.value.code == 10002


async def test_params_error_with_limits_the_amount_is_inside_stays_rejected(
        fp: FakeFaTPay, client: FaTPayClient) -> None:
    fp.script["price"] = Canned({"code": 10002, "msg": "x",
                                 "data": {"minAmount": 20, "maxAmount": 5000}})
    with pytest.raises(Rejected):
        await client.price("USD", Decimal(100), "USDT_ERC20")


@pytest.mark.parametrize("canned", [
    Canned({"code": 10004, "msg": "too many", "data": None}, status=429,
           headers={"Retry-After": "7"}),
    Canned("slow down", status=429),
])
async def test_429_penalizes_then_raises(fp: FakeFaTPay, client: FaTPayClient,
                                         budget: RecordingBudget, canned: Canned) -> None:
    fp.script["price"] = canned
    with pytest.raises(RateLimited) as info:
        await client.price("USD", Decimal(199), "USDT_ERC20")
    expected = 7.0 if "Retry-After" in canned.headers else None
    assert type(info.value) is RateLimited and info.value.reason == "rate_limited"
    assert budget.penalties == [expected] and info.value.retry_after == expected


async def test_429_pauses_a_real_budget(fp: FakeFaTPay, session: aiohttp.ClientSession) -> None:
    registry = BudgetRegistry()
    budget = registry.get("fatpay", Secret(PARTNER).fingerprint, BudgetPolicy(limit=60))
    client = make_client(fp, session, budget)
    fp.script["token"] = Canned({"code": 10002, "msg": "", "data": None}, status=429,
                                headers={"Retry-After": "30"})
    with pytest.raises(RateLimited):
        await client.tokens()
    with pytest.raises(RateLimited):  # paused by our own budget: no request sent
        await client.tokens()
    assert len(fp.requests) == 1
    await registry.aclose()


@pytest.mark.parametrize(("canned", "cls"), [
    (Canned("<html>502</html>", status=502), ProviderUnavailable),
    (Canned(ok(PRICE), status=500), ProviderUnavailable),
    (Canned("<html>nope</html>", status=401), AuthError),
    (Canned("<html>nope</html>", status=403), AuthError),
    (Canned("not json"), MalformedResponse),
    (Canned(ok(PRICE), status=302), MalformedResponse),
    (Canned({"msg": "no code"}), MalformedResponse),
    (Canned(ok(None)), MalformedResponse),
    (Canned(ok([PRICE])), MalformedResponse),
    (Canned(ok({**PRICE, "gasFee": "lots"})), MalformedResponse),
    (Canned(ok({k: v for k, v in PRICE.items() if k != "cryptoCurrencyAmount"})),
     MalformedResponse),
])
async def test_http_and_decode_failures(fp: FakeFaTPay, client: FaTPayClient, canned: Canned,
                                        cls: type[ProviderError]) -> None:
    fp.script["price"] = canned
    with pytest.raises(cls) as info:
        await client.price("USD", Decimal(199), "USDT_ERC20")
    assert type(info.value) is cls
    assert_no_secret(info.value, info.value.detail)


async def test_timeout(fp: FakeFaTPay, session: aiohttp.ClientSession) -> None:
    client = make_client(fp, session, RecordingBudget(), timeout=0.05)
    fp.script["token"] = Canned(ok([]), delay=0.5)
    with pytest.raises(ProviderTimeout) as info:
        await client.tokens()
    assert info.value.reason == "timeout" and isinstance(info.value.__cause__, TimeoutError)


async def test_connection_refused(fp: FakeFaTPay, session: aiohttp.ClientSession) -> None:
    client = make_client(fp, session, RecordingBudget(), base_url="http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable) as info:
        await client.tokens()
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_secrets_never_shown(fp: FakeFaTPay, client: FaTPayClient) -> None:
    fp.script["price"] = Canned({"code": 10003, "msg": f"bad signature for {PARTNER}",
                                 "data": None})
    with pytest.raises(AuthError) as info:
        await client.price("USD", Decimal(199), "USDT_ERC20")
    assert_no_secret(client, info.value, info.value.detail, info.value.args)
    source = FaTPaySource(PARTNER, key_pem(), base_url=fp.base_url)
    assert_no_secret(source)


async def test_lifecycle(fp: FakeFaTPay, client: FaTPayClient, budget: RecordingBudget) -> None:
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    with pytest.raises(RuntimeError):
        await client.tokens()
    assert fp.requests == [] and budget.acquired == []
