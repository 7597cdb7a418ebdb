"""FixedFloat canned: the fake v2 API server, its envelope, a valid price answer, and the
:data:`HARNESS` the shared client suite (``tests/providers/test_clients.py``) drives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

from adapters.fixedfloat import FixedFloatClient, FixedFloatSource
from adapters.fixedfloat.constants import method_cost
from router.errors import AuthError, ProviderUnavailable, Rejected
from router.secret import Secret
from tests.providers.harness import (
    Call,
    Canned,
    Harness,
    Row,
    ScriptedServer,
    TooMany,
    canned,
)

__all__ = ["HARNESS", "KEY", "PRICE_DATA", "SECRET", "Canned", "FakeFF", "ok"]

KEY, SECRET = "KEY-abcdef0123456789", "SECRET-9876543210fedcba"


class FakeFF(ScriptedServer):
    """Answers each POST /api/v2/<method> from a per-method script; records raw requests."""

    def __init__(self) -> None:
        self.script: dict[str, Canned] = {}
        self.feeds: dict[str, bytes] = {}  # "fixed"/"float" -> XML; absent -> 404
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        app = web.Application()
        app.router.add_post("/api/v2/{method}", self.handle)
        app.router.add_get("/rates/{type}.xml", self.rates)
        super().__init__(app)

    async def rates(self, request: web.Request) -> web.StreamResponse:
        body = self.feeds.get(request.match_info["type"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/xml")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.requests.append((method, await request.read(), dict(request.headers)))
        return await self.answer(self.script[method])


def ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "msg": "OK", "data": data}


PRICE_DATA: dict[str, Any] = {
    "from": {"code": "BTC", "network": "BTC", "coin": "BTC", "amount": "0.5", "rate": "30000.1",
             "precision": 8, "min": "0.0005", "max": "3.5", "usd": "30000", "btc": "0.5"},
    "to": {"code": "USDTTRC", "network": "TRX", "coin": "USDT", "amount": 15000.05,
           "rate": "0.0000333", "precision": 6, "min": "15", "max": "100000", "usd": "15000"},
    "errors": [],
}


def _client(base_url: str, session: aiohttp.ClientSession, budget: Any,
            timeout: float) -> FixedFloatClient:
    return FixedFloatClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                            budget=budget, base_url=base_url, timeout=timeout)


def _code(code: int, cls: type[Any]) -> Row:
    return Row(f"code {code}", Canned({"code": code, "msg": "Invalid address", "data": None}),
               cls, code)


HARNESS = Harness(
    name="fixedfloat", fake=FakeFF, client=_client, canned=canned, ok=ok,
    calls=(
        Call("price", "price",
             lambda c: c.price("float", "BTC", "USDTTRC", "from", Decimal(1)), PRICE_DATA,
             (method_cost("price"), False),
             {"no data.from": {"to": PRICE_DATA["to"]},
              "amount not a number": {**PRICE_DATA,
                                      "from": {**PRICE_DATA["from"], "amount": "lots"}}}),
        Call("ccies", "ccies", lambda c: c.ccies(), [], (method_cost("ccies"), False)),
    ),
    no_code={"msg": "no code"},
    odd_status=302,
    too_many_body={"code": 429, "msg": "Too many requests", "data": None},
    error_codes=(_code(301, Rejected), _code(300, ProviderUnavailable), _code(401, AuthError),
                 _code(12345, Rejected)),
    # FixedFloat's own "too many": envelope code 429 at HTTP 200, no Retry-After
    too_many=(TooMany("code 429 at HTTP 200",
                      Canned({"code": 429, "msg": "Too many requests", "data": None}), None),),
    leak=Row("secrets in msg", Canned({"code": 301, "msg": f"bad key {KEY} sig for {SECRET}",
                                       "data": None}), Rejected, 301),
    leak_shows="bad key *** sig for ***",
    secrets=(KEY, SECRET), credentials={"api_key": KEY, "api_secret": SECRET},
    source=FixedFloatSource, identity=KEY, budget_limit=250,
)
