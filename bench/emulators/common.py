"""Pieces every provider emulator shares: stats counters, a latency middleware, a per-key
sliding-window budget with escalating blocks, and JSON helpers that keep money exact.

Nothing here knows a provider's protocol; emulators compose these in their ``app.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from aiohttp import web

__all__ = [
    "CONTROL_PREFIX",
    "Decision",
    "Handler",
    "SlidingWindowLimiter",
    "Stats",
    "dumps",
    "latency_middleware",
    "loads_exact",
    "to_decimal",
]

CONTROL_PREFIX: Final = "/_sandbox/"

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
    """Cost-weighted sliding window per key; an overrun blocks the key, longer at each offence.

    In any window of ``window`` seconds a key spends at most ``limit`` units. A call that would go
    over is refused and blocks the key for ``block`` seconds, doubled at each later offence
    (``block * 2**(offences-1)``); while blocked every call is refused and nothing is booked. The
    check and the booking happen in one synchronous step, so concurrent handlers cannot both pass.
    ``clock`` is injectable (tests drive it; never sleep).
    """

    def __init__(self, limit: int, window: float = 60.0, block: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0 or block <= 0:
            raise ValueError("limit, window and block must be positive")
        self.limit = limit
        self.window = window
        self.block = block
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}

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
            st.offences += 1
            st.blocked_until = now + self.block * 2 ** (st.offences - 1)
            return Decision(False, st.blocked_until, new_block=True)
        st.spent.append((now, cost))
        st.used += cost
        return Decision(True)

    def used(self, key: str) -> int:
        """Units ``key`` has spent in the current window."""
        st = self._keys.get(key)
        if st is None:
            return 0
        horizon = self._clock() - self.window
        return sum(c for t, c in st.spent if t > horizon)

    def reset(self) -> None:
        self._keys.clear()


def latency_middleware(latency_ms: float) -> Callable[..., Any]:
    """A middleware delaying every non-control answer by ``latency_ms`` (a timer, no busy wait)."""
    delay = max(float(latency_ms), 0.0) / 1000.0

    @web.middleware
    async def _latency(request: web.Request, handler: Handler) -> web.StreamResponse:
        if delay and not request.path.startswith(CONTROL_PREFIX):
            await asyncio.sleep(delay)
        return await handler(request)

    return _latency


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def loads_exact(raw: bytes | str) -> Any:
    """Parse JSON with every non-integer number as ``Decimal`` (never float); NaN/Infinity refused."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


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
