"""FaTPay on-ramp API over HTTP: thin aiohttp handlers, the route table and :func:`create_app`.

Routes (all signed GETs, 1 budget unit each): ``/open/api/onramp/token`` (tokens),
``/open/api/onramp/currency`` (fiats with payment options), ``/open/api/onramp/price`` (the quote),
``/open/api/onramp/order`` (the partner's orders: always empty here). Every answer is the
envelope ``{"code", "msg", "data"}`` with ``code`` an integer and money as JSON numbers.

Order of checks: partner id missing or unknown -> 10003 (not charged); budget -> HTTP 429 with
the envelope (code 429) and ``Retry-After`` (nothing booked); a repeated query key or a missing /
malformed common header -> 10002; timestamp more than 60 s off the wall clock -> 10003; signature
-> 10003; the method's own parameters -> 10002. API errors come with HTTP 200; the emulator's own
failure with HTTP 500 (code 500). Unknown headers and query parameters are ignored (extra query
parameters are still part of the signed string, as the doc's rule says). Control endpoints:
``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET``/``POST /_sandbox/faults``.

Injected faults (:mod:`bench.faults`) answer in FaTPay's shapes: an internal error is code 500
with HTTP 500; a storm or a blocked key is HTTP 429, code 429, ``Retry-After``. ``clock_skew``
shifts the wall clock ``X-Fp-Timestamp`` is checked against (10003).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec
from aiohttp import web

from ...faults import FAULTS_KEY, FaultHooks, FaultInjector, install_faults
from ...world import World
from ..common import CONTROL_PREFIX, Handler, latency_middleware
from .errors import CODE_INTERNAL, CODE_OK, CODE_SIGNATURE, CODE_TOO_MANY, ApiError
from .model import METHODS, FaTPayModel, single_values

__all__ = ["API_PREFIX", "STATE_KEY", "create_app"]

API_PREFIX: Final = "/open/api/onramp/"
STATE_KEY: Final = web.AppKey("fatpay_state", FaTPayModel)
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_log = logging.getLogger(__name__)


def _envelope(code: int, msg: str, data: Any = None, *, status: int = 200,
              headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=_ENCODER.encode({"code": code, "msg": msg, "data": data}),
                        status=status, headers=headers, content_type="application/json")


def _api_handler(name: str) -> Handler:
    cost = METHODS[name][1]

    async def handle(request: web.Request) -> web.StreamResponse:
        model = request.app[STATE_KEY]
        partner = request.headers.get("X-Fp-Partner-Id", "")
        if not model.known_partner(partner):
            model.stats.signature_failures += 1
            return _envelope(CODE_SIGNATURE, "signature error: unknown partner id")
        decision = model.charge(partner, cost)
        if not decision.allowed:
            return _envelope(CODE_TOO_MANY, "too many requests", status=429,
                             headers={"Retry-After": str(model.retry_after(decision))})
        try:
            query = single_values(request.query.items())
            model.authenticate(request.method, request.host, request.path, request.headers,
                               query)
            data = model.call(name, query)
        except ApiError as exc:
            if exc.code == CODE_SIGNATURE:
                model.stats.signature_failures += 1
            else:
                model.stats.errors += 1
            return _envelope(exc.code, exc.msg)
        except Exception:  # the emulator's own bug: no traceback on the wire
            _log.exception("fatpay emulator failed on %s", name)
            model.stats.errors += 1
            return _envelope(CODE_INTERNAL, "system error", status=500)
        return _envelope(CODE_OK, "success", data)

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
    server_error=lambda request: _envelope(CODE_INTERNAL, "system error", status=500),
    too_many=lambda request, retry_after: _envelope(CODE_TOO_MANY, "too many requests",
                                                    status=429,
                                                    headers={"Retry-After": str(retry_after)}),
    credential=lambda request: request.headers.get("X-Fp-Partner-Id", "").strip(),
)

ROUTES: Final = (
    *(web.get(API_PREFIX + name, _api_handler(name), allow_head=False) for name in METHODS),
    web.get(CONTROL_PREFIX + "stats", _stats),
    web.post(CONTROL_PREFIX + "reset", _reset),
)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None,
               wall_clock: Callable[[], float] | None = None) -> web.Application:
    """The FaTPay emulator as an aiohttp application.

    ``credentials`` is the provider block: ``partner_id`` and ``private_key_pem`` (the public key
    is derived from it and only that is kept; ``public_key_pem`` alone also works).
    ``no_limits`` turns the 60 units / 60 s budget off; ``latency_ms`` delays every non-control
    answer, or ``latency`` (a latency profile, its name, or ms) instead; ``faults`` is a fault
    profile, its name or None (see :mod:`bench.faults`); ``clock`` drives the budget window, fault
    storms and blocks (default ``time.monotonic``); ``wall_clock`` is the unix time
    ``X-Fp-Timestamp`` is checked against (default ``time.time``).
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "fatpay", faults, hooks=FAULT_HOOKS, clock=clock)
    model = FaTPayModel(world, credentials=credentials, no_limits=no_limits, clock=clock,
                        wall_clock=injector.skewed(wall_clock or time.time), faults=injector)
    delay = latency_middleware(latency_ms if latency is None else latency, world=world,
                               provider="fatpay", sleeper=injector.sleeper)
    app = web.Application(middlewares=[_count_requests, delay, injector.middleware],
                          client_max_size=64 * 1024)
    app[STATE_KEY] = model
    app.router.add_routes(ROUTES)
    install_faults(app, injector)
    return app
