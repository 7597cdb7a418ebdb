"""1BitPay canned: the fake OTC API server, its envelope, the doc's signature rebuilt here, and the
:data:`HARNESS` the shared client suite (``tests/providers/test_clients.py``) drives."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp
from aiohttp import web

from adapters.onebitpay import OneBitPayClient, OneBitPaySource
from adapters.onebitpay.constants import RATE_COST
from router.errors import AmountOutOfRange, AuthError, Rejected, UnsupportedPair
from router.secret import Secret
from tests.providers.harness import Call, Canned, Harness, Row, ScriptedServer, canned

__all__ = ["HARNESS", "KEY", "MERCHANT", "PUBLIC", "RATE_DATA", "SECRET", "Canned",
           "Fake1BitPay", "doc_sign", "make_client", "ok"]

MERCHANT, KEY, SECRET = "mer-0123456789abcdef", "KEY-abcdef0123456789", "SECRET-9876543210fedc"
PUBLIC = ("Nonce", "TimeStamp", "MerchantNo", "SignType", "Lang", "ApiKey")


class Fake1BitPay(ScriptedServer):
    """Answers POST /api/otc/<method> from a per-method script; records raw requests."""

    def __init__(self) -> None:
        self.script: dict[str, Canned] = {}
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []
        app = web.Application()
        app.router.add_post("/api/otc/{method}", self.handle)
        super().__init__(app, host="127.0.0.1")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.requests.append((method, await request.read(), dict(request.headers)))
        return await self.answer(self.script[method])


def doc_sign(headers: dict[str, str], body: bytes, secret: str) -> str:
    """The doc's rule, written here on its own: header + body params, no Sign, no empties, keys
    sorted case-insensitively (the worked example), "k=v" joined by "&", secret appended, md5."""
    params: dict[str, str] = {k: headers[k] for k in PUBLIC}
    for k, v in json.loads(body).items():
        params[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    keys = sorted((k for k, v in params.items() if v), key=str.lower)
    text = "&".join(f"{k}={params[k]}" for k in keys) + secret
    return hashlib.md5(text.encode()).hexdigest()


def make_client(base_url: str, session: aiohttp.ClientSession, budget: Any,
                **kwargs: Any) -> OneBitPayClient:
    return OneBitPayClient(session, merchant_no=Secret(MERCHANT), api_key=Secret(KEY),
                           api_secret=Secret(SECRET), budget=budget, base_url=base_url,
                           **{"timeout": 2.0, **kwargs})


def _client(base_url: str, session: aiohttp.ClientSession, budget: Any,
            timeout: float) -> OneBitPayClient:
    return make_client(base_url, session, budget, timeout=timeout)


def ok(data: Any) -> dict[str, Any]:
    return {"code": 200, "message": "Success", "data": data}


RATE_DATA = {"buyRate": "6.47", "sellRate": "6.9"}


def _code(code: int, cls: type[Any]) -> Row:
    return Row(f"code {code}", Canned({"code": code, "message": "nope", "data": None}), cls, code)


HARNESS = Harness(
    name="onebitpay", fake=Fake1BitPay, client=_client, canned=canned, ok=ok,
    calls=(
        Call("rate", "rate", lambda c: c.rate("USDT", "CNY"), RATE_DATA, (RATE_COST, False),
             {"no sellRate": {"buyRate": "6.47"},
              "rate zero": {"buyRate": "0", "sellRate": "6.9"},
              "rate negative": {"buyRate": "6.47", "sellRate": "-1"},
              "rate NaN": {"buyRate": "NaN", "sellRate": "6.9"},
              "rate Infinity": {"buyRate": "Infinity", "sellRate": "6.9"},
              "rate not a number": {"buyRate": "lots", "sellRate": "6.9"}}),
    ),
    no_code={"message": "no code"},
    odd_status=302,
    too_many_body={"code": 429, "message": "Too many", "data": None},
    error_codes=(
        _code(150025, AuthError), _code(150024, AuthError), _code(50017, AuthError),
        _code(150030, AuthError), _code(50042, AuthError), _code(150019, AuthError),
        _code(150026, UnsupportedPair), _code(150031, UnsupportedPair),
        _code(150033, UnsupportedPair), _code(150034, UnsupportedPair),
        _code(150032, AmountOutOfRange), _code(99999, Rejected), _code(500, Rejected),
    ),
    leak=Row("secrets in message",
             Canned({"code": 150025, "message": f"sign {SECRET} for {KEY} merchant {MERCHANT}",
                     "data": None}), AuthError, 150025),
    leak_shows="sign *** for *** merchant ***", secrets=(MERCHANT, KEY, SECRET),
    credentials={"merchant_no": MERCHANT, "api_key": KEY, "api_secret": SECRET},
    source=OneBitPaySource, identity=KEY, budget_limit=60,
)
