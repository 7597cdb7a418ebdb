"""FlyPay client against canned, signed answers: wire format, verification, error table, budget."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.flypay import FlyPayClient, FlyPaySource, sign
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import (
    AuthError,
    ConfigError,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    Rejected,
    SignatureInvalid,
)
from router.secret import Secret

KEY, SECRET = "PUB-abcdef0123456789", "SEC-9876543210fedcba"
Signing = Literal["good", "none", "bad", "upper"]


@dataclass
class Canned:
    """One scripted answer, signed with :data:`SECRET` unless ``signing`` says otherwise."""

    body: bytes | str | dict[str, Any] | list[Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    signing: Signing = "good"
    delay: float = 0.0

    def raw(self) -> bytes:
        body = self.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        return body.encode() if isinstance(body, str) else body


Script = Canned | Callable[[dict[str, Any]], Canned]


class FakeFlyPay:
    """Answers POST /api/v1/<method> from a per-method script; records raw requests."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret.encode()
        self.script: dict[str, Script] = {}
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        app = web.Application()
        app.router.add_post("/api/v1/{method:.+}", self.handle)
        self.server = TestServer(app)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await request.read()
        self.requests.append((method, body, dict(request.headers)))
        script = self.script[method]
        canned = script(json.loads(body)) if callable(script) else script
        if canned.delay:
            await asyncio.sleep(canned.delay)
        raw = canned.raw()
        headers = dict(canned.headers)
        good = sign(self.secret, raw)
        if canned.signing == "good":
            headers["Signature"] = good
        elif canned.signing == "upper":
            headers["Signature"] = good.upper()
        elif canned.signing == "bad":
            headers["Signature"] = sign(b"someone else", raw)
        return web.Response(status=canned.status, body=raw, headers=headers,
                            content_type="application/json")

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")

    def methods(self) -> list[str]:
        return [m for m, _, _ in self.requests]


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


def ok(data: Any) -> dict[str, Any]:
    return {"status": "success", "data": data}


def error(message: str = "Something is wrong") -> dict[str, Any]:
    return {"status": "error", "message": message}


ESTIMATE = {"currency_from": "btc", "currency_to": "usdt", "amount_from": 0.05,
            "amount_to": "2984.5"}


@pytest.fixture
async def fly() -> AsyncIterator[FakeFlyPay]:
    fake = FakeFlyPay()
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


@pytest.fixture
def client(fly: FakeFlyPay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> FlyPayClient:
    return FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                        budget=budget, base_url=fly.base_url, timeout=2.0)  # type: ignore[arg-type]


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in (KEY, SECRET):
            assert secret not in str(text) and secret not in repr(text)


# -- wire format --------------------------------------------------------------------------------
async def test_estimate_request_bytes_headers_and_decimals(
        fly: FakeFlyPay, client: FlyPayClient, budget: RecordingBudget) -> None:
    fly.script["exchange/estimated_amount"] = Canned(ok(ESTIMATE))
    est = await client.estimated_amount("btc", "usdt", Decimal("0.050"))
    method, body, headers = fly.requests[0]
    assert method == "exchange/estimated_amount"
    assert body == b'{"currency_from":"btc","currency_to":"usdt","amount":0.050}'
    assert headers["Api-Key"] == KEY and headers["Signature"] == sign(SECRET.encode(), body)
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert budget.acquired == [(1, False)]
    assert est.amount_from == Decimal("0.05") and est.amount_to == Decimal("2984.5")


async def test_amount_never_in_exponent_form(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["exchange/estimated_amount"] = Canned(ok(ESTIMATE))
    await client.estimated_amount("usdt", "btc", Decimal("1E+2"))
    assert fly.requests[0][1].endswith(b'"amount":100}')


async def test_calls_without_params_sign_an_empty_object(
        fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["payways"] = Canned(ok({"exchange": []}))
    fly.script["balances"] = Canned(ok({"btc": {"symbol": "btc", "amount": "0.5"}}))
    payways = await client.payways()
    balances = await client.balances()
    assert [r[1] for r in fly.requests] == [b"{}", b"{}"]
    assert all(r[2]["Signature"] == sign(SECRET.encode(), b"{}") for r in fly.requests)
    assert payways.exchange == [] and balances["btc"].amount == Decimal("0.5")


async def test_exchange_uses_the_reserve(fly: FakeFlyPay, client: FlyPayClient,
                                         budget: RecordingBudget) -> None:
    fly.script["transaction/exchange"] = Canned(ok({
        "id": 9, "external_id": "e-1", "currency_from": "btc", "currency_to": "usdt",
        "amount_from": 0.05, "amount_to": 2984.5, "type": "exchange", "status": "success",
        "amount_fee": 15, "currency_fee": "usdt"}))
    tx = await client.exchange("e-1", "btc", "usdt", Decimal("0.05"), client_id="c1",
                               client_ip="10.0.0.1", client_email="a@b.c")
    assert json.loads(fly.requests[0][1]) == {
        "external_id": "e-1", "currency_from": "btc", "currency_to": "usdt", "amount": 0.05,
        "client_id": "c1", "client_ip": "10.0.0.1", "client_email": "a@b.c"}
    assert budget.acquired == [(1, True)]
    assert tx.id == 9 and tx.amount_to == Decimal("2984.5")


async def test_base_url_may_carry_the_api_prefix(fly: FakeFlyPay, session: aiohttp.ClientSession,
                                                 budget: RecordingBudget) -> None:
    fly.script["payways"] = Canned(ok({}))
    client = FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                          budget=budget, base_url=fly.base_url + "/api/v1/")  # type: ignore[arg-type]
    await client.payways()
    assert fly.methods() == ["payways"]


# -- response signatures ------------------------------------------------------------------------
@pytest.mark.parametrize("canned", [
    Canned(ok(ESTIMATE), signing="none"),
    Canned(ok(ESTIMATE), signing="bad"),
    Canned(error(), status=400, signing="bad"),
    Canned(error(), status=400, signing="none"),
    Canned("not json", signing="none"),
    Canned(ok(ESTIMATE), status=500, signing="bad"),
    Canned(ok(ESTIMATE), headers={"Signature": "0" * 64}, signing="none"),
])
async def test_unverified_answers_raise_signature_invalid(
        fly: FakeFlyPay, client: FlyPayClient, canned: Canned) -> None:
    fly.script["exchange/estimated_amount"] = canned
    with pytest.raises(SignatureInvalid) as info:
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert info.value.reason == "signature_invalid" and info.value.status == canned.status
    assert "Something" not in str(info.value)  # nothing of the body was read


async def test_repeated_signature_header_is_refused(fly: FakeFlyPay,
                                                    client: FlyPayClient) -> None:
    def twice(_: dict[str, Any]) -> Canned:
        raw = json.dumps(ok(ESTIMATE)).encode()
        return Canned(raw, signing="good", headers={"signature": sign(SECRET.encode(), raw)})

    fly.script["exchange/estimated_amount"] = twice
    with pytest.raises(SignatureInvalid):
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))


async def test_uppercase_hex_signature_is_accepted(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["exchange/estimated_amount"] = Canned(ok(ESTIMATE), signing="upper")
    est = await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert est.amount_to == Decimal("2984.5")


# -- error table --------------------------------------------------------------------------------
@pytest.mark.parametrize(("canned", "cls"), [
    (Canned(error(), status=200), Rejected),
    (Canned(error(), status=400), Rejected),
    (Canned(error(), status=404), Rejected),
    (Canned(error(), status=422), Rejected),
    (Canned(error(), status=418), Rejected),  # not in the table: permanent, not understood
    (Canned(error(), status=401), AuthError),
    (Canned(error(), status=403), AuthError),
    (Canned(error(), status=401, signing="bad"), AuthError),  # wrong secret: status decides
    (Canned("Unauthorized", status=401, signing="none"), AuthError),
    (Canned(error(), status=500), ProviderUnavailable),
    (Canned("<html>502 Bad Gateway</html>", status=502, signing="none"), ProviderUnavailable),
    (Canned("not json"), MalformedResponse),
    (Canned({"data": ESTIMATE}), MalformedResponse),  # no status
    (Canned({"status": "pending", "data": ESTIMATE}), MalformedResponse),
    (Canned(ok(ESTIMATE), status=400), MalformedResponse),  # success at HTTP 400
    (Canned(ok(None)), MalformedResponse),
    (Canned(ok({**ESTIMATE, "amount_to": "lots"})), MalformedResponse),
    (Canned(ok({"currency_from": "btc"})), MalformedResponse),
])
async def test_error_table(fly: FakeFlyPay, client: FlyPayClient, budget: RecordingBudget,
                           canned: Canned, cls: type[ProviderError]) -> None:
    fly.script["exchange/estimated_amount"] = canned
    with pytest.raises(ProviderError) as info:
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert type(info.value) is cls
    assert info.value.status in (canned.status, None)  # data decoding errors carry no status
    assert budget.penalties == []
    assert_no_secret(info.value, info.value.detail)


async def test_verified_error_message_is_kept(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["exchange/estimated_amount"] = Canned(error("Pair is disabled"), status=400)
    with pytest.raises(Rejected) as info:
        await client.estimated_amount("btc", "usdt", Decimal("0.05"))
    assert "Pair is disabled" in info.value.detail


@pytest.mark.parametrize("canned", [
    Canned(error("Too many requests"), status=429, headers={"Retry-After": "7"}),
    Canned("slow down", status=429, headers={"Retry-After": "7"}, signing="none"),
    Canned(error(), status=429, headers={"Retry-After": "7"}, signing="bad"),
])
async def test_429_penalizes_then_raises(fly: FakeFlyPay, client: FlyPayClient,
                                         budget: RecordingBudget, canned: Canned) -> None:
    fly.script["payways"] = canned
    with pytest.raises(RateLimited) as info:
        await client.payways()
    assert type(info.value) is RateLimited and info.value.reason == "rate_limited"
    assert budget.penalties == [7.0] and info.value.retry_after == 7.0


async def test_429_pauses_a_real_budget(fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:
    registry = BudgetRegistry()
    budget = registry.get("flypay", Secret(KEY).fingerprint, BudgetPolicy(limit=60))
    client = FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                          budget=budget, base_url=fly.base_url)
    fly.script["payways"] = Canned(error(), status=429)
    with pytest.raises(RateLimited):
        await client.payways()
    with pytest.raises(RateLimited):  # paused: refused by our own budget, no request sent
        await client.payways()
    assert len(fly.requests) == 1
    await registry.aclose()


async def test_timeout(fly: FakeFlyPay, session: aiohttp.ClientSession) -> None:
    client = FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                          budget=RecordingBudget(), base_url=fly.base_url,  # type: ignore[arg-type]
                          timeout=0.05)
    fly.script["payways"] = Canned(ok({}), delay=0.5)
    with pytest.raises(ProviderTimeout) as info:
        await client.payways()
    assert info.value.reason == "timeout"


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    client = FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                          budget=RecordingBudget(), base_url="http://127.0.0.1:9")  # type: ignore[arg-type]
    with pytest.raises(ProviderUnavailable) as info:
        await client.payways()
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_secrets_never_shown(fly: FakeFlyPay, client: FlyPayClient) -> None:
    fly.script["payways"] = Canned(error(f"bad key {KEY} for {SECRET}"), status=400)
    with pytest.raises(Rejected) as info:
        await client.payways()
    assert_no_secret(client, info.value, info.value.detail, info.value.args)
    assert_no_secret(FlyPaySource(KEY, SECRET, base_url=fly.base_url))


@pytest.mark.parametrize(("key", "secret", "field"), [("", "s", "api_key"), ("k", "", "api_secret"),
                                                      (Secret(""), "s", "api_key")])
def test_empty_credentials_are_config_errors(key: str | Secret, secret: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        FlyPaySource(key, secret)
    assert info.value.field == f"flypay.{field}"


async def test_lifecycle(fly: FakeFlyPay, client: FlyPayClient, budget: RecordingBudget) -> None:
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    with pytest.raises(RuntimeError):
        await client.payways()
    assert fly.requests == [] and budget.acquired == []
