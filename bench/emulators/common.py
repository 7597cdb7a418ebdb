"""Pieces every provider emulator shares: stats counters, a latency middleware (a fixed delay or
a seeded :mod:`bench.latency` profile), interruptible sleeps, the one per-key sliding-window budget
(with or without escalating blocks), JSON helpers that keep money exact, and the control plane.

The control plane lives here once (:func:`build_app`): ``GET /_sandbox/stats``, ``POST
/_sandbox/reset``, ``GET /_sandbox/variants`` (:mod:`.variants`), ``GET``/``POST /_sandbox/faults``
(:mod:`bench.faults`), request counting, and a middleware that answers whatever the framework would
answer itself (unknown path, wrong method, body too large, an escaping exception) with the
provider's own error envelope through the emulator's ``error`` hook, never aiohttp's bare page.
A body read that stalls longer than the read timeout drops the connection (:func:`read_body`);
:func:`app_runner` gives the same bound to a stalled request head.

Nothing here knows a provider's protocol; emulators compose these in their ``app.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..latency import Fixed, LatencyModel, resolve_latency
from .variants import VariantChoice

if TYPE_CHECKING:
    from ..faults import FaultInjector
    from ..world import World

__all__ = [
    "CONTROL_KEY",
    "CONTROL_PREFIX",
    "DEFAULT_READ_TIMEOUT",
    "MAX_JSON_DEPTH",
    "RESET_PATH",
    "VARIANTS_PATH",
    "Control",
    "Decision",
    "ErrorAnswer",
    "Handler",
    "ReadTimeout",
    "Sleeper",
    "SlidingWindowLimiter",
    "Stats",
    "app_runner",
    "build_app",
    "dumps",
    "latency_middleware",
    "loads_exact",
    "read_body",
    "to_decimal",
]

CONTROL_PREFIX: Final = "/_sandbox/"
RESET_PATH: Final = CONTROL_PREFIX + "reset"
VARIANTS_PATH: Final = CONTROL_PREFIX + "variants"
#: Deepest JSON nesting accepted (PHP's ``json_decode`` default); deeper is invalid input.
MAX_JSON_DEPTH: Final = 512
_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Stats:
    """Totals since start (or the last reset), served at ``GET /_sandbox/stats``.

    ``requests``: every request but control ones; ``units``: budget units charged;
    ``rate_limited``: answers refused for budget; ``blocks``: blocks imposed on a key;
    ``signature_failures``: answers refused for a bad or missing key or signature;
    ``errors``: other error answers (invalid input, internal).
    """

    requests: int = 0
    units: int = 0
    rate_limited: int = 0
    blocks: int = 0
    signature_failures: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "units": self.units, "rate_limited": self.rate_limited,
                "blocks": self.blocks, "signature_failures": self.signature_failures,
                "errors": self.errors}

    def reset(self) -> None:
        self.requests = self.units = self.rate_limited = self.blocks = 0
        self.signature_failures = self.errors = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of :meth:`SlidingWindowLimiter.acquire`.

    ``allowed``: the cost was booked. Otherwise ``blocked_until`` says when the key may call again
    and ``new_block`` is true when this very call was the offence that imposed the block.
    """

    allowed: bool
    blocked_until: float = 0.0
    new_block: bool = False


@dataclass(slots=True)
class _KeyState:
    spent: deque[tuple[float, int]] = field(default_factory=deque)
    used: int = 0
    blocked_until: float = 0.0
    offences: int = 0


class SlidingWindowLimiter:
    """Cost-weighted sliding window per key; an overrun refuses the call, and may block the key.

    In any window of ``window`` seconds a key spends at most ``limit`` units. A call that would go
    over is refused and nothing is booked. With ``block`` (seconds; FixedFloat's documented rule)
    the refusal also blocks the key for ``block`` seconds, doubled at each later offence
    (``block * 2**(offences-1)``), and while blocked every call is refused. With ``block=None``
    (the plain throttle the other emulators assume) there is no block: the refusal's
    ``blocked_until`` is when enough booked units leave the window for the same call to pass
    (``now + window`` when ``cost`` exceeds ``limit``: it never can). The check and the booking
    happen in one synchronous step, so concurrent handlers cannot both pass. ``clock`` is
    injectable (tests drive it; never sleep).
    """

    def __init__(self, limit: int, window: float = 60.0, block: float | None = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0 or (block is not None and block <= 0):
            raise ValueError("limit, window and block must be positive")
        self.limit = limit
        self.window = window
        self.block = block
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}

    def now(self) -> float:
        """The limiter's clock (to turn ``blocked_until`` into a wait)."""
        return self._clock()

    def acquire(self, key: str, cost: int) -> Decision:
        """Book ``cost`` units for ``key`` if the budget allows, else refuse (maybe blocking)."""
        now = self._clock()
        st = self._keys.setdefault(key, _KeyState())
        if now < st.blocked_until:
            return Decision(False, st.blocked_until)
        horizon = now - self.window
        while st.spent and st.spent[0][0] <= horizon:
            st.used -= st.spent.popleft()[1]
        if st.used + cost > self.limit:
            if self.block is None:
                return Decision(False, self._frees_at(st, cost, now))
            st.offences += 1
            st.blocked_until = now + self.block * 2 ** (st.offences - 1)
            return Decision(False, st.blocked_until, new_block=True)
        st.spent.append((now, cost))
        st.used += cost
        return Decision(True)

    def _frees_at(self, st: _KeyState, cost: int, now: float) -> float:
        """When enough booked units leave the window for ``cost`` more to fit."""
        if cost > self.limit:
            return now + self.window
        excess = st.used + cost - self.limit
        for t, c in st.spent:
            excess -= c
            if excess <= 0:
                return t + self.window
        return now + self.window  # unreachable: the window holds what is booked

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        st = self._keys.get(key)
        if st is None:
            return 0
        horizon = self._clock() - self.window
        return sum(c for t, c in st.spent if t > horizon)

    def reset(self) -> None:
        self._keys.clear()


class Sleeper:
    """Timer-based sleeps that :meth:`wake_all` cuts short (an app shutting down).

    ``await sleeper.sleep(s)`` is True when the full time passed, False when woken early. One
    ``call_later`` timer per sleep, no polling; a cancelled sleeper leaks nothing.
    """

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[bool]] = set()
        self._closed = False

    async def sleep(self, seconds: float) -> bool:
        if self._closed:
            return False
        if seconds <= 0:
            return True
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(seconds, _resolve, fut, True)
        self._pending.add(fut)
        try:
            return await fut
        finally:
            timer.cancel()
            self._pending.discard(fut)

    def wake_all(self) -> None:
        """End every pending sleep (returning False) and refuse new ones until :meth:`reopen`."""
        self._closed = True
        for fut in tuple(self._pending):
            _resolve(fut, False)

    def reopen(self) -> None:
        self._closed = False


def _resolve(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)


def latency_middleware(latency: object = 0, *, world: World | None = None, provider: str = "",
                       sleeper: Sleeper | None = None) -> Callable[..., Any]:
    """A middleware delaying every non-control answer (a timer, no busy wait).

    ``latency`` is a number of milliseconds (the historical ``latency_ms``: every answer delayed by
    exactly that), or anything :func:`bench.latency.resolve_latency` takes (a profile name, a
    :class:`~bench.latency.LatencyProfile`, plain profile data). A profile draws request ``n``'s
    delay from a generator seeded by the ``world`` seed, ``provider`` and ``n`` (the count of
    non-control requests since start or ``POST /_sandbox/reset``). ``/_sandbox/*`` is never
    delayed. With ``sleeper``, delays end early when the app shuts down.
    """
    if isinstance(latency, (int, float)) and not isinstance(latency, bool):
        latency = max(float(latency), 0.0)  # as ``latency_ms`` always did: negative means none
    profile = resolve_latency(latency)
    nap = sleeper.sleep if sleeper is not None else _plain_sleep
    if profile is None:
        @web.middleware
        async def _no_latency(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await handler(request)

        return _no_latency
    dist = profile.for_provider(provider)
    if isinstance(dist, Fixed):  # constant: no generator needed
        delay = dist.ms / 1000.0

        @web.middleware
        async def _fixed(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not request.path.startswith(CONTROL_PREFIX):
                await nap(delay)
            return await handler(request)

        return _fixed
    if world is None:
        raise ValueError("a random latency profile needs the world (its seed)")
    model = LatencyModel(profile, world, provider)
    seq = [0]

    @web.middleware
    async def _latency(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            response = await handler(request)
            if request.path == RESET_PATH and request.method == "POST":
                seq[0] = 0
            return response
        n = seq[0]
        seq[0] += 1
        await nap(model.delay_ms(n) / 1000.0)
        return await handler(request)

    return _latency


async def _plain_sleep(seconds: float) -> bool:
    await asyncio.sleep(seconds)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def loads_exact(raw: bytes | str) -> Any:
    """Parse JSON with every non-integer number as ``Decimal`` (never float); NaN/Infinity refused.

    Anything that is not JSON a provider would take is a ``ValueError``: bad syntax or encoding,
    and nesting deeper than :data:`MAX_JSON_DEPTH` (checked without recursion, so a body nested a
    few thousand levels deep is an invalid-input answer, never a ``RecursionError``).
    """
    if _too_deep(raw):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _too_deep(raw: bytes | str) -> bool:
    """Does ``raw`` open more than :data:`MAX_JSON_DEPTH` brackets at once (outside strings)?"""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def to_decimal(value: object) -> Decimal | None:
    """A finite ``Decimal`` from a JSON number or numeric string, else None (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return d if d.is_finite() else None


def dumps(obj: Any) -> str:
    """Compact, deterministic JSON (Decimals must already be formatted as strings)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --- the control plane: one copy of the /_sandbox routes, counting and framework-error answers ----

DEFAULT_READ_TIMEOUT: Final = 5.0
#: ``error(request, http_status, message)``: the provider's own error answer for what the framework
#: would otherwise answer itself (unknown path 404, wrong method 405, body too large 413, an
#: exception escaping a handler 500).
ErrorAnswer = Callable[[web.Request, int, str], web.StreamResponse]


class ReadTimeout(Exception):
    """The client stopped sending its body for longer than the read timeout."""


@dataclass(slots=True)
class Control:
    """What the shared control routes and middleware need from one emulator."""

    provider: str
    stats: Stats
    reset: Callable[[], None]
    injector: FaultInjector
    variants: VariantChoice
    error: ErrorAnswer
    read_timeout: float = DEFAULT_READ_TIMEOUT


CONTROL_KEY: Final = web.AppKey("bench_control", Control)


async def read_body(request: web.Request) -> bytes:
    """The request body, or :class:`ReadTimeout` when the client stalls longer than the app's read
    timeout (the connection is then dropped). A body over the app's ``client_max_size`` raises
    aiohttp's 413, which the shared middleware answers in the provider's shape."""
    timeout = request.app[CONTROL_KEY].read_timeout
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise ReadTimeout from None


@web.middleware
async def _count_and_catch(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every non-control request; answer what escapes a handler like the provider would."""
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    control = request.app[CONTROL_KEY]
    control.stats.requests += 1
    try:
        return await handler(request)
    except ReadTimeout:
        _drop(request)
        return web.Response(status=408)  # never reaches the client: the connection is closed
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        control.stats.errors += 1
        return control.error(request, exc.status, exc.reason)
    except Exception:  # the emulator's own bug: the provider's 500, never aiohttp's page
        _log.exception("%s emulator failed on %s", control.provider, request.path)
        control.stats.errors += 1
        return control.error(request, 500, "Internal error")


def _drop(request: web.Request) -> None:
    protocol = request.protocol
    if protocol is not None:
        protocol.force_close()
    elif request.transport is not None:
        request.transport.close()


async def _stats(request: web.Request) -> web.StreamResponse:
    control = request.app[CONTROL_KEY]
    return web.json_response({**control.stats.as_dict(), **control.injector.stats_extra()})


async def _reset(request: web.Request) -> web.StreamResponse:
    control = request.app[CONTROL_KEY]
    control.reset()
    control.injector.reset()
    return web.json_response({"ok": True})


async def _variants(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[CONTROL_KEY].variants.describe())


def build_app(*, provider: str, world: World, stats: Stats, reset: Callable[[], None],
              error: ErrorAnswer, injector: FaultInjector, routes: Iterable[web.AbstractRouteDef],
              variants: VariantChoice, latency: object = 0, client_max_size: int = 1024 ** 2,
              read_timeout: float = DEFAULT_READ_TIMEOUT) -> web.Application:
    """One emulator's application: its ``routes`` plus the shared control routes
    (``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET /_sandbox/variants``,
    ``GET``/``POST /_sandbox/faults``), request counting, the latency and fault middlewares, and
    ``error`` for whatever the framework would answer itself. ``reset`` forgets the emulator's
    state (the fault injector is reset too); ``read_timeout`` (seconds) bounds a stalled body read
    (and, through :func:`app_runner`, a stalled request head or an idle connection)."""
    from ..faults import install_faults  # bench.faults imports this module

    if read_timeout <= 0:
        raise ValueError("read_timeout must be positive")
    delay = latency_middleware(latency, world=world, provider=provider, sleeper=injector.sleeper)
    app = web.Application(middlewares=[_count_and_catch, delay, injector.middleware],
                          client_max_size=client_max_size)
    app[CONTROL_KEY] = Control(provider, stats, reset, injector, variants, error, read_timeout)
    app.router.add_routes(routes)
    app.router.add_get(CONTROL_PREFIX + "stats", _stats)
    app.router.add_post(CONTROL_PREFIX + "reset", _reset)
    app.router.add_get(VARIANTS_PATH, _variants)
    install_faults(app, injector)
    return app


def app_runner(app: web.Application) -> web.AppRunner:
    """A runner for ``app`` that drops a connection idle or stalled in a request head for longer
    than the app's read timeout (aiohttp's keep-alive timer runs from the first byte)."""
    timeout = app[CONTROL_KEY].read_timeout if CONTROL_KEY in app else DEFAULT_READ_TIMEOUT
    return web.AppRunner(app, access_log=None, keepalive_timeout=timeout)
