"""A value fetched on demand and kept a while, with one fetch in flight at a time (single flight).

Every provider keeps some data this way: currency and pair lists, rates exports, fee tables, a
rate per pair, recent estimates. :class:`TtlCache` is that one mechanism; what differs between
them is policy, given to the constructor. :class:`KeyedTtlCache` keeps one per key.

How :meth:`TtlCache.get` answers, in this order:

1. **Not due yet** (``ttl`` seconds after a success, ``retry`` after a remembered failure) and
   ``fresh`` not asked: the value, after a success; after a remembered failure, the last good
   value if it is ``stale`` seconds old at most, else that failure again. Nothing is fetched.
2. **Due**, with ``background`` and a value at most ``stale`` seconds old: that value at once,
   and a fetch starts behind it (stale-while-revalidate).
3. **Otherwise** the caller waits for the fetch (the one in flight, or a new one): its value; if
   it fails with a :class:`~router.errors.ProviderError`, the last good value if it is at most
   ``stale`` seconds old, else the error.

Single flight: concurrent callers wait on one task through :func:`asyncio.shield`, so a caller
that is cancelled never cancels the fetch for the others; only :meth:`~TtlCache.aclose` does.

Failures: a :class:`~router.errors.ProviderError` that is an instance of ``remember`` is
remembered for ``retry`` seconds, or for its ``retry_after`` when that is longer
(``retry=None``: never remembered, the next caller tries again). Any other exception (a bug, a
closed client, a cancellation) reaches the callers of that fetch and is never remembered.

Disk (``persist``, a :class:`router.sources.bulkstore.Persisted`): before the first fetch, a value
saved by an earlier run is read back and used if it is younger than ``ttl`` (its age counts
against the TTL, so it is never kept longer than a fetched one); an older or corrupt file is
ignored, and every successful fetch is saved over it. The provider is asked only when the disk
has nothing fresh.

Time: ``clock()`` in seconds (monotonic by default; tests hand in a fake). ``ttl`` and ``retry``
count from the end of the fetch, or from its start with ``from_start``; a value's age, which
``stale`` bounds, always counts from the end of the fetch that brought it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from router.errors import ProviderError

if TYPE_CHECKING:  # pragma: no cover
    from router.sources.bulkstore import Persisted, Saved

__all__ = ["KeyedTtlCache", "TtlCache"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class TtlCache(Generic[T]):
    """One value from ``fetch``; see the module docstring for the policy arguments.

    The defaults are the lists' policy: fresh ``ttl`` seconds, a failure remembered 30 s (or
    the provider's ``retry_after``), the last good value, however old, standing in for a failure.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        *,
        ttl: float,
        retry: float | None = 30.0,
        remember: type[ProviderError] | tuple[type[ProviderError], ...] = ProviderError,
        stale: float | None = math.inf,
        background: bool = False,
        from_start: bool = False,
        clock: Callable[[], float] = time.monotonic,
        persist: Persisted[T] | None = None,
    ) -> None:
        for what, value in (("ttl", ttl), ("retry", retry), ("stale", stale)):
            if value is not None and not value >= 0:  # NaN too
                raise ValueError(f"{what} must be >= 0 seconds")
        self._source = fetch
        self._ttl = ttl
        self._retry = retry
        self._remember = remember
        self._stale = stale
        self._background = background
        self._from_start = from_start
        self._clock = clock
        self._value: T | None = None
        self._fetched_at: float | None = None  # clock() at the end of the fetch that brought it
        self._error: ProviderError | None = None  # the remembered failure, if any
        self._due_at = -math.inf  # clock() when a fetch is due
        self._started_at = 0.0  # clock() when the fetch in flight started
        self._flight: asyncio.Task[T] | None = None
        self._closed = False
        self._persist = persist
        self._disk_read = persist is None  # True once the disk had its one chance
        self._disk_lock: asyncio.Lock | None = None
        #: Fetches started so far.
        self.fetches = 0

    # -- reading ------------------------------------------------------------------------------
    @property
    def last(self) -> T | None:
        """The last value fetched, however old (``None`` before the first); never does I/O."""
        return self._value

    @property
    def fetched_at(self) -> float | None:
        """``clock()`` when :attr:`last` was fetched (``None`` before the first)."""
        return self._fetched_at

    def peek(self) -> T | None:
        """The value :meth:`get` could serve without waiting (fresh, or within ``stale``), else
        ``None``; never does I/O."""
        now = self._clock()
        return self._value if self._fresh(now) else self._standin(now)

    def expired(self) -> bool:
        """No fetch in flight and nothing fresh or remembered: dropping this cache loses only
        what ``stale`` would have kept."""
        return self._flight is None and self._clock() >= self._due_at

    async def get(self, *, fresh: bool = False) -> T:
        """The value, by the rules of the module docstring; ``fresh`` skips rule 1 (a fetch in
        flight is still shared). Raises the fetch's error; ``RuntimeError`` once closed."""
        self._check_open()
        if not self._disk_read:
            await self._from_disk()
        now = self._clock()
        if not fresh and now < self._due_at:
            if self._error is None:
                if self._value is not None:
                    return self._value
            else:
                standin = self._standin(now)
                if standin is None:
                    raise self._error.with_traceback(None)
                return standin
        standin = self._standin(now) if self._background and not fresh else None
        if standin is not None:
            self._start()
            return standin
        try:
            return await asyncio.shield(self._start())
        except ProviderError:
            standin = self._standin(self._clock())
            if standin is None:
                raise
            return standin

    async def refresh(self, *, force: bool = False) -> None:
        """Fetch now if due (or ``force``), sharing a fetch in flight, and wait for it. Provider
        errors are not raised (they are remembered by the policy; :meth:`get` raises them)."""
        self._check_open()
        if not self._disk_read and not force:
            await self._from_disk()
        if force or self._flight is not None or self._clock() >= self._due_at:
            try:
                await asyncio.shield(self._start())
            except ProviderError:
                pass

    async def aclose(self) -> None:
        """Cancel a fetch in flight; idempotent. Later calls raise ``RuntimeError``."""
        self._closed = True
        flight, self._flight = self._flight, None
        if flight is not None and not flight.done():
            flight.cancel()
            await asyncio.gather(flight, return_exceptions=True)

    # -- disk -------------------------------------------------------------------------------
    async def _from_disk(self) -> None:
        if self._disk_lock is None:
            self._disk_lock = asyncio.Lock()
        async with self._disk_lock:
            if self._disk_read or self._persist is None:
                return
            self._disk_read = True
            saved = await self._persist.load()
            if saved is not None and self._value is None:
                self._adopt(saved)

    def _adopt(self, saved: Saved[T]) -> None:
        """Use a value read back from disk: only while younger than ``ttl``."""
        if saved.age < self._ttl:
            self._value, self._error = saved.value, None
            self._fetched_at = self._clock() - saved.age
            self._due_at = self._fetched_at + self._ttl

    async def _save(self, value: T) -> None:
        """Keep a fetched value on disk (a subclass adds ``meta``)."""
        if self._persist is not None:
            await self._persist.save(value)

    # -- plumbing -----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")

    def _fresh(self, now: float) -> bool:
        return self._value is not None and self._error is None and now < self._due_at

    def _standin(self, now: float) -> T | None:
        """The last good value if it may stand in (for a failure, or while refreshing)."""
        if (self._stale is not None and self._fetched_at is not None
                and now - self._fetched_at <= self._stale):
            return self._value
        return None

    def _start(self) -> asyncio.Task[T]:
        if self._flight is None:
            self.fetches += 1
            self._started_at = self._clock()
            self._flight = asyncio.ensure_future(self._run())
            self._flight.add_done_callback(self._landed)
        return self._flight

    async def _run(self) -> T:
        started = self._started_at
        try:
            value = await self._source()
        except ProviderError as exc:
            if self._retry is not None and isinstance(exc, self._remember):
                wait = max(self._retry, getattr(exc, "retry_after", None) or 0.0)
                self._error = exc
                self._due_at = (started if self._from_start else self._clock()) + wait
            raise
        ended = self._clock()
        self._value, self._fetched_at, self._error = value, ended, None
        self._due_at = (started if self._from_start else ended) + self._ttl
        self._disk_read = True  # a live value beats anything on disk
        await self._save(value)
        return value

    def _landed(self, flight: asyncio.Task[T]) -> None:
        if self._flight is flight:
            self._flight = None
        if not flight.cancelled():
            flight.exception()  # retrieved, even when every caller has gone


class KeyedTtlCache(Generic[K, T]):
    """One :class:`TtlCache` per key, made by ``make(key)`` on first use.

    With ``limit``, making a new one while ``limit`` or more are kept first drops those that
    have :meth:`~TtlCache.expired`.
    """

    def __init__(self, make: Callable[[K], TtlCache[T]], *, limit: int | None = None) -> None:
        self._make = make
        self._limit = limit
        self._caches: dict[K, TtlCache[T]] = {}
        self._closed = False
        self._dropped_fetches = 0

    @property
    def fetches(self) -> int:
        """Fetches started so far, for every key."""
        return self._dropped_fetches + sum(c.fetches for c in self._caches.values())

    def peek(self, key: K) -> T | None:
        """``key``'s :meth:`TtlCache.peek`; never does I/O."""
        cache = self._caches.get(key)
        return cache.peek() if cache is not None else None

    async def get(self, key: K, *, fresh: bool = False) -> T:
        """``key``'s :meth:`TtlCache.get`."""
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        cache = self._caches.get(key)
        if cache is None:
            if self._limit is not None and len(self._caches) >= self._limit:
                for old in [k for k, c in self._caches.items() if c.expired()]:
                    self._dropped_fetches += self._caches.pop(old).fetches
            cache = self._caches[key] = self._make(key)
        return await cache.get(fresh=fresh)

    async def aclose(self) -> None:
        """Cancel every fetch in flight; idempotent. Later calls raise ``RuntimeError``."""
        self._closed = True
        caches = list(self._caches.values())
        await asyncio.gather(*(c.aclose() for c in caches))
