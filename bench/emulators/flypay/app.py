"""FlyPay over HTTP: thin aiohttp handlers, the route table and :func:`create_app`.

Every API call is ``POST /api/v1/<method>`` with a JSON body and the headers ``Api-Key`` (the
doc's other line says ``Authorization``: either is accepted, ``Bearer `` prefix optional, unless
the ``key_header`` variant picks one, see :mod:`.variants`) and
``Signature`` = hex HMAC-SHA256(secret_key, raw body), checked over the exact bytes received (an
empty body signs ``""``), compared case-insensitively in constant time. ``Content-Type`` must be
``application/json`` (the doc makes it mandatory); ``Accept`` and unknown headers are ignored.

Every answer is ``{"status": "success", "data": ...}`` (paginated methods add ``total_count``,
``page``, ``per_page``) or ``{"status": "error", "message": ..., "data": null}``, and carries a
``Signature`` header = hex HMAC-SHA256(secret of the calling key, raw response body). An answer to
an unknown or missing key has no secret to sign with, so it carries **no** ``Signature`` header.
Order of checks and HTTP statuses (FlyPay documents none; these are the emulator's choice):
non-POST 405; unknown method 404; body over 256 KiB 413; missing or unknown key 401 (unsigned, not
charged); budget 429 + ``Retry-After`` (nothing booked); bad or missing signature 401 (charged);
wrong content type 415; body not a JSON object 400; invalid field, unknown currency or pair, amount
out of limits, insufficient funds, duplicate ``external_id`` 422; transaction not found 404;
the emulator's own failure 500 (in the ``errors=http-200`` variant every one of these is HTTP 200,
the envelope unchanged). Control endpoints (shared, :func:`~bench.emulators.common.build_app`):
``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET /_sandbox/variants``,
``GET``/``POST /_sandbox/faults``.

Injected faults (:mod:`bench.faults`) answer in FlyPay's shapes, signed like any answer: an
internal error is HTTP 500 ``Internal server error.``; a storm or a blocked key is HTTP 429 with
``Retry-After``. A body a fault changed (malformed JSON, a missing, wrong-typed or absurd field) is
**re-signed** with the calling key's secret, so the client sees a validly signed but impossible
answer; ``bad_signature`` and ``missing_signature`` spoil or drop the ``Signature`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec
from aiohttp import web

from ...faults import FaultHooks, FaultInjector
from ...world import World
from ..common import (
    CONTROL_KEY,
    DEFAULT_READ_TIMEOUT,
    build_app,
    loads_exact,
    read_body,
)
from ..variants import VariantChoice
from .model import METHOD_COSTS, FlyPayModel, Page
from .params import ApiError
from .variants import VARIANTS, error_status, key_headers

__all__ = ["API_PREFIX", "STATE_KEY", "VARIANTS", "create_app", "key_secret_map"]

API_PREFIX: Final = "/api/v1/"
STATE_KEY: Final = web.AppKey("flypay_state", FlyPayModel)
_MAX_BODY: Final = 256 * 1024
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_log = logging.getLogger(__name__)


def _hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _respond(status: int, envelope: Mapping[str, Any], secret: str | None,
             headers: Mapping[str, str] | None = None) -> web.Response:
    """Serialise once and sign exactly the bytes sent."""
    body = _ENCODER.encode(envelope)
    hdrs = dict(headers or {})
    if secret is not None:
        hdrs["Signature"] = _hmac(secret, body)
    return web.Response(status=status, body=body, headers=hdrs, content_type="application/json")


def _error(status: int, message: str, secret: str | None,
           headers: Mapping[str, str] | None = None) -> web.Response:
    return _respond(status, {"status": "error", "message": message, "data": None}, secret,
                    headers)


def _api_key(request: web.Request) -> tuple[str, str | None]:
    """The calling key and its secret: ``Api-Key`` first, else ``Authorization`` [Bearer], as
    far as the ``key_header`` variant allows."""
    model = request.app[STATE_KEY]
    candidates = []
    for name in key_headers(request.app[CONTROL_KEY].variants):
        value = request.headers.get(name, "").strip()
        if name == "Authorization" and value[:7].lower() == "bearer ":
            value = value[7:].strip()
        candidates.append(value)
    for key in candidates:
        secret = model.secret_for(key)
        if secret is not None:
            return key, secret
    return "", None


def _signature_ok(secret: str, raw: bytes, given: str) -> bool:
    expected = _hmac(secret, raw).encode()
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def _is_json(content_type: str) -> bool:
    return content_type.lower() == "application/json" or content_type.lower().endswith("+json")


def _params(raw: bytes) -> dict[str, Any]:
    """The JSON object of the body; empty body, ``{}`` and PHP's ``[]`` mean no params."""
    if not raw.strip():
        return {}
    parsed = loads_exact(raw)
    if parsed == []:
        return {}
    if not isinstance(parsed, dict):
        raise ValueError("not an object")
    return parsed


def _in_variant(request: web.Request, response: web.Response) -> web.Response:
    """An error answer's HTTP status as the ``errors`` variant has it (HTTP 200 in ``http-200``)."""
    if response.status >= 400:
        response.set_status(error_status(request.app[CONTROL_KEY].variants, response.status))
    return response


async def _api(request: web.Request) -> web.StreamResponse:
    return _in_variant(request, await _answer(request))


async def _answer(request: web.Request) -> web.Response:
    model = request.app[STATE_KEY]
    method = request.match_info["method"]
    key, secret = _api_key(request)
    if request.method != "POST":
        model.stats.errors += 1
        return _error(405, "Method not allowed.", secret, {"Allow": "POST"})
    if method not in METHOD_COSTS:
        model.stats.errors += 1
        return _error(404, "Method not found.", secret)
    try:
        raw = await read_body(request)
    except web.HTTPRequestEntityTooLarge:
        model.stats.errors += 1
        return _error(413, "Request body too large.", secret)
    if secret is None:
        model.stats.signature_failures += 1
        return _error(401, "Invalid API key.", None)
    retry = model.charge(key, method)
    if retry is not None:
        return _error(429, "Too many requests.", secret, {"Retry-After": str(retry)})
    if not _signature_ok(secret, raw, request.headers.get("Signature", "")):
        model.stats.signature_failures += 1
        return _error(401, "Invalid signature.", secret)
    if not _is_json(request.content_type):
        model.stats.errors += 1
        return _error(415, "Content-Type must be application/json.", secret)
    try:
        params = _params(raw)
    except ValueError:
        model.stats.errors += 1
        return _error(400, "The request body must be a JSON object.", secret)
    try:
        data = model.call(method, params)
    except ApiError as exc:
        model.stats.errors += 1
        return _error(exc.status, exc.message, secret)
    except Exception:  # the emulator's own bug: an envelope, never a traceback
        _log.exception("flypay emulator failed on %s", method)
        model.stats.errors += 1
        return _error(500, "Internal server error.", secret)
    if isinstance(data, Page):
        return _respond(200, {"status": "success", "total_count": data.total_count,
                              "page": data.page, "per_page": data.per_page, "data": data.data},
                        secret)
    return _respond(200, {"status": "success", "data": data}, secret)


def _caller_secret(request: web.Request) -> str | None:
    return _api_key(request)[1]


def _resign(request: web.Request, response: web.Response) -> None:
    """Sign the (changed) body again, as the real answer was: only if it was signed."""
    secret = _caller_secret(request)
    if secret is not None and "Signature" in response.headers and isinstance(response.body, bytes):
        response.headers["Signature"] = _hmac(secret, response.body)


FAULT_HOOKS: Final = FaultHooks(
    server_error=lambda request: _error(500, "Internal server error.", _caller_secret(request)),
    too_many=lambda request, retry_after: _in_variant(request, _error(
        429, "Too many requests.", _caller_secret(request), {"Retry-After": str(retry_after)})),
    credential=lambda request: _api_key(request)[0]
    or request.headers.get("Api-Key", "").strip(),
    resign=_resign,
    signature_header="Signature",
)

ROUTES: Final = (web.route("*", API_PREFIX + "{method:.*}", _api),)


def _framework_error(request: web.Request, status: int, message: str) -> web.Response:
    """FlyPay's error envelope (signed for a known key) for what the framework would answer."""
    if status >= 500:
        return _in_variant(request, _error(500, "Internal server error.", _caller_secret(request)))
    return _in_variant(request, _error(status, f"{message}.", _caller_secret(request)))


def key_secret_map(credentials: Mapping[str, str]) -> dict[str, str]:
    """Keys to secrets from the provider block (``api_key``, ``api_secret``; other fields such as
    ``base_url`` ignored) or, when those two fields are absent, from a ready key-to-secret map."""
    if "api_key" in credentials and "api_secret" in credentials:
        return {credentials["api_key"]: credentials["api_secret"]}
    return dict(credentials)


def create_app(world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
               latency_ms: float = 0, faults: object = None, latency: object = None,
               clock: Callable[[], float] | None = None,
               variants: Mapping[str, str] | None = None,
               read_timeout: float = DEFAULT_READ_TIMEOUT) -> web.Application:
    """The FlyPay emulator as an aiohttp application.

    ``credentials`` is the provider block (``{"api_key", "api_secret"}``, see
    :func:`key_secret_map`); ``no_limits`` turns the budget off; ``latency_ms`` delays every
    non-control answer, or ``latency`` (a latency profile, its name, or ms) instead; ``faults`` is
    a fault profile, its name or None (see :mod:`bench.faults`); ``clock`` drives the budget
    window, fault storms and blocks (default ``time.monotonic``); ``variants`` picks doc readings
    (:data:`VARIANTS`); ``read_timeout`` bounds a stalled body read (seconds).
    """
    clock = clock or time.monotonic
    injector = FaultInjector(world, "flypay", faults, hooks=FAULT_HOOKS, clock=clock)
    model = FlyPayModel(world, credentials=key_secret_map(credentials), no_limits=no_limits,
                        clock=clock, faults=injector)
    app = build_app(provider="flypay", world=world, stats=model.stats, reset=model.reset,
                    error=_framework_error, injector=injector, routes=ROUTES,
                    variants=VariantChoice("flypay", VARIANTS, variants),
                    latency=latency_ms if latency is None else latency,
                    client_max_size=_MAX_BODY, read_timeout=read_timeout)
    app[STATE_KEY] = model
    return app
