"""The loopback control API of fault injection: ``GET``/``POST /_sandbox/faults`` (no auth).

``GET`` answers :meth:`FaultInjector.describe` (the active profile as this provider sees it, the
counters and the shipped names). ``POST`` switches the profile at run time with
``{"profile": NAME}``, ``{"profile": {inline profile}}``, ``{"profile": null}`` (off), or an inline
profile object as the whole body; a bad choice is HTTP 400 ``{"error": ...}`` and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from aiohttp import web

from ..emulators.common import CONTROL_PREFIX, loads_exact
from .injector import FaultInjector
from .profile import FaultProfileError

__all__ = ["FAULTS_KEY", "FAULTS_PATH", "install_faults"]

FAULTS_PATH: Final = CONTROL_PREFIX + "faults"
FAULTS_KEY: Final = web.AppKey("bench_faults", FaultInjector)


def install_faults(app: web.Application, injector: FaultInjector) -> None:
    """Keep ``injector`` under :data:`FAULTS_KEY`, serve ``/_sandbox/faults``, and wake pending
    stalls and delays when ``app`` shuts down (so a server never waits out a stall)."""
    app[FAULTS_KEY] = injector
    app.router.add_get(FAULTS_PATH, _get_faults)
    app.router.add_post(FAULTS_PATH, _post_faults)

    async def reopen(app: web.Application) -> None:
        injector.sleeper.reopen()

    async def wake(app: web.Application) -> None:
        injector.sleeper.wake_all()

    app.on_startup.append(reopen)
    app.on_shutdown.append(wake)


async def _get_faults(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[FAULTS_KEY].describe())


async def _post_faults(request: web.Request) -> web.StreamResponse:
    injector = request.app[FAULTS_KEY]
    try:
        body = loads_exact(await request.read())
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    choice = body["profile"] if "profile" in body else body
    try:
        injector.set_profile(_plain(choice))
    except (FaultProfileError, ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(injector.describe())


def _plain(value: Any) -> Any:
    """JSON data with Decimals as floats (probabilities and knobs are not money)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value
