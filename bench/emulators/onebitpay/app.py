"""1BitPay over HTTP: thin aiohttp handlers, the route table and :func:`create_app`.

Every call is ``POST <path>`` with ``Content-Type: application/json`` and the public params in
headers (see :mod:`.auth`). Order of checks, each answered with the ``{"code", "message", "data"}``
envelope and HTTP 200 unless said otherwise:

1. ``ApiKey`` header missing or empty -> 50017 (not charged);
2. unknown ``ApiKey`` -> 150024 (not charged);
3. budget (60 units / 60 s per key, 1 unit per call) -> **HTTP 429**, code 429, ``Retry-After``
   (nothing booked);
4. ``MerchantNo`` not the key's merchant -> 150024;
5. public params malformed (``TimeStamp`` not 13 digits, ``Nonce`` not 1-64 letters/digits,
   ``SignType`` not 1, ``Sign`` not 32 hex) -> 150025;
6. a non-empty body that is not ``application/json`` or not JSON -> 400;
7. signature over public + body params -> 150025;
8. the method's own checks (150026, 150031, 150032, 150033, 150034, 400) or its data.

``TimeStamp`` is not checked against a clock (the doc sets no window, and a frozen world's time is
not the client's), nor are nonces remembered. ``Lang: zh`` gives Chinese messages; any other value
English. Unknown headers are ignored. Variant ``sign_order`` (:data:`VARIANTS`): the signing rule
says "keys in ASCII order", the doc's worked example sorts them ignoring case (``...MerchantNo=..&
name=..&Nonce=..``); the two give different strings for ``/api/otc/rate`` (``ApiKey, Lang, ...,
TimeStamp, cryptoCurrency, legalCurrency`` against ``ApiKey, cryptoCurrency, Lang,
legalCurrency, ...``). ``ascii`` / ``casefold`` accept only that order; by default either.
Control endpoints (shared, :func:`~bench.emulators.common.build_app`): ``GET /_sandbox/stats``,
``POST /_sandbox/reset``, ``GET /_sandbox/variants``, ``GET``/``POST /_sandbox/faults``.

Injected faults (:mod:`bench.faults`) answer in 1BitPay's shapes: an internal error is the
envelope code 500 with HTTP 500; a storm or a blocked key is HTTP 429, code 429, ``Retry-After``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from aiohttp import web

from ...faults import FaultHooks, FaultInjector
from ...world import World
from ..common import (
    CONTROL_KEY,
    DEFAULT_READ_TIMEOUT,
    Handler,
    build_app,
    dumps,
    loads_exact,
    read_body,
)
from ..variants import Variant, VariantChoice
from . import errors as E
from .auth import ORDERS, PUBLIC_PARAMS, signed_params, verify
from .model import METHODS, NO_DATA, OneBitPayModel

__all__ = ["ROUTES", "STATE_KEY", "VARIANTS", "create_app"]

STATE_KEY: Final = web.AppKey("onebitpay_state", OneBitPayModel)
_log = logging.getLogger(__name__)

VARIANTS: Final = (
    Variant("sign_order", ORDERS,
            "sign keys in ASCII order (the rule) or ignoring case (the worked example)",
            "lenient: accepts either order"),
)
_TIMESTAMP: Final = re.compile(r"^[0-9]{13}$")
_NONCE: Final = re.compile(r"^[0-9A-Za-z]{1,64}$")
_HEX32: Final = re.compile(r"^[0-9a-fA-F]{32}$")
_AUTH_CODES: Final = frozenset({E.API_KEY_EMPTY, E.UNKNOWN_API_KEY, E.BAD_SIGNATURE})


def _envelope(code: int, lang: str, data: Any = None, *, detail: str = "", status: int = 200,
              headers: Mapping[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": E.message(code, lang, detail)}
    if data is not NO_DATA:
        body["data"] = data
    return web.Response(text=dumps(body), status=status, headers=headers,
                        content_type="application/json")


def _lang(request: web.Request) -> str:
    return "zh" if request.headers.get("Lang", "").strip().lower() == "zh" else "en"


def _public_params(request: web.Request) -> dict[str, str]:
    return {name: request.headers[name] for name in PUBLIC_PARAMS if name in request.headers}


def _public_params_ok(public: Mapping[str, str]) -> bool:
    return bool(_TIMESTAMP.match(public.get("TimeStamp", ""))
                and _NONCE.match(public.get("Nonce", ""))
                and public.get("SignType", "").strip() == "1"
                and _HEX32.match(public.get("Sign", "").strip()))


def _decode_body(request: web.Request, raw: bytes) -> Any:
    """The JSON body (``{}`` when empty); :class:`ApiError` 400 on a wrong type or bad JSON."""
    if not raw.strip():
        return {}
    if request.content_type != "application/json":
        raise E.ApiError(E.BAD_PARAM, "Content-Type must be application/json")
    try:
        return loads_exact(raw)
    except (ValueError, RecursionError):
        raise E.ApiError(E.BAD_PARAM, "invalid JSON") from None


def _api_handler(path: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        model = request.app[STATE_KEY]
        lang = _lang(request)
        raw = await read_body(request)
        try:
            data = _authenticated_call(model, request, path, raw, lang)
        except E.ApiError as exc:
            if exc.code in _AUTH_CODES:
                model.stats.signature_failures += 1
            else:
                model.stats.errors += 1
            return _envelope(exc.code, lang, detail=exc.detail)
        except _RateLimited as exc:
            return _envelope(E.TOO_MANY, lang, status=429,
                             headers={"Retry-After": str(exc.retry_after)})
        except Exception:  # the emulator's own bug: an envelope, never a traceback
            _log.exception("onebitpay emulator failed on %s", path)
            model.stats.errors += 1
            return _envelope(E.INTERNAL, lang)
        return _envelope(E.OK, lang, data)

    return handle


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _authenticated_call(model: OneBitPayModel, request: web.Request, path: str, raw: bytes,
                        lang: str) -> Any:
    public = _public_params(request)
    api_key = public.get("ApiKey", "").strip()
    if not api_key:
        raise E.ApiError(E.API_KEY_EMPTY)
    secret = model.secret_for(api_key)
    if secret is None:
        raise E.ApiError(E.UNKNOWN_API_KEY)
    retry = model.charge(api_key)
    if retry:
        raise _RateLimited(retry)
    if public.get("MerchantNo", "").strip() != model.merchant_no:
        raise E.ApiError(E.UNKNOWN_API_KEY, "MerchantNo")
    if not _public_params_ok(public):
        raise E.ApiError(E.BAD_SIGNATURE, "public parameters")
    body = _decode_body(request, raw)
    order = request.app[CONTROL_KEY].variants.active("sign_order")
    if not verify(signed_params(public, body), secret, public["Sign"], order):
        raise E.ApiError(E.BAD_SIGNATURE)
    return model.call(path, body, lang)


def _framework_error(request: web.Request, status: int, message: str) -> web.Response:
    """1BitPay's envelope for what the framework would answer: an escaping exception is code 500
    with HTTP 500; an unknown path, a wrong method or a body too large is code 400 (bad
    parameter) with the framework's HTTP status."""
    if status >= 500:
        return _envelope(E.INTERNAL, _lang(request), status=500)
    return _envelope(E.BAD_PARAM, _lang(request), detail=message, status=status)


FAULT_HOOKS: Final = FaultHooks(
    server_error=lambda request: _envelope(E.INTERNAL, _lang(request), status=500),
    too_many=lambda request, retry_after: _envelope(E.TOO_MANY, _lang(request), status=429,
                                                    headers={"Retry-After": str(retry_after)}),
    credential=lambda request: request.headers.get("ApiKey", "").strip(),
)

ROUTES: Final = (
    *(web.post(path, _api_handler(path)) for path in METHODS),
)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None,
               variants: Mapping[str, str] | None = None,
               read_timeout: float = DEFAULT_READ_TIMEOUT) -> web.Application:
    """The 1BitPay emulator as an aiohttp application.

    ``credentials``: ``{"merchant_no", "api_key", "api_secret"}`` (see :func:`credentials`);
    ``no_limits`` turns the budget off; ``latency_ms`` delays every non-control answer, or
    ``latency`` (a latency profile, its name, or ms) instead; ``faults`` is a fault profile, its
    name or None (see :mod:`bench.faults`); ``clock`` drives the budget window, fault storms and
    blocks (default ``time.monotonic``); ``variants`` picks doc readings (:data:`VARIANTS`);
    ``read_timeout`` bounds a stalled body read (seconds).
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "onebitpay", faults, hooks=FAULT_HOOKS, clock=clock)
    model = OneBitPayModel(world, credentials=credentials, no_limits=no_limits, clock=clock,
                           faults=injector)
    app = build_app(provider="onebitpay", world=world, stats=model.stats, reset=model.reset,
                    error=_framework_error, injector=injector, routes=ROUTES,
                    variants=VariantChoice("onebitpay", VARIANTS, variants),
                    latency=latency_ms if latency is None else latency,
                    client_max_size=1024 * 1024, read_timeout=read_timeout)
    app[STATE_KEY] = model
    return app
