"""FixedFloat v2 over HTTP: thin aiohttp handlers, the route table and :func:`create_app`.

Every API call is ``POST /api/v2/<method>`` with ``X-API-KEY`` and ``X-API-SIGN`` = hex
HMAC-SHA256(api_secret, raw body). The signature is checked over the exact bytes received (an empty
body signs ``""``; ``{}`` signs ``"{}"``), hex compared case-insensitively in constant time. Order of
checks: unknown or missing key -> 401 (not charged); budget -> 429 (nothing booked); signature
-> 401 (charged: the key is known); JSON -> 301; method -> its data or 301/300. Every answer is an
envelope ``{"code", "msg", "data"}`` with HTTP 200. Content-Type and unknown headers are ignored.

``GET /rates/fixed.xml`` and ``/rates/float.xml`` (also ``/rates.xml`` = fixed) serve the bulk
export without key or budget, with ``ETag``/``Last-Modified`` and 304 answers. Control endpoints:
``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET``/``POST /_sandbox/faults``.

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

from ...faults import FAULTS_KEY, FaultHooks, FaultInjector, install_faults
from ...world import World
from ..common import CONTROL_PREFIX, Handler, dumps, latency_middleware, loads_exact
from .feed import not_modified
from .model import METHOD_COSTS, ApiError, FixedFloatModel

__all__ = ["STATE_KEY", "create_app"]

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
        raw = await request.read()
        api_key = request.headers.get("X-API-KEY", "").strip()
        secret = model.secret_for(api_key)
        if secret is None:
            model.stats.signature_failures += 1
            return _envelope(401, "Invalid API key")
        if not model.charge(api_key, method).allowed:
            return _envelope(429, "Too many requests")
        if not _signature_ok(secret, raw, request.headers.get("X-API-SIGN", "")):
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
            data = model.call(method, params)
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
        snap = request.app[STATE_KEY].feed(rate_type)
        headers = {"ETag": snap.etag, "Last-Modified": snap.last_modified_http,
                   "Cache-Control": "public, max-age=60"}
        if not_modified(request.headers, snap):
            return web.Response(status=304, headers=headers)
        return web.Response(body=snap.body, headers=headers, content_type="application/xml",
                            charset="utf-8")

    return handle


async def _stats(request: web.Request) -> web.StreamResponse:
    return web.json_response({**request.app[STATE_KEY].stats.as_dict(),
                              **request.app[FAULTS_KEY].stats_extra()})


async def _reset(request: web.Request) -> web.StreamResponse:
    request.app[STATE_KEY].reset()
    request.app[FAULTS_KEY].reset()
    return web.json_response({"ok": True})


@web.middleware
async def _count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(CONTROL_PREFIX):
        request.app[STATE_KEY].stats.requests += 1
    return await handler(request)


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
    web.get(CONTROL_PREFIX + "stats", _stats),
    web.post(CONTROL_PREFIX + "reset", _reset),
)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None) -> web.Application:
    """The FixedFloat emulator as an aiohttp application.

    ``credentials`` maps API keys to secrets; ``no_limits`` turns the budget off; ``latency_ms``
    delays every non-control answer, or ``latency`` (a latency profile, its name, or ms) instead;
    ``faults`` is a fault profile, its name or None (see :mod:`bench.faults`); ``clock`` drives
    the budget window, fault storms and blocks (default ``time.monotonic``).
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "fixedfloat", faults, hooks=FAULT_HOOKS, clock=clock)
    model = FixedFloatModel(world, credentials=credentials, no_limits=no_limits, clock=clock,
                            faults=injector)
    delay = latency_middleware(latency_ms if latency is None else latency, world=world,
                               provider="fixedfloat", sleeper=injector.sleeper)
    app = web.Application(middlewares=[_count_requests, delay, injector.middleware],
                          client_max_size=256 * 1024)
    app[STATE_KEY] = model
    app.router.add_routes(ROUTES)
    install_faults(app, injector)
    return app
