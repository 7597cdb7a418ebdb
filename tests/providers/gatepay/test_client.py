"""GatePay client against canned answers: wire format, signatures, error table, budget, secrets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.gatepay import (
    DuplicateOrder,
    GatePayClient,
    GatePaySource,
    OrderNotFound,
    RateMoved,
    sign,
)
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import (
    AuthError,
    ConfigError,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    Rejected,
    TransientError,
)
from router.secret import Secret

CLIENT_ID, SECRET = "CID-abcdef0123456789", "SECRET-9876543210fedcba"
PREFIX = "/v1/pay/convert"


@dataclass
class Canned:
    """One scripted answer."""

    body: bytes | str | dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]


Script = Canned | list[Canned] | Callable[[Seen], Canned]


class FakeGatePay:
    """Answers each path under /v1/pay/convert from a script; records raw requests."""

    def __init__(self) -> None:
        self.script: dict[str, Script] = {}
        self.requests: list[Seen] = []
        app = web.Application()
        app.router.add_route("*", PREFIX + "{tail:.*}", self.handle)
        self.server = TestServer(app, host="127.0.0.1")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.method, request.path, dict(request.query), await request.read(),
                    dict(request.headers))
        self.requests.append(seen)
        script = self.script[request.path]
        if isinstance(script, list):
            canned = script.pop(0)
        elif isinstance(script, Canned):
            canned = script
        else:
            canned = script(seen)
        if canned.delay:
            await asyncio.sleep(canned.delay)
        body = canned.body
        if isinstance(body, dict):
            body = json.dumps(body)
        return web.Response(status=canned.status, body=body.encode() if isinstance(body, str)
                            else body, headers=canned.headers, content_type="application/json")

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


@pytest.fixture
async def gp() -> AsyncIterator[FakeGatePay]:
    fake = FakeGatePay()
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


def make_client(gp: FakeGatePay, session: aiohttp.ClientSession, budget: Any,
                **kwargs: Any) -> GatePayClient:
    return GatePayClient(session, client_id=Secret(CLIENT_ID), api_secret=Secret(SECRET),
                         budget=budget, base_url=gp.base_url, **kwargs)


@pytest.fixture
def client(gp: FakeGatePay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> GatePayClient:
    return make_client(gp, session, budget, timeout=2.0, clock=lambda: 1740019013.818,
                       nonce=lambda: "9722139164")


def ok(data: Any) -> dict[str, Any]:
    return {"status": "SUCCESS", "code": "000000", "errorMessage": "", "data": data}


def fail(code: str, label: str = "ERR", message: str = "failed") -> dict[str, Any]:
    return {"status": "FAIL", "code": code, "label": label, "errorMessage": message, "data": None}


PREVIEW = {"sellCurrency": "GT", "buyCurrency": "USDT", "buyAmount": "1",
           "sellAmount": "0.04466796", "price": "22.38741462", "quoteId": "PAY-16991c65"}
ORDER = {"order_id": "327196066546229248", "userId": 10002, "sellCurrency": "GT",
         "buyCurrency": "USDT", "sellAmount": "0.04464002", "buyAmount": "1", "status": 1,
         "rate": 22.40142365527614, "quoteId": "PAY-2a5743d8", "createTime": 1739971221273}


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        for shown in (str(text), repr(text)):
            assert CLIENT_ID not in shown and SECRET not in shown


def assert_signed(seen: Seen) -> None:
    ts, nonce = seen.headers["X-GatePay-Timestamp"], seen.headers["X-GatePay-Nonce"]
    assert seen.headers["X-GatePay-Certificate-ClientId"] == CLIENT_ID
    assert seen.headers["X-GatePay-Signature"] == sign(SECRET.encode(), ts, nonce, seen.body)
    assert seen.headers["Content-Type"] == "application/json"


# -- wire format --------------------------------------------------------------------------------
async def test_preview_request_bytes_and_signature(gp: FakeGatePay, client: GatePayClient,
                                                   budget: RecordingBudget) -> None:
    gp.script[PREFIX + "/preview"] = Canned(ok(PREVIEW))
    preview = await client.preview("GT", "USDT", buy_amount=Decimal("1"))
    seen = gp.requests[0]
    assert (seen.method, seen.path) == ("POST", PREFIX + "/preview")
    assert seen.body == b'{"sellCurrency":"GT","buyCurrency":"USDT","buyAmount":"1"}'
    assert seen.headers["X-GatePay-Timestamp"] == "1740019013818"
    assert seen.headers["X-GatePay-Nonce"] == "9722139164"
    assert_signed(seen)
    assert budget.acquired == [(1, False)]
    assert preview.sellAmount == Decimal("0.04466796") and preview.quoteId == "PAY-16991c65"


async def test_amounts_are_plain_strings(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX + "/preview"] = Canned(ok(PREVIEW))
    await client.preview("BTC", "USDT", sell_amount=Decimal("1E+2"))
    assert json.loads(gp.requests[0].body)["sellAmount"] == "100"


@pytest.mark.parametrize(("sell", "buy"), [(None, None), (Decimal(1), Decimal(1))])
async def test_preview_needs_exactly_one_amount(gp: FakeGatePay, client: GatePayClient,
                                                budget: RecordingBudget, sell: Decimal | None,
                                                buy: Decimal | None) -> None:
    with pytest.raises(InvalidRequest):
        await client.preview("GT", "USDT", sell_amount=sell, buy_amount=buy)
    assert gp.requests == [] and budget.acquired == []


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
async def test_preview_refuses_impossible_amounts(client: GatePayClient, amount: Decimal) -> None:
    with pytest.raises(InvalidRequest):
        await client.preview("GT", "USDT", sell_amount=amount)


async def test_get_lists_sign_an_empty_body(gp: FakeGatePay, session: aiohttp.ClientSession,
                                            budget: RecordingBudget) -> None:
    gp.script[PREFIX + "/currency"] = Canned(ok({"currency": ["BTC", "USDT"]}))
    gp.script[PREFIX + "/pair"] = Canned(ok([{"pair": "BTC_USDT", "sellCurrency": "BTC",
                                              "buyCurrency": "USDT", "sellCurrencyMin": "0.0002",
                                              "sellCurrencyMax": "31", "buyCurrencyMin": "12",
                                              "buyCurrencyMax": "1980000"}]))
    client = make_client(gp, session, budget)  # real clock, random nonces
    assert await client.currencies("sell") == ["BTC", "USDT"]
    pairs = await client.pairs("BTC")
    assert pairs[0].sellCurrencyMax == Decimal("31")
    first, second = gp.requests
    assert first.method == "GET" and first.query == {"side": "sell"} and first.body == b""
    assert second.query == {"currency": "BTC"}
    for seen in gp.requests:
        assert_signed(seen)
    assert first.headers["X-GatePay-Nonce"] != second.headers["X-GatePay-Nonce"]
    assert budget.acquired == [(1, False), (1, False)]


async def test_order_query(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX + "/order"] = Canned(ok({**ORDER, "status": 3}))
    order = await client.order("327196066546229248")
    assert gp.requests[0].query == {"orderId": "327196066546229248"}
    assert order.state == "success" and order.rate == Decimal("22.40142365527614")


# -- convert: reserve, exact echo, idempotent retries ---------------------------------------------
CONVERT_ARGS: dict[str, Any] = {"sell_currency": "GT", "buy_currency": "USDT",
                                "sell_amount": Decimal("0.04464002"), "buy_amount": Decimal("1")}


async def test_convert_body_and_reserve(gp: FakeGatePay, client: GatePayClient,
                                        budget: RecordingBudget) -> None:
    gp.script[PREFIX] = Canned(ok(ORDER))
    order = await client.convert("PAY-2a5743d8", "181147", **CONVERT_ARGS)
    assert json.loads(gp.requests[0].body) == {
        "clientReqId": "181147", "quoteId": "PAY-2a5743d8", "sellCurrency": "GT",
        "buyCurrency": "USDT", "sellAmount": "0.04464002", "buyAmount": "1"}
    assert budget.acquired == [(1, True)]
    assert order.id == "327196066546229248" and order.state == "created"


async def test_convert_retries_with_the_same_client_req_id(
        gp: FakeGatePay, session: aiohttp.ClientSession, budget: RecordingBudget) -> None:
    client = make_client(gp, session, budget, timeout=0.2)
    gp.script[PREFIX] = [Canned(ok(ORDER), delay=1.0), Canned(ok(ORDER))]
    order = await client.convert("PAY-2a5743d8", "req-1", **CONVERT_ARGS)
    assert order.id == "327196066546229248"
    first, second = gp.requests
    assert first.body == second.body and json.loads(second.body)["clientReqId"] == "req-1"
    assert first.headers["X-GatePay-Nonce"] != second.headers["X-GatePay-Nonce"]  # fresh nonce
    assert_signed(second)
    assert budget.acquired == [(1, True), (1, True)]


async def test_duplicate_on_retry_says_the_first_try_landed(
        gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX] = [Canned(fail("300000"), status=500), Canned(fail("400201"))]
    with pytest.raises(DuplicateOrder) as info:
        await client.convert("q", "req-2", **CONVERT_ARGS)
    assert "earlier try" in str(info.value) and info.value.code == "400201"
    assert len(gp.requests) == 2


async def test_rate_moved_is_transient_and_not_retried(gp: FakeGatePay,
                                                       client: GatePayClient) -> None:
    gp.script[PREFIX] = Canned(fail("400622", "CONVERT_FAILED", "rate changed"))
    with pytest.raises(RateMoved) as info:
        await client.convert("q", "req-3", **CONVERT_ARGS)
    assert isinstance(info.value, TransientError) and len(gp.requests) == 1


async def test_convert_gives_up_after_its_attempts(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX] = Canned(fail("300001"), status=500)
    with pytest.raises(ProviderUnavailable):
        await client.convert("q", "req-4", **CONVERT_ARGS, attempts=3)
    assert len(gp.requests) == 3


# -- error table --------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "status", "cls"), [
    ("400001", 200, Rejected),
    ("400002", 200, AuthError),
    ("400003", 200, AuthError),
    ("400007", 200, Rejected),
    ("400020", 200, Rejected),
    ("400201", 200, DuplicateOrder),
    ("400202", 200, OrderNotFound),
    ("400622", 200, RateMoved),
    ("300000", 500, ProviderUnavailable),
    ("300001", 500, ProviderUnavailable),
    ("400000", 500, ProviderUnavailable),
    ("300000", 200, ProviderUnavailable),  # the code alone decides, whatever the HTTP status
    ("999999", 200, Rejected),  # unknown code: a refusal we do not understand
])
async def test_error_codes(gp: FakeGatePay, client: GatePayClient, budget: RecordingBudget,
                           code: str, status: int, cls: type[ProviderError]) -> None:
    gp.script[PREFIX + "/order"] = Canned(fail(code), status=status)
    with pytest.raises(ProviderError) as info:
        await client.order("1")
    assert type(info.value) is cls and info.value.code == code
    assert info.value.status == status and budget.penalties == []


async def test_timestamp_error_says_check_the_clock(gp: FakeGatePay,
                                                    client: GatePayClient) -> None:
    gp.script[PREFIX + "/currency"] = Canned(fail("400003", "TIMESTAMP_EXPIRED", "expired"))
    with pytest.raises(AuthError) as info:
        await client.currencies()
    assert "clock" in str(info.value) and info.value.reason == "auth_failed"


@pytest.mark.parametrize("canned", [
    Canned(fail("429", "TOO_MANY", "slow down"), status=429, headers={"Retry-After": "7"}),
    Canned("slow down", status=429),
])
async def test_429_penalizes_then_raises(gp: FakeGatePay, client: GatePayClient,
                                         budget: RecordingBudget, canned: Canned) -> None:
    gp.script[PREFIX + "/currency"] = canned
    with pytest.raises(RateLimited) as info:
        await client.currencies()
    assert type(info.value) is RateLimited and info.value.reason == "rate_limited"
    expected = 7.0 if canned.headers else None
    assert budget.penalties == [expected] and info.value.retry_after == expected


async def test_429_pauses_a_real_budget(gp: FakeGatePay, session: aiohttp.ClientSession) -> None:
    registry = BudgetRegistry()
    budget = registry.get("gatepay", Secret(CLIENT_ID).fingerprint, BudgetPolicy(limit=120))
    client = make_client(gp, session, budget)
    gp.script[PREFIX + "/currency"] = Canned(fail("429"), status=429, headers={"Retry-After": "3"})
    with pytest.raises(RateLimited):
        await client.currencies()
    with pytest.raises(RateLimited):  # paused: refused by our own budget, nothing sent
        await client.currencies()
    assert len(gp.requests) == 1
    await registry.aclose()


@pytest.mark.parametrize(("canned", "cls"), [
    (Canned("<html>502</html>", status=502), ProviderUnavailable),
    (Canned(ok(PREVIEW), status=500), ProviderUnavailable),
    (Canned("<html>nope</html>", status=401), AuthError),
    (Canned("<html>nope</html>", status=403), AuthError),
    (Canned("not json"), MalformedResponse),
    (Canned({"status": "SUCCESS"}), MalformedResponse),  # no code
    (Canned({"status": "FAIL", "code": "000000"}), MalformedResponse),
    (Canned(ok(PREVIEW), status=404), MalformedResponse),
    (Canned(ok(None)), MalformedResponse),
    (Canned(ok({**PREVIEW, "sellAmount": "lots"})), MalformedResponse),
    (Canned(ok({k: v for k, v in PREVIEW.items() if k != "quoteId"})), MalformedResponse),
])
async def test_http_and_decode_failures(gp: FakeGatePay, client: GatePayClient, canned: Canned,
                                        cls: type[ProviderError]) -> None:
    gp.script[PREFIX + "/preview"] = canned
    with pytest.raises(cls) as info:
        await client.preview("GT", "USDT", buy_amount=Decimal(1))
    assert type(info.value) is cls
    assert_no_secret(info.value, info.value.detail)


async def test_timeout(gp: FakeGatePay, session: aiohttp.ClientSession) -> None:
    client = make_client(gp, session, RecordingBudget(), timeout=0.05)
    gp.script[PREFIX + "/currency"] = Canned(ok({"currency": []}), delay=0.5)
    with pytest.raises(ProviderTimeout) as info:
        await client.currencies()
    assert info.value.reason == "timeout"


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    client = GatePayClient(session, client_id=Secret(CLIENT_ID), api_secret=Secret(SECRET),
                           budget=RecordingBudget(), base_url="http://127.0.0.1:9")  # type: ignore[arg-type]
    with pytest.raises(ProviderUnavailable) as info:
        await client.currencies()
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_secrets_never_shown(gp: FakeGatePay, client: GatePayClient) -> None:
    gp.script[PREFIX + "/preview"] = Canned(fail("400001", f"id {CLIENT_ID}",
                                                 f"bad sig for {SECRET}"))
    with pytest.raises(Rejected) as info:
        await client.preview("GT", "USDT", buy_amount=Decimal(1))
    assert "bad sig for ***" in str(info.value)
    assert_no_secret(client, info.value, info.value.detail, info.value.args)
    assert_no_secret(GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url))


@pytest.mark.parametrize(("cid", "secret", "field"), [("", SECRET, "client_id"),
                                                      (CLIENT_ID, "", "api_secret")])
def test_empty_credentials_are_config_errors(cid: str, secret: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        GatePaySource(cid, secret)
    assert field in info.value.field


def test_accepts_secret_or_str() -> None:
    GatePaySource(Secret(CLIENT_ID), Secret(SECRET))
    with pytest.raises(TypeError):
        GatePayClient(None, client_id=CLIENT_ID, api_secret=Secret(SECRET),  # type: ignore[arg-type]
                      budget=RecordingBudget())  # type: ignore[arg-type]


async def test_lifecycle(gp: FakeGatePay, client: GatePayClient, budget: RecordingBudget) -> None:
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    with pytest.raises(RuntimeError):
        await client.currencies()
    assert gp.requests == [] and budget.acquired == []
