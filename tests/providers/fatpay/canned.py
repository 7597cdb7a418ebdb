"""FaTPay canned: the fake on-ramp server that checks each request's RSA signature, the test key,
valid answers, and the :data:`HARNESS` the shared client suite (``tests/providers/test_clients.py``)
drives."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.fatpay import FaTPayClient, FaTPaySource, PrivateKey, Signer
from adapters.fatpay.constants import CALL_COST
from router.errors import AuthError, Rejected
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

__all__ = ["CURRENCIES", "HARNESS", "PARTNER", "PRICE", "TOKENS", "Canned", "FakeFaTPay", "Seen",
           "expected_text", "key_pem", "make_client", "ok", "rsa_key", "verifies"]

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
class Seen:
    call: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_path: str
    verified: bool


Script = Canned | Callable[[web.Request], Canned]


class FakeFaTPay(ScriptedServer):
    """Answers GET /open/api/onramp/<call> from a per-call script; records every request."""

    def __init__(self) -> None:
        self.script: dict[str, Script] = {}
        self.requests: list[Seen] = []
        app = web.Application()
        app.router.add_get("/open/api/onramp/{call}", self.handle)
        super().__init__(app)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        call = request.match_info["call"]
        self.requests.append(Seen(call, dict(request.query), dict(request.headers),
                                  request.raw_path, verifies(request)))
        script = self.script[call]
        return await self.answer(script(request) if callable(script) else script)

    def calls(self, name: str) -> list[Seen]:
        return [r for r in self.requests if r.call == name]


def _client(base_url: str, session: aiohttp.ClientSession, budget: Any,
            timeout: float) -> FaTPayClient:
    signer = Signer(Secret(PARTNER), PrivateKey.load(key_pem()), clock=lambda: 1661346861,
                    nonce=lambda: "868964")
    return FaTPayClient(session, signer=signer, budget=budget, base_url=base_url,
                        timeout=timeout, secrets=(PARTNER,))


def make_client(fp: FakeFaTPay, session: aiohttp.ClientSession, budget: Any, *,
                timeout: float = 2.0, base_url: str | None = None) -> FaTPayClient:
    return _client(base_url or fp.base_url, session, budget, timeout)


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


def _code(code: int | str, cls: type[Any], status: int = 200, expect: int | None = None) -> Row:
    form = " as a string" if isinstance(code, str) else ""
    return Row(f"code {code}{form} at HTTP {status}",
               Canned({"code": code, "msg": "incorrect params", "data": None}, status=status),
               cls, code if expect is None else expect)


HARNESS = Harness(
    name="fatpay", fake=FakeFaTPay, client=_client, canned=canned, ok=ok,
    calls=(
        Call("price", "price", lambda c: c.price("USD", Decimal(199), "USDT_ERC20"), PRICE,
             (CALL_COST, False),
             {"fee not a number": {**PRICE, "gasFee": "lots"},
              "no cryptoCurrencyAmount": {k: v for k, v in PRICE.items()
                                          if k != "cryptoCurrencyAmount"},
              "a list": [PRICE]}),
        Call("tokens", "token", lambda c: c.tokens(), TOKENS, (CALL_COST, False)),
    ),
    no_code={"msg": "no code"},
    odd_status=302,
    too_many_body={"code": 10004, "msg": "too many", "data": None},
    error_codes=(
        # the code comes as an integer or its string form: either is read as the integer
        _code(10002, Rejected), _code("10002", Rejected, expect=10002),
        _code(10003, AuthError), _code("10003", AuthError, expect=10003),
        _code(10099, Rejected), _code("E-weird", Rejected),  # unknown: a refusal not understood
        _code(10003, AuthError, status=401),  # the signature error with HTTP 401
    ),
    too_many=(TooMany("params error at HTTP 429",
                      Canned({"code": 10002, "msg": "", "data": None}, status=429,
                             headers={"Retry-After": "30"}), 30.0),),
    leak=Row("secrets in msg", Canned({"code": 10003, "msg": f"bad signature for {PARTNER}",
                                       "data": None}), AuthError, 10003),
    leak_shows="bad signature for ***", secrets=(PARTNER, key_pem().splitlines()[1]),
    credentials={"partner_id": PARTNER, "private_key_pem": key_pem()},
    source=FaTPaySource, identity=PARTNER, budget_limit=60,
)
