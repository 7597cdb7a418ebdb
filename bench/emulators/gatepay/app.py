"""Gate Pay convert over HTTP: thin aiohttp handlers, the route table and :func:`create_app`.

Routes (the doc's paths): ``GET /v1/pay/convert/currency?side=``, ``GET /v1/pay/convert/pair?
currency=&side=``, ``POST /v1/pay/convert/preview``, ``POST /v1/pay/convert``, ``GET
/v1/pay/convert/order?orderId=`` (``OrderID``, the doc table's spelling, is accepted too).

Every answer is the envelope ``{"status": "SUCCESS"|"FAIL", "code", "label", "errorMessage",
"data"}``, HTTP 200 unless noted. Order of checks: unknown or missing client id -> 400002 (not
charged); budget, 1 unit per call, 120 per 60 s per client id -> HTTP 429 with ``Retry-After``
(not booked); POST without ``Content-Type: application/json`` -> 400007; timestamp missing or more
than 10 s off the wall clock -> 400003; nonce not 1-32 letters/digits -> 400020; signature ->
400002 (a GET may sign ``""`` or, if it carries a body, that body); nonce already used -> 400020;
body not a JSON object -> 400001; then the method (see :mod:`.model`). An emulator bug answers
300001 with HTTP 500; anything escaping a handler 300000 with HTTP 500; unknown path or method
400001 with HTTP 404/405. The doc's ambiguities are variants (:mod:`.variants`: what a pair row
is, the preview's rate field, the order id parameter). Control endpoints (shared,
:func:`~bench.emulators.common.build_app`): ``GET /_sandbox/stats``, ``POST /_sandbox/reset``,
``GET /_sandbox/variants``, ``GET``/``POST /_sandbox/faults``.

Injected faults (:mod:`bench.faults`) answer in Gate Pay's shapes: an internal error is 300000
with HTTP 500; a storm or a blocked key is HTTP 429 with ``Retry-After``. ``clock_skew`` shifts the
wall clock the timestamp check reads (400003); ``expired_quote`` makes ``convert`` find its quote
expired (400622, see :mod:`.model`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec
from aiohttp import web

from ...faults import FaultHooks, FaultInjector
from ...world import World
from ..common import DEFAULT_READ_TIMEOUT, Handler, build_app, loads_exact, read_body
from ..variants import VariantChoice
from .auth import (
    CLIENT_ID_HEADER,
    MAX_SKEW_MS,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    nonce_ok,
    parse_timestamp,
    signature_ok,
)
from .model import QUOTE_TTL, ApiError, GatePayModel
from .variants import VARIANTS

__all__ = ["LABELS", "RATE_LIMIT_CODE", "STATE_KEY", "VARIANTS", "create_app"]

STATE_KEY: Final = web.AppKey("gatepay_state", GatePayModel)
RATE_LIMIT_CODE: Final = "400429"  # undocumented: clients key on HTTP 429, not on this code
LABELS: Final[Mapping[str, str]] = {
    "000000": "",
    "300000": "SYSTEM_ERROR",
    "300001": "INTERNAL_ERROR",
    "400000": "UNKNOWN_ERROR",
    "400001": "INVALID_REQUEST",
    "400002": "INVALID_SIGNATURE",
    "400003": "REQUEST_EXPIRED",
    "400007": "UNSUPPORTED_MEDIA_TYPE",
    "400020": "INVALID_NONCE",
    "400201": "DUPLICATE_ORDER",
    "400202": "ORDER_NOT_FOUND",
    "400622": "CONVERT_FAILED",
    RATE_LIMIT_CODE: "TOO_MANY_REQUESTS",
}
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")  # order ``rate`` is a number
_log = logging.getLogger(__name__)


def _envelope(code: str, message: str, data: Any, status: int = 200,
              headers: Mapping[str, str] | None = None) -> web.Response:
    body = _ENCODER.encode({"status": "SUCCESS" if code == "000000" else "FAIL", "code": code,
                            "label": LABELS.get(code, ""), "errorMessage": message, "data": data})
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


def _fail(code: str, message: str, status: int = 200, **kw: Any) -> web.Response:
    return _envelope(code, message, {}, status, **kw)


def _authenticate(request: web.Request, model: GatePayModel, client_id: str, secret: str,
                  raw: bytes, post: bool) -> None:
    """Content type, timestamp, nonce and signature, in that order; raises :class:`ApiError`."""
    if post and request.content_type.lower() != "application/json":
        raise ApiError("400007", "Content-Type must be application/json")
    ts_text = request.headers.get(TIMESTAMP_HEADER, "")
    ts = parse_timestamp(ts_text)
    now = model.wall_clock()
    if ts is None or abs(now * 1000 - ts) > MAX_SKEW_MS:
        raise ApiError("400003", "request timestamp expired")
    nonce = request.headers.get(NONCE_HEADER, "").strip()
    if not nonce_ok(nonce):
        raise ApiError("400020", "invalid nonce")
    given = request.headers.get(SIGNATURE_HEADER, "")
    ts_text = ts_text.strip()
    if not (signature_ok(secret, ts_text, nonce, b"" if not post else raw, given)
            or (not post and raw and signature_ok(secret, ts_text, nonce, raw, given))):
        raise ApiError("400002", "signature verification failed")
    if not model.nonces.use(client_id, nonce, now):
        raise ApiError("400020", "nonce already used")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        params = loads_exact(raw)
    except (ValueError, RecursionError):
        raise ApiError("400001", "body is not valid JSON") from None
    if not isinstance(params, dict):
        raise ApiError("400001", "body must be a JSON object")
    return params


def _endpoint(method: str, post: bool) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        model = request.app[STATE_KEY]
        raw = await read_body(request)
        client_id = request.headers.get(CLIENT_ID_HEADER, "").strip()
        secret = model.secret_for(client_id)
        if secret is None:
            model.stats.signature_failures += 1
            return _fail("400002", "unknown client id")
        wait = model.charge(client_id)
        if wait:
            return _fail(RATE_LIMIT_CODE, "too many requests", 429,
                         headers={"Retry-After": str(max(1, math.ceil(wait)))})
        try:
            _authenticate(request, model, client_id, secret, raw, post)
            if post:
                data = getattr(model, method)(client_id, _json_object(raw))
            elif method == "order":
                data = model.order(client_id, request.query)
            else:
                data = getattr(model, method)(request.query)
        except ApiError as exc:
            if exc.code == "400002":
                model.stats.signature_failures += 1
            else:
                model.stats.errors += 1
            return _fail(exc.code, exc.message, exc.http_status)
        except Exception:  # the emulator's own bug: answer like the provider does
            _log.exception("gatepay emulator failed on %s", method)
            model.stats.errors += 1
            return _fail("300001", "internal error", 500)
        return _envelope("000000", "", data)

    return handle


def _framework_error(request: web.Request, status: int, message: str) -> web.Response:
    """Anything escaping a handler is 300000 with HTTP 500; an unknown path or method, a body too
    large, is 400001 with the framework's HTTP status."""
    if status >= 500:
        return _fail("300000", "system error", 500)
    return _fail("400001", message, status)


FAULT_HOOKS: Final = FaultHooks(
    server_error=lambda request: _fail("300000", "system error", 500),
    too_many=lambda request, retry_after: _fail(RATE_LIMIT_CODE, "too many requests", 429,
                                                headers={"Retry-After": str(retry_after)}),
    credential=lambda request: request.headers.get(CLIENT_ID_HEADER, "").strip(),
)

ROUTES: Final = (
    web.get("/v1/pay/convert/currency", _endpoint("currency", post=False)),
    web.get("/v1/pay/convert/pair", _endpoint("pair", post=False)),
    web.post("/v1/pay/convert/preview", _endpoint("preview", post=True)),
    web.post("/v1/pay/convert", _endpoint("convert", post=True)),
    web.get("/v1/pay/convert/order", _endpoint("order", post=False)),
)


def _client_secrets(credentials: Mapping[str, str]) -> dict[str, str]:
    """The provider block ``{"client_id", "api_secret"[, "base_url"]}``, or ``{id: secret}``."""
    if "client_id" in credentials and "api_secret" in credentials:
        return {credentials["client_id"]: credentials["api_secret"]}
    return dict(credentials)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None,
               wall_clock: Callable[[], float] | None = None,
               quote_ttl: float = QUOTE_TTL, variants: Mapping[str, str] | None = None,
               read_timeout: float = DEFAULT_READ_TIMEOUT) -> web.Application:
    """The Gate Pay convert emulator as an aiohttp application.

    ``credentials``: the sandbox block ``{"client_id": ..., "api_secret": ...}`` (several clients:
    a mapping client id -> secret). ``no_limits`` turns the budget off; ``latency_ms`` delays every
    non-control answer, or ``latency`` (a latency profile, its name, or ms) instead; ``faults`` is
    a fault profile, its name or None (see :mod:`bench.faults`); ``clock`` drives the budget
    window, fault storms and blocks (default ``time.monotonic``); ``wall_clock`` (epoch seconds,
    default ``time.time``) checks request timestamps and quote lifetimes (``quote_ttl`` seconds);
    ``variants`` picks doc readings (:data:`VARIANTS`); ``read_timeout`` bounds a stalled body read.
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "gatepay", faults, hooks=FAULT_HOOKS, clock=clock)
    model = GatePayModel(world, credentials=_client_secrets(credentials), no_limits=no_limits,
                         clock=clock, wall_clock=injector.skewed(wall_clock or time.time),
                         quote_ttl=quote_ttl, faults=injector,
                         variants=VariantChoice("gatepay", VARIANTS, variants))
    app = build_app(provider="gatepay", world=world, stats=model.stats, reset=model.reset,
                    error=_framework_error, injector=injector, routes=ROUTES,
                    variants=model.variants,
                    latency=latency_ms if latency is None else latency,
                    client_max_size=64 * 1024, read_timeout=read_timeout)
    app[STATE_KEY] = model
    return app
