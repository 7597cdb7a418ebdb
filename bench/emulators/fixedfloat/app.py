"""FixedFloat v2 over HTTP: thin aiohttp handlers, the route table and :func:`create_app`.

Every API call is ``POST /api/v2/<method>`` with ``X-API-KEY`` and ``X-API-SIGN`` = hex
HMAC-SHA256(api_secret, raw body). The signature is checked over the exact bytes received (an empty
body signs ``""``; ``{}`` signs ``"{}"``), hex compared case-insensitively in constant time. Order of
checks: unknown or missing key -> 401 (not charged); budget -> 429 (nothing booked); signature
-> 401 (charged: the key is known); JSON -> 301; method -> its data or 301/300. Every answer is an
envelope ``{"code", "msg", "data"}`` with HTTP 200. Content-Type and unknown headers are ignored.

``GET /rates/fixed.xml`` and ``/rates/float.xml`` (also ``/rates.xml`` = fixed) serve the bulk
export without key or budget, with ``ETag``/``Last-Modified`` and 304 answers. The doc's
ambiguities are variants (:mod:`.variants`: rates path, signing a call without params, the JSON
type of ``amount``, ``recv``/``send`` flags). Control endpoints (shared,
:func:`~bench.emulators.common.build_app`): ``GET /_sandbox/stats``, ``POST /_sandbox/reset``,
``GET /_sandbox/variants``, ``GET``/``POST /_sandbox/faults``. An unknown path or method keeps
its HTTP status with code 301; a body over 256 KiB is code 301; a stalled body is dropped.

Injected faults (:mod:`bench.faults`) answer in FixedFloat's shapes: an internal error is the
envelope code 300 with HTTP 500; a storm or a blocked key is the envelope code 429 with HTTP 200
(a storm adds ``Retry-After``; FixedFloat's own blocks say nothing about when they end).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
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
from ..variants import VariantChoice
from .feed import not_modified
from .model import METHOD_COSTS, ApiError, FixedFloatModel
from .variants import (
    VARIANTS,
    check_amount_type,
    flags_as_int,
    rates_path_served,
    signed_bytes,
)

__all__ = ["STATE_KEY", "VARIANTS", "create_app"]

STATE_KEY: Final = web.AppKey("fixedfloat_state", FixedFloatModel)
_log = logging.getLogger(__name__)


def _envelope(code: int, msg: str, data: Any = None, status: int = 200) -> web.Response:
    return web.Response(text=dumps({"code": code, "msg": msg, "data": data}), status=status,
                        content_type="application/json")


def _signature_ok(secret: str, raw: bytes, given: str) -> bool:
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def _api_handler(method: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        model = request.app[STATE_KEY]
        variants = request.app[CONTROL_KEY].variants
        raw = await read_body(request)
        api_key = request.headers.get("X-API-KEY", "").strip()
        secret = model.secret_for(api_key)
        if secret is None:
            model.stats.signature_failures += 1
            return _envelope(401, "Invalid API key")
        if not model.charge(api_key, method).allowed:
            return _envelope(429, "Too many requests")
        if not _signature_ok(secret, signed_bytes(variants, raw),
                             request.headers.get("X-API-SIGN", "")):
            model.stats.signature_failures += 1
            return _envelope(401, "Invalid signature")
        try:
            params = loads_exact(raw) if raw.strip() else {}
        except ValueError:
            model.stats.errors += 1
            return _envelope(301, "Invalid JSON")
        if not isinstance(params, dict):
            model.stats.errors += 1
            return _envelope(301, "Invalid request: expected a JSON object")
        try:
            check_amount_type(variants, method, params)
            data = flags_as_int(variants, method, model.call(method, params))
        except ApiError as exc:
            model.stats.errors += 1
            return _envelope(exc.code, exc.msg)
        except Exception:  # the emulator's own bug: answer like the provider does
            _log.exception("fixedfloat emulator failed on %s", method)
            model.stats.errors += 1
            return _envelope(300, "Internal error")
        return _envelope(0, "OK", data)

    return handle


def _feed_handler(rate_type: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if not rates_path_served(request.app[CONTROL_KEY].variants, request.path):
            raise web.HTTPNotFound()
        snap = request.app[STATE_KEY].feed(rate_type)
        headers = {"ETag": snap.etag, "Last-Modified": snap.last_modified_http,
                   "Cache-Control": "public, max-age=60"}
        if not_modified(request.headers, snap):
            return web.Response(status=304, headers=headers)
        return web.Response(body=snap.body, headers=headers, content_type="application/xml",
                            charset="utf-8")

    return handle


def _framework_error(request: web.Request, status: int, message: str) -> web.Response:
    """An unknown path or method keeps its HTTP status; anything else about the request (a body
    too large, a malformed request) is invalid input, code 301 with HTTP 200 like every API
    error; an escaping exception is the internal error, code 300 with HTTP 500."""
    if status >= 500:
        return _envelope(300, "Internal error", status=500)
    if status in (404, 405):
        return _envelope(301, "Invalid method" if status == 404 else "Method not allowed",
                         status=status)
    return _envelope(301, f"Invalid request: {message}")


FAULT_HOOKS: Final = FaultHooks(
    server_error=lambda request: _envelope(300, "Internal error", status=500),
    too_many=lambda request, retry_after: _envelope(429, "Too many requests"),
    credential=lambda request: request.headers.get("X-API-KEY", "").strip(),
)

ROUTES: Final = (
    *(web.post(f"/api/v2/{m}", _api_handler(m)) for m in METHOD_COSTS),
    web.get("/rates/fixed.xml", _feed_handler("fixed")),
    web.get("/rates/float.xml", _feed_handler("float")),
    web.get("/rates.xml", _feed_handler("fixed")),
)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None,
               variants: Mapping[str, str] | None = None,
               read_timeout: float = DEFAULT_READ_TIMEOUT) -> web.Application:
    """The FixedFloat emulator as an aiohttp application.

    ``credentials`` maps API keys to secrets; ``no_limits`` turns the budget off; ``latency_ms``
    delays every non-control answer, or ``latency`` (a latency profile, its name, or ms) instead;
    ``faults`` is a fault profile, its name or None (see :mod:`bench.faults`); ``clock`` drives
    the budget window, fault storms and blocks (default ``time.monotonic``); ``variants`` picks
    doc readings (:data:`VARIANTS`); ``read_timeout`` bounds a stalled body read (seconds).
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "fixedfloat", faults, hooks=FAULT_HOOKS, clock=clock)
    model = FixedFloatModel(world, credentials=credentials, no_limits=no_limits, clock=clock,
                            faults=injector)
    app = build_app(provider="fixedfloat", world=world, stats=model.stats, reset=model.reset,
                    error=_framework_error, injector=injector, routes=ROUTES,
                    variants=VariantChoice("fixedfloat", VARIANTS, variants),
                    latency=latency_ms if latency is None else latency,
                    client_max_size=256 * 1024, read_timeout=read_timeout)
    app[STATE_KEY] = model
    return app
