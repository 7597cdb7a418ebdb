"""The Redis budget store: the memory store's exact semantics, shared by processes and hosts.

Every operation is ONE Lua script (``lua/acquire.lua``, ``lua/penalize.lua``, ``lua/usage.lua``,
each with the shared prelude ``lua/common.lua``), loaded with :mod:`importlib.resources` and
registered once per store (EVALSHA, reloaded automatically after a ``SCRIPT FLUSH`` or restart).
Check and booking therefore happen atomically on the server, whatever the number of clients.

Keys, for budget key ``provider:credential`` under ``prefix``; the hash tag ``{...}`` puts the
keys of one budget in one cluster slot::

    {prefix:provider:credential}:log      sorted set: score = grant time, member = "cost:unique id"
    {prefix:provider:credential}:penalty  hash: paused_until (end of the last pause), level
    {prefix:provider:credential}:epoch    string "token since": the memory-loss marker, no TTL

Each call reads the key's whole log, which holds at most ``cap`` grants (every grant is at least
one unit and expired ones are pruned on every acquire), plus at most one synthetic grant per loss
(below). The log expires ``window + window_slack`` (plus a second) after the last grant, by when
every grant in it has left the window; the penalty hash expires once its pause is over and its
level forgiven (``penalty_decay`` later). Only the marker stays (a few bytes per budget key), and
a new store object (another process, or this one after a restart) sees the same log and the same
pause.

A lost memory (FLUSHALL / FLUSHDB, a restart without persistence, a failover to an empty
replica) would forget the grants of the last window, which the provider still counts, and the
next batch would spend the window again. So every script first runs a guard (``common.lua``):
the epoch marker is set on first use and never expires, and each store passes the marker it last
saw for the key. Missing or different means the memory was lost. The key is then treated as fully
spent for one horizon from the moment the loss was first noticed (one synthetic grant of ``cap``
units at that instant, the same member for every store, ``ZADD NX``, so detectors do not stack
seeds), the marker is re-created, and the store logs one WARNING per loss (not per key or call;
never the URL, which may hold a password). A key the store had not used yet is seeded from the
store's own loss instant. A process that first connects after the loss cannot tell, but it finds
the seeds the others wrote. None of this changes an answer while nothing is lost: the equivalence
with the memory store below still holds.

The clock is Redis's own ``TIME``, read inside the script, so hosts with skewed clocks still
agree. ``clock=`` (a callable returning seconds) replaces it for tests: its reading is sent as an
argument. TTLs still run on the server's clock, so an injected clock must not run slower than
real time (tests step a fake clock forward, far ahead of it).

Times cross the wire as ``repr`` / ``"%.17g"`` strings, which round-trip doubles exactly, and
Lua computes in the same IEEE doubles as Python: pruning (``t + horizon <= now``), the pause
arithmetic and the returned instants equal the memory store's bit for bit. The script returns
instants; the delay (``retry_after``) is computed here by the memory store's own ``_delay``.
Units are parsed with ``int``, never through a float.

Needs ``redis`` (redis-py >= 5, ``redis.asyncio``) and a Redis server >= 5 (script effects
replication, so ``TIME`` may precede writes). Redis errors (connection refused, timeouts)
propagate unchanged.
"""

from __future__ import annotations

import itertools
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from router.budgets.memory import _delay
from router.budgets.policy import BudgetPolicy, BudgetUsage, Decision
from router.errors import ConfigError, InvalidRequest

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster
    from redis.commands.core import AsyncScript

__all__ = ["RedisBudgetStore"]

log = logging.getLogger("bestrate.budgets")

#: Extra lifetime of every key beyond the moment it stops mattering (absorbs clock granularity).
_TTL_GRACE_MS = 1000

#: Pauses precomputed per policy with the memory store's formula (see :func:`_penalty_args`).
_PAUSE_TABLE = 64


@cache
def _script(name: str) -> str:
    """The source of one operation: the shared prelude, then the operation."""
    lua = resources.files(__package__).joinpath("lua")
    prelude = lua.joinpath("common.lua").read_text(encoding="utf-8")
    return prelude + "\n" + lua.joinpath(f"{name}.lua").read_text(encoding="utf-8")


def _num(value: float) -> str:
    """A float as text that parses back to the same double (in Lua's ``tonumber`` too)."""
    return repr(float(value))


@lru_cache(maxsize=256)
def _penalty_args(policy: BudgetPolicy) -> tuple[str, ...]:
    """``base, factor, max, final, pause(0), pause(1), ...`` for ``penalize.lua``.

    Each pause is ``min(base * factor ** level, max)`` computed exactly as the memory store does
    (Python int or float power, ``OverflowError`` as infinity). The table stops at the first
    pause that reaches ``max`` or when ``factor == 1`` (constant from there: ``final`` is "1"),
    else after :data:`_PAUSE_TABLE` levels; beyond that the script computes ``base * factor ^
    level`` with C ``pow``, which is what Python's ``float ** int`` calls.
    """
    pauses: list[str] = []
    final = "0"
    for level in range(_PAUSE_TABLE):
        try:
            pause = policy.penalty_base * policy.penalty_factor ** level
        except OverflowError:
            pause = math.inf
        pause = min(pause, policy.penalty_max)
        pauses.append(_num(pause))
        if pause >= policy.penalty_max or policy.penalty_factor == 1:
            final = "1"
            break
    return (_num(policy.penalty_base), _num(policy.penalty_factor), _num(policy.penalty_max),
            final, *pauses)


def _instant(seconds: float) -> str:
    """A clock reading (Unix seconds) as UTC ISO 8601, for a log line."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.3f} s"


def _text(value: object) -> str:
    """A reply element as ``str``, whether or not the client decodes responses."""
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, str):
        return value
    raise TypeError(f"unexpected reply element {value!r}")  # pragma: no cover


class RedisBudgetStore:
    """A :class:`~router.budgets.BudgetStore` in Redis, for several processes sharing a key.

    ``url_or_client``: a ``redis://`` URL (the store creates the client and closes it in
    :meth:`aclose`) or a ``redis.asyncio`` client (``Redis`` or ``RedisCluster``; the caller
    closes it). ``prefix`` namespaces the keys. ``clock`` is for tests only: production uses
    Redis's ``TIME`` (see the module doc).
    """

    def __init__(self, url_or_client: str | Redis | RedisCluster, *, prefix: str = "bestrate",
                 clock: Callable[[], float] | None = None) -> None:
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigError("budgets.redis.prefix", f"got {prefix!r}",
                              "a non-empty string without braces")
        if isinstance(url_or_client, str):
            from redis.asyncio import Redis  # here: redis is needed only by this store

            self._client: Redis | RedisCluster = Redis.from_url(url_or_client)
            self._owned = True
        else:
            self._client = url_or_client
            self._owned = False
        self._prefix = prefix
        self._clock = clock
        self._acquire: AsyncScript = self._client.register_script(_script("acquire"))
        self._penalize: AsyncScript = self._client.register_script(_script("penalize"))
        self._usage: AsyncScript = self._client.register_script(_script("usage"))
        self._token = secrets.token_hex(8)  # grant ids: unique across stores and processes
        self._ids = itertools.count()
        self._seen: dict[str, str] = {}  # budget key -> the epoch marker this store last saw
        self._lost_since: float | None = None  # when this store last noticed a memory loss
        self._warned_until = -math.inf  # the loss already warned about is over by then
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "bestrate",
                 clock: Callable[[], float] | None = None) -> RedisBudgetStore:
        """A store on its own client for ``url`` (closed by :meth:`aclose`)."""
        return cls(url, prefix=prefix, clock=clock)

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"RedisBudgetStore(prefix={self._prefix!r})"

    def keys(self, key: str) -> tuple[str, str, str]:
        """The Redis keys of budget ``key``: its log, its penalty hash and its epoch marker (one
        hash slot)."""
        # All names start with the same "{prefix:key}", so they share a slot even if ``key``
        # itself holds a brace.
        tag = f"{{{self._prefix}:{key}}}"
        return f"{tag}:log", f"{tag}:penalty", f"{tag}:epoch"

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("budget store is closed")

    async def check(self) -> None:
        """Reach the server (and authenticate): raises what redis-py raises."""
        self._check_open()
        await self._client.ping()

    def _now(self) -> str:
        """The ``now`` argument: empty for Redis ``TIME``, else the injected clock's reading."""
        return "" if self._clock is None else _num(self._clock())

    async def _run(self, script: AsyncScript, key: str, policy: BudgetPolicy,
                   args: Sequence[Any]) -> list[str]:
        """Run one operation behind the memory-loss guard; the operation's own reply."""
        self._check_open()
        seen = self._seen.get(key, "")
        lost_since = "" if seen or self._lost_since is None else _num(self._lost_since)
        reply = [_text(v) for v in await script(keys=list(self.keys(key)), args=[
            self._now(), seen, self._token, lost_since, policy.cap, _num(policy.horizon),
            _TTL_GRACE_MS, *args])]
        status, marker, since = reply[:3]
        self._seen[key] = marker
        if status == "lost":
            self._lost(float(since), policy)
        return reply[3:]

    def _lost(self, since: float, policy: BudgetPolicy) -> None:
        """Remember a memory loss noticed at ``since`` (Redis time); warn once per loss."""
        if self._lost_since is None or since > self._lost_since:
            self._lost_since = since
        until = since + policy.horizon
        if since < self._warned_until:
            return  # the same loss, seen on another key
        self._warned_until = until
        # Never the URL (it may hold a password): the prefix names the store well enough.
        log.warning("budget store lost its memory (Redis flushed or restarted; prefix %r); "
                    "treating every budget as spent until %s", self._prefix, _instant(until))

    async def try_acquire(self, key: str, cost: int, policy: BudgetPolicy, *,
                          reserved: bool = False) -> Decision:
        """Grant ``cost`` units now, or say why not and for how long, exactly as
        :meth:`MemoryBudgetStore.try_acquire <router.budgets.MemoryBudgetStore.try_acquire>`."""
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise InvalidRequest("cost", f"must be a positive integer, got {cost!r}", ">= 1")
        self._check_open()
        allowed = policy.allowed(reserved=reserved)
        if cost > allowed:
            return Decision(False, math.inf, "too_large")
        log_ttl_ms = math.ceil(policy.horizon * 1000) + _TTL_GRACE_MS
        member = f"{cost}:{self._token}.{next(self._ids)}"
        reply = await self._run(self._acquire, key, policy, (
            cost, allowed, _num(policy.horizon), _num(policy.penalty_decay), log_ttl_ms, member))
        if reply[0] == "ok":
            return Decision(True)
        now, at = float(reply[1]), float(reply[2])
        if reply[0] == "rate_limited":
            return Decision(False, _delay(now, at), "rate_limited")
        return Decision(False, _delay(now, at + policy.horizon), "budget_exhausted")

    async def penalize(self, key: str, policy: BudgetPolicy,
                       retry_after: float | None = None) -> float:
        """Pause ``key`` and raise its level, exactly as
        :meth:`MemoryBudgetStore.penalize <router.budgets.MemoryBudgetStore.penalize>`."""
        given = ""
        if retry_after is not None and math.isfinite(retry_after):
            given = _num(retry_after)
        now, until = await self._run(self._penalize, key, policy, (
            _num(policy.penalty_decay), given, _TTL_GRACE_MS, *_penalty_args(policy)))
        return _delay(float(now), float(until))

    async def usage(self, key: str, policy: BudgetPolicy) -> BudgetUsage:
        """Units used in the current window, the cap, what a normal call may take, the pause."""
        now, used_text, until, level = await self._run(self._usage, key, policy, (
            _num(policy.horizon), _num(policy.penalty_decay)))
        used = int(used_text)
        return BudgetUsage(
            used=used,
            cap=policy.cap,
            available=max(0, policy.allowed() - used),
            paused_for=_delay(float(now), float(until)) if until else 0.0,
            penalty_level=int(level),
        )

    async def aclose(self) -> None:
        """Refuse further use and close the client if this store created it. Idempotent.

        The state stays in Redis (that is the point); the TTLs clean it up."""
        if self._closed:
            return
        self._closed = True
        if self._owned:
            await self._client.aclose()
