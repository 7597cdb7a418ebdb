"""Firm-quote reuse shared by processes through Redis: one provider call for every process asking.

:class:`RedisQuoteCache` is a :class:`~router.sources.firmcache.QuoteCache` with the memory
cache's rules (a firm quote is reused until the earlier of its ``expires_at`` and ``max_age``
seconds after it was fetched; errors are never stored) kept in Redis, where every process using
the same server and prefix sees them:

* **In-process first.** It is a :class:`MemoryQuoteCache` whose fetch goes through Redis: local
  concurrent asks share one flight (only that flight talks to Redis), and a quote read from Redis
  is kept locally no longer than the Redis entry it came from.
* **Keys.** The cache key (``(provider, market, amount, side)`` from :mod:`router.sources.calls`)
  is written as canonical JSON (msgspec, sorted maps and sets, ``Decimal`` via ``str``: ``0.5``
  and ``0.50`` are different keys, which only costs a miss), hashed with SHA-256::

      {prefix:fq1:provider:sha256}:quote   the entry: msgpack of (valid_until, fetched_at, Quote)
      {prefix:fq1:provider:sha256}:lock    the single-flight lock: a random token

  ``fq1`` is the format version (a new format gets a new name, never misreads an old entry); the
  hash tag puts both keys of one ask in one cluster slot. ``Decimal`` fields cross as strings,
  so amounts come back exact.
* **Lifetime.** An entry is written with ``PX`` = ``valid_until - now`` where ``valid_until =
  min(now + max_age, expires_at)``, and ``valid_until`` is stored in it: a reader checks it (and
  the quote's own ``expires_at``) against its clock too, so nothing is served past its expiry even
  if the clocks of writer and Redis differ. ``clock=`` (seconds, default ``time.time``) is for
  tests; ``PX`` runs on the server's real clock, so an injected clock must not run slower than
  real time (a fake clock stepped forward, ahead of it, works: the entry is then rejected on read
  before Redis drops it).
* **Single flight across processes.** A process that misses takes the lock (``SET NX PX
  lock_ttl``), fetches, stores and releases it in one script that deletes the lock only if it
  still holds its own token. The others poll the entry (a few ms, doubling up to 100 ms) for up
  to ``wait`` seconds (default: the lock's TTL); when the lock goes with no entry (the holder
  failed: errors are not cached) one of them takes it; when the wait runs out they fetch
  themselves.
* **Redis failing never fails a quote.** Any Redis error (refused, timeout, a reply that does
  not decode) makes that ask fetch directly, and Redis is left alone for ``retry_after`` seconds
  (quotes still single-flight in-process). The first failure is logged once at WARNING, with the
  error's type only: never the URL, which may hold a password.

The key names the provider, not the credential (the cache key has none): processes that share
a server and prefix share firm quotes even under different accounts of one provider. Give fleets
on different accounts different prefixes, as their budgets would want anyway.

Needs ``redis`` (redis-py >= 5, ``redis.asyncio``), imported only when a URL is given.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

import msgspec

from router.errors import ConfigError
from router.model import Quote
from router.sources.firmcache import MemoryQuoteCache

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster
    from redis.commands.core import AsyncScript

__all__ = ["RedisQuoteCache", "shared_key"]

log = logging.getLogger("bestrate.router")

#: The entry format's version, part of every key name.
VERSION = "fq1"
#: Polling a lock held elsewhere: first delay and longest delay (seconds).
_POLL_MIN = 0.005
_POLL_MAX = 0.1
_PLAIN = re.compile(r"[A-Za-z0-9_.-]{1,64}")

# KEYS: entry, lock; ARGV: entry bytes, ttl ms, token. Store, then release our lock only.
_STORE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""
# KEYS: lock; ARGV: token. Compare and delete.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _Entry(msgspec.Struct, frozen=True, array_like=True):
    valid_until: float
    fetched_at: float
    quote: Quote


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Entry).decode


class _GaveUp(Exception):
    """The wait for another process's answer ran out."""


def shared_key(prefix: str, key: Hashable) -> str | None:
    """The base name of ``key``'s Redis keys (``{prefix:fq1:provider:sha256}``), or ``None``
    when it has no canonical form (such a key is cached in-process only)."""
    try:
        canonical = msgspec.json.encode(key, order="deterministic")
    except (TypeError, ValueError):
        return None
    provider = key[0] if isinstance(key, tuple) and key else ""
    label = provider if isinstance(provider, str) and _PLAIN.fullmatch(provider) else "-"
    return f"{{{prefix}:{VERSION}:{label}:{hashlib.sha256(canonical).hexdigest()}}}"


class RedisQuoteCache(MemoryQuoteCache):
    """A :class:`QuoteCache` in Redis, for several processes quoting the same markets (see the
    module doc).

    ``url_or_client``: a ``redis://`` URL (the cache creates the client, with ``timeout``-second
    socket timeouts, and closes it in :meth:`aclose`) or a ``redis.asyncio`` client (the caller
    closes it; it must not decode responses). ``prefix`` namespaces the keys (the budget store's prefix can be shared: the names
    differ). ``lock_ttl``: how long a process may hold an ask's lock; ``wait``: how long the
    others wait for its answer before fetching themselves. Counters (besides the memory cache's
    ``hits``/``misses``/``shared``): ``remote_hits``, ``fetched`` (as the lock holder),
    ``waited`` (answers that arrived while waiting), ``gave_up``, ``direct`` (fetched without
    Redis: down, or a key with no canonical form), ``failures``.
    """

    def __init__(self, url_or_client: str | Redis | RedisCluster, *, prefix: str = "bestrate",
                 max_age: float = 10.0, max_entries: int = 10_000, lock_ttl: float = 5.0,
                 wait: float | None = None, retry_after: float = 5.0, timeout: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigError("budgets.redis.prefix", f"got {prefix!r}",
                              "a non-empty string without braces")
        super().__init__(max_age=max_age, max_entries=max_entries, clock=clock)
        if isinstance(url_or_client, str):
            # here: redis is needed only with a Redis store
            from redis.asyncio import Redis

            self._client: Redis | RedisCluster = Redis.from_url(
                url_or_client, socket_timeout=timeout, socket_connect_timeout=timeout)
            self._owned = True
        else:
            self._client = url_or_client
            self._owned = False
        self._prefix = prefix
        self._lock_ms = max(1, int(lock_ttl * 1000))
        self._wait = lock_ttl if wait is None else wait
        self._retry_after = retry_after
        self._timeout = timeout
        self._store_script: AsyncScript = self._client.register_script(_STORE)
        self._release_script: AsyncScript = self._client.register_script(_RELEASE)
        self._until: dict[Hashable, float] = {}  # a flight's Redis validity, for the local copy
        self._down_until = float("-inf")  # loop time until which Redis is not asked
        self._warned = False
        self.remote_hits = 0
        self.fetched = 0
        self.waited = 0
        self.gave_up = 0
        self.direct = 0
        self.failures = 0

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisQuoteCache:
        """A cache on its own client for ``url`` (closed by :meth:`aclose`)."""
        return cls(url, **options)

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"RedisQuoteCache(prefix={self._prefix!r})"

    # -- the QuoteCache protocol -----------------------------------------------------------------
    async def get_or_fetch(self, key: Hashable, fetch: Callable[[], Awaitable[Quote]]) -> Quote:
        return await super().get_or_fetch(key, lambda: self._shared(key, fetch))

    def _store(self, key: Hashable, quote: Quote, limit: float | None = None) -> None:
        until = self._until.pop(key, None)
        if until is not None:
            limit = until if limit is None else min(limit, until)
        super()._store(key, quote, limit)

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            self._until.clear()
            if self._owned:
                await self._client.aclose()

    # -- one flight ------------------------------------------------------------------------------
    async def _shared(self, key: Hashable, fetch: Callable[[], Awaitable[Quote]]) -> Quote:
        """The flight of one in-process ask: a quote from Redis, or fetched (and stored there)
        by whichever process holds the lock."""
        base = shared_key(self._prefix, key)
        if base is None or asyncio.get_running_loop().time() < self._down_until:
            self.direct += 1
            return await fetch()
        entry_key, lock_key = base + ":quote", base + ":lock"
        token = secrets.token_hex(16)
        try:
            entry = await self._claim(entry_key, lock_key, token)
        except _GaveUp:  # waited in vain: the holder is slow or gone
            self.gave_up += 1
            return await fetch()
        except Exception as exc:  # noqa: BLE001 - Redis failing never fails a quote
            self._failed(exc)
            self.direct += 1
            return await fetch()
        if entry is not None:
            self._until[key] = entry.valid_until
            return entry.quote
        # we hold the lock: fetch, store, release (errors: release only, nothing is stored)
        self.fetched += 1
        try:
            quote = await fetch()
        except BaseException:
            await self._quietly(self._release_script(keys=[lock_key], args=[token]))
            raise
        now = self._clock()
        valid_until = now + self._max_age
        if quote.expires_at is not None:
            valid_until = min(valid_until, quote.expires_at)
        ttl_ms = int((valid_until - now) * 1000)
        if ttl_ms > 0:
            data = _encode(_Entry(valid_until, now, quote))
            await self._quietly(self._store_script(keys=[entry_key, lock_key],
                                                   args=[data, ttl_ms, token]))
            self._until[key] = valid_until
        else:
            await self._quietly(self._release_script(keys=[lock_key], args=[token]))
        return quote

    async def _claim(self, entry_key: str, lock_key: str, token: str) -> _Entry | None:
        """A fresh entry (stored by whoever held the lock), or ``None`` once we hold it;
        :class:`_GaveUp` when neither happened within ``wait``. Redis errors propagate."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._wait
        delay = _POLL_MIN
        first = True
        while True:
            async with asyncio.timeout(self._timeout):
                raw, holder = await self._client.mget(entry_key, lock_key)
            entry = self._fresh_entry(raw)
            if entry is not None:
                if first:
                    self.remote_hits += 1
                else:
                    self.waited += 1
                return entry
            if holder is None:
                async with asyncio.timeout(self._timeout):
                    if await self._client.set(lock_key, token, nx=True, px=self._lock_ms):
                        return None
            first = False
            if loop.time() >= give_up:
                raise _GaveUp
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)

    def _fresh_entry(self, raw: object) -> _Entry | None:
        if not isinstance(raw, bytes):  # None: no entry (a str: a client decoding responses)
            return None
        try:
            entry = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.debug("shared quote cache: an entry did not decode; fetching anew")
            return None
        now = self._clock()
        if now >= entry.valid_until:
            return None
        if entry.quote.expires_at is not None and now >= entry.quote.expires_at:
            return None
        return entry

    async def _quietly(self, call: Awaitable[Any]) -> None:
        """A Redis write whose failure only costs sharing (the quote is already in hand)."""
        try:
            async with asyncio.timeout(self._timeout):
                await call
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        self._down_until = asyncio.get_running_loop().time() + self._retry_after
        if not self._warned:
            self._warned = True
            log.warning("shared quote cache unavailable (%s); fetching firm quotes directly, "
                        "trying Redis again in %g s", type(exc).__name__, self._retry_after)
        else:
            log.debug("shared quote cache unavailable (%s)", type(exc).__name__)

