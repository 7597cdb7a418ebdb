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
parameters are still part of the signed string, as the doc's rule says). The doc's gaps and
ambiguities are variants (:mod:`.variants`: the list endpoints, the code's JSON type, the shape of
``paymentOptions``). Control endpoints (shared, :func:`~bench.emulators.common.build_app`):
``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET /_sandbox/variants``,
``GET``/``POST /_sandbox/faults``.

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

from ...faults import FaultHooks, FaultInjector
from ...world import World
from ..common import CONTROL_KEY, DEFAULT_READ_TIMEOUT, Handler, build_app
from ..variants import VariantChoice
from .errors import (
    CODE_INTERNAL,
    CODE_OK,
    CODE_PARAMS,
    CODE_SIGNATURE,
    CODE_TOO_MANY,
    ApiError,
)
from .model import METHODS, FaTPayModel, single_values
from .variants import (
    LIST_METHODS,
    VARIANTS,
    list_answer,
    list_served,
    payment_options_answer,
    wire_code,
)

__all__ = ["API_PREFIX", "STATE_KEY", "VARIANTS", "create_app"]

API_PREFIX: Final = "/open/api/onramp/"
STATE_KEY: Final = web.AppKey("fatpay_state", FaTPayModel)
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_log = logging.getLogger(__name__)


def _envelope(request: web.Request, code: int, msg: str, data: Any = None, *, status: int = 200,
              headers: Mapping[str, str] | None = None) -> web.Response:
    wire = wire_code(request.app[CONTROL_KEY].variants, code)
    return web.Response(body=_ENCODER.encode({"code": wire, "msg": msg, "data": data}),
                        status=status, headers=headers, content_type="application/json")


def _api_handler(name: str) -> Handler:
    cost = METHODS[name][1]

    async def handle(request: web.Request) -> web.StreamResponse:
        model = request.app[STATE_KEY]
        variants = request.app[CONTROL_KEY].variants
        if name in LIST_METHODS and not list_served(variants):
            raise web.HTTPNotFound()
        partner = request.headers.get("X-Fp-Partner-Id", "")
        if not model.known_partner(partner):
            model.stats.signature_failures += 1
            return _envelope(request, CODE_SIGNATURE, "signature error: unknown partner id")
        decision = model.charge(partner, cost)
        if not decision.allowed:
            return _envelope(request, CODE_TOO_MANY, "too many requests", status=429,
                             headers={"Retry-After": str(model.retry_after(decision))})
        try:
            query = single_values(request.query.items())
            model.authenticate(request.method, request.host, request.path, request.headers,
                               query)
            data = model.call(name, query)
            data = list_answer(variants, name, data)
            data = payment_options_answer(variants, name, data, query.get("payment") or None)
        except ApiError as exc:
            if exc.code == CODE_SIGNATURE:
                model.stats.signature_failures += 1
            else:
                model.stats.errors += 1
            return _envelope(request, exc.code, exc.msg)
        except Exception:  # the emulator's own bug: no traceback on the wire
            _log.exception("fatpay emulator failed on %s", name)
            model.stats.errors += 1
            return _envelope(request, CODE_INTERNAL, "system error", status=500)
        return _envelope(request, CODE_OK, "success", data)

    return handle


def _framework_error(request: web.Request, status: int, message: str) -> web.Response:
    """FaTPay's envelope for what the framework would answer: an escaping exception is code 500
    with HTTP 500; an unknown path or a wrong method is 10002 (incorrect params) with the
    framework's HTTP status."""
    if status >= 500:
        return _envelope(request, CODE_INTERNAL, "system error", status=500)
    return _envelope(request, CODE_PARAMS, f"incorrect params: {message.lower()}", status=status)


FAULT_HOOKS: Final = FaultHooks(
    server_error=lambda request: _envelope(request, CODE_INTERNAL, "system error", status=500),
    too_many=lambda request, retry_after: _envelope(request, CODE_TOO_MANY, "too many requests",
                                                    status=429,
                                                    headers={"Retry-After": str(retry_after)}),
    credential=lambda request: request.headers.get("X-Fp-Partner-Id", "").strip(),
)

ROUTES: Final = (
    *(web.get(API_PREFIX + name, _api_handler(name), allow_head=False) for name in METHODS),
)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None,
               wall_clock: Callable[[], float] | None = None,
               variants: Mapping[str, str] | None = None,
               read_timeout: float = DEFAULT_READ_TIMEOUT) -> web.Application:
    """The FaTPay emulator as an aiohttp application.

    ``credentials`` is the provider block: ``partner_id`` and ``private_key_pem`` (the public key
    is derived from it and only that is kept; ``public_key_pem`` alone also works).
    ``no_limits`` turns the 60 units / 60 s budget off; ``latency_ms`` delays every non-control
    answer, or ``latency`` (a latency profile, its name, or ms) instead; ``faults`` is a fault
    profile, its name or None (see :mod:`bench.faults`); ``clock`` drives the budget window, fault
    storms and blocks (default ``time.monotonic``); ``wall_clock`` is the unix time
    ``X-Fp-Timestamp`` is checked against (default ``time.time``); ``variants`` picks doc
    readings (:data:`VARIANTS`); ``read_timeout`` bounds a stalled body read (seconds).
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "fatpay", faults, hooks=FAULT_HOOKS, clock=clock)
    model = FaTPayModel(world, credentials=credentials, no_limits=no_limits, clock=clock,
                        wall_clock=injector.skewed(wall_clock or time.time), faults=injector)
    app = build_app(provider="fatpay", world=world, stats=model.stats, reset=model.reset,
                    error=_framework_error, injector=injector, routes=ROUTES,
                    variants=VariantChoice("fatpay", VARIANTS, variants),
                    latency=latency_ms if latency is None else latency,
                    client_max_size=64 * 1024, read_timeout=read_timeout)
    app[STATE_KEY] = model
    return app
