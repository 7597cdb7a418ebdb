"""FlyPay canned: the fake API server that signs its answers, the envelopes, a valid estimate, and
the :data:`HARNESS` the shared client suite (``tests/providers/test_clients.py``) drives."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import aiohttp
from aiohttp import web

from adapters.flypay import FlyPayClient, FlyPaySource, sign
from adapters.flypay.constants import method_cost
from router.errors import AuthError, MalformedResponse, ProviderUnavailable, Rejected
from router.secret import Secret
from tests.providers import harness
from tests.providers.harness import Call, Harness, Row, ScriptedServer, TooMany

__all__ = ["ESTIMATE", "HARNESS", "KEY", "SECRET", "Canned", "FakeFlyPay", "RecordingBudget",
           "Signing", "error", "ok"]

KEY, SECRET = "PUB-abcdef0123456789", "SEC-9876543210fedcba"
Signing = Literal["good", "none", "bad", "upper"]
RecordingBudget = harness.RecordingBudget


@dataclass
class Canned(harness.Canned):
    """One scripted answer, signed with :data:`SECRET` unless ``signing`` says otherwise."""

    signing: Signing = "good"


Script = Canned | Callable[[dict[str, Any]], Canned]


class FakeFlyPay(ScriptedServer):
    """Answers POST /api/v1/<method> from a per-method script; records raw requests."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret.encode()
        self.script: dict[str, Script] = {}
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        app = web.Application()
        app.router.add_post("/api/v1/{method:.+}", self.handle)
        super().__init__(app)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await request.read()
        self.requests.append((method, body, dict(request.headers)))
        script = self.script[method]
        return await self.answer(script(json.loads(body)) if callable(script) else script)

    def headers(self, canned: harness.Canned, raw: bytes) -> dict[str, str]:
        headers = dict(canned.headers)
        signing = canned.signing if isinstance(canned, Canned) else "none"
        good = sign(self.secret, raw)
        if signing == "good":
            headers["Signature"] = good
        elif signing == "upper":
            headers["Signature"] = good.upper()
        elif signing == "bad":
            headers["Signature"] = sign(b"someone else", raw)
        return headers

    def methods(self) -> list[str]:
        return [m for m, _, _ in self.requests]


def ok(data: Any) -> dict[str, Any]:
    return {"status": "success", "data": data}


def error(message: str = "Something is wrong") -> dict[str, Any]:
    return {"status": "error", "message": message}


ESTIMATE = {"currency_from": "btc", "currency_to": "usdt", "amount_from": 0.05,
            "amount_to": "2984.5"}


def _client(base_url: str, session: aiohttp.ClientSession, budget: Any,
            timeout: float) -> FlyPayClient:
    return FlyPayClient(session, api_key=Secret(KEY), api_secret=Secret(SECRET),
                        budget=budget, base_url=base_url, timeout=timeout)


def _canned(body: Any, *, status: int = 200, headers: dict[str, str] | None = None,
            delay: float = 0.0, signed: bool = True) -> Canned:
    return Canned(body, status, headers or {}, delay, "good" if signed else "none")


def _status(status: int, cls: type[Any], signing: Signing = "good", why: str = "") -> Row:
    return Row(f"error at HTTP {status}{why}", Canned(error(), status=status, signing=signing),
               cls)


HARNESS = Harness(
    name="flypay", fake=FakeFlyPay, client=_client, canned=_canned, ok=ok,
    calls=(
        Call("estimated_amount", "exchange/estimated_amount",
             lambda c: c.estimated_amount("btc", "usdt", Decimal("0.05")), ESTIMATE,
             (method_cost("estimated_amount"), False),
             {"amount not a number": {**ESTIMATE, "amount_to": "lots"},
              "only currency_from": {"currency_from": "btc"}}),
        Call("payways", "payways", lambda c: c.payways(), {}, (method_cost("payways"), False)),
    ),
    no_code={"data": ESTIMATE},
    odd_status=400,
    too_many_body=error("Too many requests"),
    # FlyPay documents no codes: a verified error envelope is classified by the HTTP status
    error_codes=(
        _status(200, Rejected),
        _status(400, Rejected),
        _status(404, Rejected),
        _status(422, Rejected),
        _status(418, Rejected, why=": not in the table, permanent"),
        _status(401, AuthError),
        _status(403, AuthError),
        _status(401, AuthError, "bad", ": signed with another secret, the status decides"),
        _status(500, ProviderUnavailable),
    ),
    failures=(
        Row("plain 401 unsigned", Canned("Unauthorized", status=401, signing="none"), AuthError),
        Row("envelope status pending", Canned({"status": "pending", "data": ESTIMATE}),
            MalformedResponse),
    ),
    too_many=(TooMany("HTTP 429 signed with another secret",
                      Canned(error(), status=429, headers={"Retry-After": "7"}, signing="bad"),
                      7.0),),
    leak=Row("secrets in message", Canned(error(f"bad key {KEY} for {SECRET}"), status=400),
             Rejected),
    leak_shows="bad key *** for ***",
    secrets=(KEY, SECRET), credentials={"api_key": KEY, "api_secret": SECRET},
    source=FlyPaySource, identity=KEY, budget_limit=60,
)
