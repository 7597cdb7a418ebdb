"""1BitPay client against canned answers: wire format, signature, error table, budget, secrets."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.onebitpay import OneBitPayClient, OneBitPaySource
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ConfigError,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    Rejected,
    UnsupportedPair,
)
from router.secret import Secret

MERCHANT, KEY, SECRET = "mer-0123456789abcdef", "KEY-abcdef0123456789", "SECRET-9876543210fedc"
PUBLIC = ("Nonce", "TimeStamp", "MerchantNo", "SignType", "Lang", "ApiKey")


@dataclass
class Canned:
    body: bytes | str | dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Fake1BitPay:
    """Answers POST /api/otc/<method> from a per-method script; records raw requests."""

    def __init__(self) -> None:
        self.script: dict[str, Canned] = {}
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        app = web.Application()
        app.router.add_post("/api/otc/{method}", self.handle)
        self.server = TestServer(app, host="127.0.0.1")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.requests.append((method, await request.read(), dict(request.headers)))
        canned = self.script[method]
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


def doc_sign(headers: dict[str, str], body: bytes, secret: str) -> str:
    """The doc's rule, written here on its own: header + body params, no Sign, no empties, keys
    sorted case-insensitively (the worked example), "k=v" joined by "&", secret appended, md5."""
    params: dict[str, str] = {k: headers[k] for k in PUBLIC}
    for k, v in json.loads(body).items():
        params[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    keys = sorted((k for k, v in params.items() if v), key=str.lower)
    text = "&".join(f"{k}={params[k]}" for k in keys) + secret
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture
async def fake() -> AsyncIterator[Fake1BitPay]:
    server = Fake1BitPay()
    await server.server.start_server()
    yield server
    await server.server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def budget() -> RecordingBudget:
    return RecordingBudget()


def make_client(base_url: str, session: aiohttp.ClientSession, budget: Any,
                **kwargs: Any) -> OneBitPayClient:
    return OneBitPayClient(session, merchant_no=Secret(MERCHANT), api_key=Secret(KEY),
                           api_secret=Secret(SECRET), budget=budget, base_url=base_url,
                           **{"timeout": 2.0, **kwargs})


@pytest.fixture
def client(fake: Fake1BitPay, session: aiohttp.ClientSession,
           budget: RecordingBudget) -> OneBitPayClient:
    return make_client(fake.base_url, session, budget, clock=lambda: 1700000000.123,
                       nonce=lambda: "a1B2c3")


def ok(data: Any) -> dict[str, Any]:
    return {"code": 200, "message": "Success", "data": data}


def assert_no_secret(*things: object) -> None:
    for thing in things:
        for text in (str(thing), repr(thing)):
            assert KEY not in text and SECRET not in text and MERCHANT not in text


# -- wire format --------------------------------------------------------------------------------
async def test_rate_request_bytes_headers_and_signature(
        fake: Fake1BitPay, client: OneBitPayClient, budget: RecordingBudget) -> None:
    fake.script["rate"] = Canned(ok({"buyRate": "6.47", "sellRate": "6.9"}))
    rate = await client.rate("USDT", "CNY")
    method, body, headers = fake.requests[0]
    assert method == "rate"
    assert body == b'{"cryptoCurrency":"USDT","legalCurrency":"CNY"}'
    assert headers["Content-Type"] == "application/json"
    assert (headers["Nonce"], headers["TimeStamp"], headers["SignType"], headers["Lang"]) == (
        "a1B2c3", "1700000000123", "1", "en")
    assert headers["MerchantNo"] == MERCHANT and headers["ApiKey"] == KEY
    assert headers["Sign"] == doc_sign(headers, body, SECRET)
    assert (rate.buyRate, rate.sellRate) == (Decimal("6.47"), Decimal("6.9"))
    assert budget.acquired == [(1, False)]


async def test_rate_accepts_json_numbers(fake: Fake1BitPay, client: OneBitPayClient) -> None:
    fake.script["rate"] = Canned(b'{"code":200,"message":"Success","data":'
                                 b'{"buyRate":7.2512,"sellRate":7.0101}}')
    rate = await client.rate("USDT", "CNY")
    assert (rate.buyRate, rate.sellRate) == (Decimal("7.2512"), Decimal("7.0101"))


async def test_create_is_signed_uses_the_reserve_and_sends_money_as_strings(
        fake: Fake1BitPay, client: OneBitPayClient, budget: RecordingBudget) -> None:
    fake.script["create"] = Canned(ok({"url": "https://x/otc.html?t=TOKEN", "isNew": True,
                                       "orderNo": "335793449653514240"}))
    order = await client.create(
        order_type=2, crypto="USDT", fiat="CNY", merchant_order_no="1231222112d8",
        user_name="陈先生", area_code="+86", phone="18848820305", id_card_type=1,
        id_card="412627288918989891", pay_way=1, crypto_amount=Decimal("10.50"),
        bank="建设银行", bank_account="6217229282829299111", async_url="https://example.com")
    _, body, headers = fake.requests[0]
    sent = json.loads(body)
    assert sent["cryptoAmount"] == "10.50" and sent["orderType"] == 2 and sent["kyc"] == 2
    assert sent["h5"] is False and "syncUrl" not in sent and "bankBranch" not in sent
    assert "legalAmount" not in sent
    assert headers["Sign"] == doc_sign(headers, body, SECRET)
    assert order.orderNo == "335793449653514240" and "TOKEN" not in repr(order)
    assert budget.acquired == [(1, True)]


@pytest.mark.parametrize("kwargs", [
    {"order_type": 3},
    {"legal_amount": Decimal("100.5")},  # the doc: legalAmount takes no decimals
    {"bank": None},  # a sell order needs the user's bank
    {"crypto_amount": Decimal(0)},
])
async def test_create_refuses_bad_input_before_spending(
        fake: Fake1BitPay, client: OneBitPayClient, budget: RecordingBudget,
        kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = dict(
        order_type=2, crypto="USDT", fiat="CNY", merchant_order_no="m1", user_name="u",
        area_code="+86", phone="1", id_card_type=1, id_card="x", pay_way=1,
        crypto_amount=Decimal(10), bank="b", bank_account="a")
    if "legal_amount" in kwargs:
        args["crypto_amount"] = None
    args.update(kwargs)
    with pytest.raises(InvalidRequest):
        await client.create(**args)
    assert fake.requests == [] and budget.acquired == []


# -- error table --------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "cls"), [
    (150025, AuthError), (150024, AuthError), (50017, AuthError),
    (150026, UnsupportedPair), (150031, UnsupportedPair),
    (150033, UnsupportedPair), (150034, UnsupportedPair),
    (150032, AmountOutOfRange), (99999, Rejected), (500, Rejected),
])
async def test_envelope_codes(fake: Fake1BitPay, client: OneBitPayClient,
                              budget: RecordingBudget, code: int,
                              cls: type[ProviderError]) -> None:
    fake.script["rate"] = Canned({"code": code, "message": "nope", "data": None})
    with pytest.raises(ProviderError) as info:
        await client.rate("USDT", "CNY")
    err = info.value
    assert type(err) is cls and err.code == code and err.status == 200
    assert budget.penalties == []
    if cls is AmountOutOfRange:
        assert isinstance(err, AmountOutOfRange)
        assert err.below_min and err.limit == Decimal(100) and err.asset == "CNY"
        assert err.reason == "limit_min"


@pytest.mark.parametrize("canned", [
    Canned({"code": 429, "message": "Too many", "data": None}, status=429,
           headers={"Retry-After": "7"}),
    Canned("slow down", status=429),
])
async def test_http_429_penalizes_then_raises(fake: Fake1BitPay, client: OneBitPayClient,
                                              budget: RecordingBudget, canned: Canned) -> None:
    fake.script["rate"] = canned
    with pytest.raises(RateLimited) as info:
        await client.rate("USDT", "CNY")
    expected = 7.0 if "Retry-After" in canned.headers else None
    assert type(info.value) is RateLimited and info.value.reason == "rate_limited"
    assert budget.penalties == [expected] and info.value.retry_after == expected


async def test_429_pauses_a_real_budget(fake: Fake1BitPay, session: aiohttp.ClientSession) -> None:
    registry = BudgetRegistry()
    budget = registry.get("onebitpay", Secret(KEY).fingerprint, BudgetPolicy(limit=60))
    client = make_client(fake.base_url, session, budget)
    fake.script["rate"] = Canned({"code": 429, "message": "", "data": None}, status=429,
                                 headers={"Retry-After": "30"})
    with pytest.raises(RateLimited):
        await client.rate("USDT", "CNY")
    with pytest.raises(RateLimited):  # paused: refused by our own budget, nothing sent
        await client.rate("USDT", "CNY")
    assert len(fake.requests) == 1
    await registry.aclose()


@pytest.mark.parametrize(("canned", "cls"), [
    (Canned("<html>502</html>", status=502), ProviderUnavailable),
    (Canned(ok({"buyRate": "1", "sellRate": "1"}), status=500), ProviderUnavailable),
    (Canned("<html>nope</html>", status=401), AuthError),
    (Canned("<html>nope</html>", status=403), AuthError),
    (Canned("not json"), MalformedResponse),
    (Canned({"message": "no code"}), MalformedResponse),
    (Canned(ok(None)), MalformedResponse),
    (Canned(ok({"buyRate": "6.47"})), MalformedResponse),
    (Canned(ok({"buyRate": "0", "sellRate": "6.9"})), MalformedResponse),
    (Canned(ok({"buyRate": "6.47", "sellRate": "-1"})), MalformedResponse),
    (Canned(ok({"buyRate": "NaN", "sellRate": "6.9"})), MalformedResponse),
    (Canned(ok({"buyRate": "Infinity", "sellRate": "6.9"})), MalformedResponse),
    (Canned(ok({"buyRate": "6.47", "sellRate": "6.9"}), status=302), MalformedResponse),
])
async def test_http_and_decode_failures(fake: Fake1BitPay, client: OneBitPayClient,
                                        canned: Canned, cls: type[ProviderError]) -> None:
    fake.script["rate"] = canned
    with pytest.raises(cls) as info:
        await client.rate("USDT", "CNY")
    assert type(info.value) is cls
    assert_no_secret(info.value, info.value.detail)


async def test_timeout(fake: Fake1BitPay, session: aiohttp.ClientSession) -> None:
    client = make_client(fake.base_url, session, RecordingBudget(), timeout=0.05)
    fake.script["rate"] = Canned(ok({"buyRate": "1", "sellRate": "1"}), delay=0.5)
    with pytest.raises(ProviderTimeout) as info:
        await client.rate("USDT", "CNY")
    assert info.value.reason == "timeout"


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    client = make_client("http://127.0.0.1:9", session, RecordingBudget())
    with pytest.raises(ProviderUnavailable) as info:
        await client.rate("USDT", "CNY")
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_secrets_never_shown(fake: Fake1BitPay, client: OneBitPayClient) -> None:
    fake.script["rate"] = Canned({"code": 150025, "message": f"sign {SECRET} for {KEY} "
                                  f"merchant {MERCHANT}", "data": None})
    with pytest.raises(AuthError) as info:
        await client.rate("USDT", "CNY")
    assert info.value.reason == "auth_failed"
    assert_no_secret(client, info.value, info.value.detail, info.value.args)
    assert_no_secret(OneBitPaySource(MERCHANT, KEY, SECRET, base_url=fake.base_url))


async def test_lifecycle(fake: Fake1BitPay, client: OneBitPayClient,
                         budget: RecordingBudget) -> None:
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    with pytest.raises(RuntimeError):
        await client.rate("USDT", "CNY")
    assert fake.requests == [] and budget.acquired == []


@pytest.mark.parametrize("field", ["merchant_no", "api_key", "api_secret"])
def test_empty_credential_is_a_config_error_naming_the_field(field: str) -> None:
    creds = {"merchant_no": MERCHANT, "api_key": KEY, "api_secret": SECRET, field: ""}
    with pytest.raises(ConfigError) as info:
        OneBitPaySource(creds["merchant_no"], creds["api_key"], Secret(creds["api_secret"]))
    assert info.value.field == f"onebitpay.{field}"
