"""The fault injector of one emulator: a seeded per-request decision, one aiohttp middleware and
the fault counters (the control API is in :mod:`.control`).

Request ``n`` of provider ``p`` (non-control requests since start or ``POST /_sandbox/reset``)
draws from ``world.rng("faults", p, n)``: the same seed, profile and request order give the same
faults. A rate-limit storm or a blocked key in force answers before any draw. Every fault that
takes effect is counted under its kind; ``stats_extra()`` is what ``GET /_sandbox/stats`` adds
(``{"faults": {kind: count}}``, present once a profile was set). Injected answers never touch the
emulator's own counters (``rate_limited``, ``blocks``...), but ``requests`` counts every request
as before, and what the emulator itself answers under a model-taken fault (a skewed timestamp's
400003) is counted as it always is. A fault that cannot apply to an answer (a field fault on an
XML feed, a signature fault on an unsigned answer) is skipped and not counted.

Provider hooks (:class:`FaultHooks`) give the provider's own shapes: its internal-error answer,
its rate-limit answer, which header names the calling key, how to re-sign a changed body (FlyPay:
a client sees a validly signed but impossible answer) and which response header is a signature.
Kinds an emulator's model implements (``expired_quote``, ``clock_skew``) are *taken* by the model
through :meth:`FaultInjector.take` / :meth:`FaultInjector.skewed` while the request runs.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..emulators.common import CONTROL_PREFIX, Handler, Sleeper
from .actions import gateway_page, reset_connection, spoil_signature, trickle
from .catalog import fault_names, resolve_faults
from .kinds import (
    BAD_SIGNATURE,
    BLOCKED_KEY,
    BODY_KINDS,
    CLOCK_SKEW,
    HTTP_5XX,
    MISSING_SIGNATURE,
    RATE_LIMIT_STORM,
    RESET,
    STALL,
    TRICKLE,
)
from .mutate import mutate
from .profile import FaultParams, FaultProfile, ProviderFaults

if TYPE_CHECKING:
    import random

    from ..world import World

__all__ = ["FaultHooks", "FaultInjector"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaultHooks:
    """How one provider answers the generic faults.

    ``server_error(request)``: the provider's own internal-error answer, HTTP 500.
    ``too_many(request, retry_after)``: its own rate-limit answer (as its budget gives it).
    ``credential(request)``: the key the request names ("" when none).
    ``resign(request, response)``: re-sign ``response.body`` in place (FlyPay), or None.
    ``signature_header``: the response header holding a signature (FlyPay ``Signature``).
    """

    server_error: Callable[[web.Request], web.Response]
    too_many: Callable[[web.Request, int], web.Response]
    credential: Callable[[web.Request], str]
    resign: Callable[[web.Request, web.Response], None] | None = None
    signature_header: str | None = None


@dataclass(slots=True)
class _Pending:
    """The fault decided for the request running in this context (taken by the model)."""

    owner: FaultInjector
    kind: str
    params: FaultParams
    taken: bool = False


_CURRENT: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
    "bench_faults_current", default=None)


@dataclass(slots=True)
class _Block:
    until: float = 0.0
    offences: int = 0


@dataclass(slots=True)
class _State:
    seq: int = 0
    storm_until: float = 0.0
    blocks: dict[str, _Block] = field(default_factory=dict)


class FaultInjector:
    """Fault injection for one emulator (``provider``), driven by a :class:`FaultProfile`.

    ``profile`` is anything :func:`bench.faults.resolve_faults` takes (None: inactive until a
    profile is posted). ``clock`` (monotonic seconds) times storms and blocks.
    """

    def __init__(self, world: World, provider: str, profile: object = None, *,
                 hooks: FaultHooks, clock: Callable[[], float] = time.monotonic) -> None:
        self.world = world
        self.provider = provider
        self.hooks = hooks
        self.sleeper = Sleeper()
        self._clock = clock
        self._profile: FaultProfile | None = resolve_faults(profile)
        self._faults: ProviderFaults | None = self._effective()
        self._state = _State()
        self.counts: dict[str, int] = {}

    # --- profile --------------------------------------------------------------------------------
    @property
    def profile(self) -> FaultProfile | None:
        return self._profile

    def set_profile(self, profile: object) -> None:
        """Switch to ``profile`` (None: off); storms and blocks in force end, counters stay."""
        self._profile = resolve_faults(profile)
        self._faults = self._effective()
        self._state.storm_until = 0.0
        self._state.blocks.clear()

    def _effective(self) -> ProviderFaults | None:
        if self._profile is None:
            return None
        faults = self._profile.for_provider(self.provider)
        return faults if faults.probabilities else None

    def describe(self) -> dict[str, Any]:
        """What ``GET /_sandbox/faults`` answers."""
        out: dict[str, Any] = {"provider": self.provider, "profile": None, "description": "",
                               "probabilities": {}, "params": None}
        if self._profile is not None:
            out.update(profile=self._profile.name, description=self._profile.description,
                       **self._profile.for_provider(self.provider).as_dict())
        out["counts"] = dict(sorted(self.counts.items()))
        out["available"] = list(fault_names())
        return out

    # --- counters -------------------------------------------------------------------------------
    def stats_extra(self) -> dict[str, Any]:
        """``{"faults": {kind: count}}`` once fault injection is configured, else ``{}``."""
        if self._profile is None and not self.counts:
            return {}
        return {"faults": dict(sorted(self.counts.items()))}

    def reset(self) -> None:
        """Forget counters, the request sequence, storms and blocks (``POST /_sandbox/reset``)."""
        self.counts.clear()
        self._state = _State()

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    # --- hooks the models call while a request runs ---------------------------------------------
    def take(self, kind: str) -> bool:
        """Is ``kind`` the fault decided for the running request? Counts it the first time."""
        pending = _CURRENT.get()
        if pending is None or pending.owner is not self or pending.kind != kind:
            return False
        if not pending.taken:
            pending.taken = True
            self._count(kind)
        return True

    def skewed(self, wall_clock: Callable[[], float]) -> Callable[[], float]:
        """``wall_clock``, shifted by ``skew_s`` for requests the ``clock_skew`` fault hits."""
        def now() -> float:
            pending = _CURRENT.get()
            base = wall_clock()
            if pending is not None and self.take(CLOCK_SKEW):
                return base + pending.params.skew_s
            return base

        return now

    # --- aiohttp --------------------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        n = self._state.seq
        self._state.seq += 1
        faults = self._faults
        if faults is None:
            return await handler(request)
        try:
            early = self._in_force(request)
        except Exception:  # a hook's bug must not take the emulator down
            _log.exception("fault injection failed on %s", request.path)
            early = None
        if early is not None:
            return early
        rng = self.world.rng("faults", self.provider, n)
        kind = _draw(faults, rng.random())
        if kind is None:
            return await handler(request)
        return await self._inject(kind, rng, faults.params, request, handler)

    def _in_force(self, request: web.Request) -> web.StreamResponse | None:
        """The answer of a storm or a key block in force, else None."""
        now = self._clock()
        if now < self._state.storm_until:
            return self._storm_answer(request, self._state.storm_until - now)
        key = self.hooks.credential(request)
        block = self._state.blocks.get(key) if key else None
        if block is not None and now < block.until:
            self._count(BLOCKED_KEY)
            return self.hooks.too_many(request, _seconds(block.until - now))
        return None

    def _storm_answer(self, request: web.Request, left: float) -> web.Response:
        self._count(RATE_LIMIT_STORM)
        retry = _seconds(left)
        response = self.hooks.too_many(request, retry)
        response.headers.setdefault("Retry-After", str(retry))
        return response

    async def _inject(self, kind: str, rng: random.Random, params: FaultParams,
                      request: web.Request, handler: Handler) -> web.StreamResponse:
        if kind == HTTP_5XX:
            self._count(kind)
            status = params.status_codes[rng.randrange(len(params.status_codes))]
            return self._server_error(request, status)
        if kind == RESET:
            self._count(kind)
            if rng.random() < 0.5:
                with contextlib.suppress(web.HTTPException):
                    await handler(request)  # the work is done, the answer is lost
            return reset_connection(request)
        if kind == STALL:
            self._count(kind)
            if not await self.sleeper.sleep(params.stall_s):
                return reset_connection(request)  # shutting down: do not hold the server
            return await handler(request)
        if kind == RATE_LIMIT_STORM:
            self._state.storm_until = self._clock() + params.storm_s
            return self._storm_answer(request, params.storm_s)
        if kind == BLOCKED_KEY:
            key = self.hooks.credential(request)
            if not key:
                return await handler(request)
            block = self._state.blocks.setdefault(key, _Block())
            block.offences += 1
            length = params.block_s * 2 ** (block.offences - 1)
            block.until = self._clock() + length
            self._count(kind)
            return self.hooks.too_many(request, _seconds(length))
        token = _CURRENT.set(_Pending(self, kind, params))
        try:
            response = await handler(request)
        finally:
            _CURRENT.reset(token)
        try:
            return await self._after(kind, rng, params, request, response)
        except Exception:  # never let an injected fault crash the emulator
            _log.exception("fault %s failed on %s", kind, request.path)
            return response

    async def _after(self, kind: str, rng: random.Random, params: FaultParams,
                     request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        if not isinstance(response, web.Response) or response.prepared:
            return response
        body = response.body
        if not isinstance(body, bytes) or (not body and kind in BODY_KINDS):
            return response  # nothing to change (a streamed answer, a 304)
        if kind in BODY_KINDS:
            changed = mutate(kind, body, rng)
            if changed is None:
                return response
            response.body = changed
            if self.hooks.resign is not None:
                self.hooks.resign(request, response)
            self._count(kind)
            return response
        if kind in (BAD_SIGNATURE, MISSING_SIGNATURE):
            header = self.hooks.signature_header
            if header is None or header not in response.headers:
                return response
            if kind == MISSING_SIGNATURE:
                del response.headers[header]
            else:
                spoil_signature(response, header, body)
            self._count(kind)
            return response
        if kind == TRICKLE:
            self._count(kind)
            return await trickle(request, response, body, seconds=params.trickle_s,
                                 chunk=params.trickle_chunk, sleeper=self.sleeper)
        return response  # a model-taken kind, or one this emulator does not implement

    def _server_error(self, request: web.Request, status: int) -> web.Response:
        return self.hooks.server_error(request) if status == 500 else gateway_page(status)


def _draw(faults: ProviderFaults, u: float) -> str | None:
    acc = 0.0
    for kind, p in faults.probabilities:
        acc += p
        if u < acc:
            return kind
    return None


def _seconds(left: float) -> int:
    return max(1, math.ceil(left))
