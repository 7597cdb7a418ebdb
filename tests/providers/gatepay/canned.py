"""GatePay canned: the fake convert API server, its envelopes, valid answers, and the
:data:`HARNESS` the shared client suite (``tests/providers/test_clients.py``) drives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

from adapters.gatepay import (
    DuplicateOrder,
    GatePayClient,
    GatePaySource,
    OrderNotFound,
    RateMoved,
)
from adapters.gatepay.constants import DEFAULT_COST
from router.errors import AuthError, MalformedResponse, ProviderUnavailable, Rejected
from router.secret import Secret
from tests.providers.harness import Call, Canned, Harness, Row, ScriptedServer, canned

__all__ = ["CLIENT_ID", "HARNESS", "ORDER", "PREFIX", "PREVIEW", "SECRET", "Canned",
           "FakeGatePay", "Seen", "fail", "make_client", "ok"]

CLIENT_ID, SECRET = "CID-abcdef0123456789", "SECRET-9876543210fedcba"
PREFIX = "/v1/pay/convert"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]


Script = Canned | list[Canned] | Callable[[Seen], Canned]


class FakeGatePay(ScriptedServer):
    """Answers each path under /v1/pay/convert from a script (one answer, a list used up in
    order, or a function of the request); records raw requests."""

    def __init__(self) -> None:
        self.script: dict[str, Script] = {}
        self.requests: list[Seen] = []
        app = web.Application()
        app.router.add_route("*", PREFIX + "{tail:.*}", self.handle)
        super().__init__(app, host="127.0.0.1")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.method, request.path, dict(request.query), await request.read(),
                    dict(request.headers))
        self.requests.append(seen)
        script = self.script[request.path]
        if isinstance(script, list):
            answer = script.pop(0)
        elif isinstance(script, Canned):
            answer = script
        else:
            answer = script(seen)
        return await self.answer(answer)


def make_client(gp: FakeGatePay, session: aiohttp.ClientSession, budget: Any,
                **kwargs: Any) -> GatePayClient:
    return GatePayClient(session, client_id=Secret(CLIENT_ID), api_secret=Secret(SECRET),
                         budget=budget, base_url=gp.base_url, **kwargs)


def ok(data: Any) -> dict[str, Any]:
    return {"status": "SUCCESS", "code": "000000", "errorMessage": "", "data": data}


def fail(code: str, label: str = "ERR", message: str = "failed") -> dict[str, Any]:
    return {"status": "FAIL", "code": code, "label": label, "errorMessage": message, "data": None}


PREVIEW = {"sellCurrency": "GT", "buyCurrency": "USDT", "buyAmount": "1",
           "sellAmount": "0.04466796", "price": "22.38741462", "quoteId": "PAY-16991c65"}
ORDER = {"order_id": "327196066546229248", "userId": 10002, "sellCurrency": "GT",
         "buyCurrency": "USDT", "sellAmount": "0.04464002", "buyAmount": "1", "status": 1,
         "rate": 22.40142365527614, "quoteId": "PAY-2a5743d8", "createTime": 1739971221273}


def _client(base_url: str, session: aiohttp.ClientSession, budget: Any,
            timeout: float) -> GatePayClient:
    return GatePayClient(session, client_id=Secret(CLIENT_ID), api_secret=Secret(SECRET),
                         budget=budget, base_url=base_url, timeout=timeout)


def _code(code: str, cls: type[Any], status: int = 200, why: str = "") -> Row:
    return Row(f"code {code} at HTTP {status}{why}", Canned(fail(code), status=status), cls, code)


HARNESS = Harness(
    name="gatepay", fake=FakeGatePay, client=_client, canned=canned, ok=ok,
    calls=(
        Call("preview", PREFIX + "/preview",
             lambda c: c.preview("GT", "USDT", buy_amount=Decimal(1)), PREVIEW,
             (DEFAULT_COST, False),
             {"amount not a number": {**PREVIEW, "sellAmount": "lots"},
              "no quoteId": {k: v for k, v in PREVIEW.items() if k != "quoteId"}}),
        Call("currencies", PREFIX + "/currency", lambda c: c.currencies(), {"currency": []},
             (DEFAULT_COST, False)),
        Call("order", PREFIX + "/order", lambda c: c.order("1"), ORDER, (DEFAULT_COST, False)),
    ),
    no_code={"status": "SUCCESS"},
    odd_status=404,
    too_many_body=fail("429", "TOO_MANY", "slow down"),
    error_codes=(
        _code("400001", Rejected),
        _code("400002", AuthError),
        _code("400003", AuthError),
        _code("400007", Rejected),
        _code("400020", Rejected),
        _code("400201", DuplicateOrder),
        _code("400202", OrderNotFound),
        _code("400622", RateMoved),
        _code("300000", ProviderUnavailable, 500),
        _code("300001", ProviderUnavailable, 500),
        _code("400000", ProviderUnavailable, 500),
        _code("300000", ProviderUnavailable, 200, ": the code alone decides"),
        _code("999999", Rejected, 200, ": unknown, a refusal not understood"),
    ),
    failures=(Row("FAIL with the success code", Canned({"status": "FAIL", "code": "000000"}),
                  MalformedResponse),),
    leak=Row("secrets in label and message",
             Canned(fail("400001", f"id {CLIENT_ID}", f"bad sig for {SECRET}")), Rejected,
             "400001"),
    leak_shows="id *** bad sig for ***",
    secrets=(CLIENT_ID, SECRET), credentials={"client_id": CLIENT_ID, "api_secret": SECRET},
    source=GatePaySource, identity=CLIENT_ID, budget_limit=120,
)
