"""The local budget store: the memory store's exact semantics in one SQLite file, shared by every
process on the machine (the CLI's default).

Two CLI runs, a cron job and four batch workers on one host then draw on one budget per provider
credential, as the provider counts it. The file lives in the user's cache directory
(:func:`default_path`: ``$BESTRATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/bestrate``, else
``~/.cache/bestrate``; ``budgets.sqlite3``), created with mode 0600 in a 0700 directory.

Each operation is one ``BEGIN IMMEDIATE`` transaction: it takes the database's write lock first,
then reads the clock, prunes, decides and books, then commits, so processes are serialised exactly
as the memory store's critical section serialises coroutines. The arithmetic is the memory store's
(``t + horizon <= now`` in IEEE doubles, which SQLite's REAL is; delays by the same ``_delay``), so
a sequence of calls gets the same answers from either store. The clock is the wall clock
(``time.time``), the one every process shares; ``clock=`` replaces it for tests.

Tables: ``grants(key, t, cost)`` (the sliding log, indexed by key and time),
``penalty(key, paused_until, level)``, and ``lost(since)`` / ``lost_seeded(key)`` for a lost
memory (below). WAL journal, ``synchronous=NORMAL``: a committed grant survives any process crash
(an OS crash or power loss may lose the last few).

A file deleted or replaced while processes run (``rm -rf ~/.cache/bestrate``, a restored backup)
would split them: each process that has it open keeps writing to the unlinked ghost, and new
processes start an empty file at the path and spend the window again. So before each transaction
the store compares the path's ``st_dev``/``st_ino`` with the file it opened (one ``stat``). On a
mismatch it drops the ghost's connection (SQLite does not checkpoint or delete the WAL of a moved
file on close), opens or creates the file at the path, dates the loss there (``lost``: the first
process to notice sets it, the others keep that date) and logs one WARNING. Every key touched
within one horizon of that date is then seeded once with a synthetic grant of ``cap`` units at
it, so it is fully spent until one horizon has passed, in this process, in the others that had
the ghost open, and in processes started afterwards, which read ``lost`` too. SQLite is blocking,
so every call runs on the store's own worker thread; the event loop never waits on the file lock.
SQLite errors (a locked database past ``timeout``, a full disk, a corrupt file) propagate as
:class:`sqlite3.Error`; :class:`~router.budgets.Budget` reports them as the store's failure.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from router.budgets.memory import _delay, penalty_pause
from router.budgets.policy import BudgetPolicy, BudgetUsage, Decision
from router.errors import InvalidRequest

__all__ = ["LocalBudgetStore", "default_path"]

log = logging.getLogger("bestrate.budgets")

T = TypeVar("T")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS grants (key TEXT NOT NULL, t REAL NOT NULL, cost INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS grants_by_key ON grants (key, t);
CREATE TABLE IF NOT EXISTS penalty (
    key TEXT PRIMARY KEY, paused_until REAL NOT NULL, level INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lost (id INTEGER PRIMARY KEY CHECK (id = 0), since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS lost_seeded (key TEXT PRIMARY KEY);
"""
_NEVER: Final = -math.inf


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _instant(seconds: float) -> str:
    """A wall-clock reading as UTC ISO 8601, for a log line."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.3f} s"


def default_path() -> Path:
    """Where the CLI keeps its budgets: see the module docstring."""
    base = os.environ.get("BESTRATE_CACHE_DIR")
    if base:
        return Path(base) / "budgets.sqlite3"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "bestrate" / "budgets.sqlite3"


class LocalBudgetStore:
    """A :class:`~router.budgets.BudgetStore` in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 clock: Callable[[], float] = time.time, timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._clock = clock
        self._timeout = timeout
        self._conn: sqlite3.Connection | None = None  # opened on the worker thread
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file we opened
        self._replaced = False  # the file was deleted or replaced under us: record the loss
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bestrate-budgets")
        self._closed = False

    def __repr__(self) -> str:
        return f"LocalBudgetStore({str(self.path)!r})"

    # -- plumbing ---------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is not None and self._moved():
            # Deleted or replaced while open: our connection writes to a ghost that no new
            # process sees. Drop it (SQLite neither checkpoints nor deletes the WAL of a moved
            # file on close) and use the file at the path, as every other process will.
            self._conn.close()
            self._conn = None
            self._replaced = True
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                self.path.touch(mode=0o600)
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self._identity = _identity(self.path)
        return self._conn

    def _moved(self) -> bool:
        """Whether the path no longer names the file we opened (one ``stat``)."""
        try:
            return _identity(self.path) != self._identity
        except FileNotFoundError:
            return True

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError("budget store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _transaction(self, policy: BudgetPolicy,
                     body: Callable[[sqlite3.Connection, float], T]) -> T:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # the write lock first, then the clock
        try:
            now = self._clock()
            since = self._record_loss(db, now, policy) if self._replaced else None
            out = body(db, now)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        if since is not None:
            self._replaced = False
            log.warning("budget store lost its memory (the file %s was deleted or replaced "
                        "while open); treating every budget as spent until %s", self.path,
                        _instant(since + policy.horizon))
        return out

    @staticmethod
    def _record_loss(db: sqlite3.Connection, now: float, policy: BudgetPolicy) -> float:
        """Date the loss in the file at the path: ``now``, unless another process noticed the
        same loss first (its date, less than one horizon old, stands); returns the date."""
        row = db.execute("SELECT since FROM lost").fetchone()
        if row is not None and row[0] <= now < row[0] + policy.horizon:
            return float(row[0])
        db.execute("DELETE FROM lost_seeded")
        db.execute("INSERT OR REPLACE INTO lost (id, since) VALUES (0, ?)", (now,))
        return now

    @staticmethod
    def _prune(db: sqlite3.Connection, key: str, now: float,
               policy: BudgetPolicy) -> tuple[int, float, int]:
        """Drop the grants out of the window, forgive an old level; (used, paused_until, level).

        After a recorded memory loss (table ``lost``), a key first touched within one horizon
        of it gets one synthetic grant of ``cap`` units at the loss: spent until it expires."""
        row = db.execute("SELECT since FROM lost").fetchone()
        if row is not None and row[0] + policy.horizon > now and db.execute(
                "INSERT OR IGNORE INTO lost_seeded (key) VALUES (?)", (key,)).rowcount == 1:
            db.execute("INSERT INTO grants (key, t, cost) VALUES (?, ?, ?)",
                       (key, row[0], policy.cap))
        db.execute("DELETE FROM grants WHERE key = ? AND t + ? <= ?", (key, policy.horizon, now))
        (used,) = db.execute("SELECT COALESCE(SUM(cost), 0) FROM grants WHERE key = ?",
                             (key,)).fetchone()
        row = db.execute("SELECT paused_until, level FROM penalty WHERE key = ?",
                         (key,)).fetchone()
        paused_until, level = (row[0], row[1]) if row is not None else (_NEVER, 0)
        if level and now - paused_until >= policy.penalty_decay:
            level = 0
            db.execute("UPDATE penalty SET level = 0 WHERE key = ?", (key,))
        return int(used), float(paused_until), int(level)

    # -- the store --------------------------------------------------------------------------
    async def check(self) -> None:
        """Open (or create) the file and read it: raises what opening it raises."""
        await self._run(lambda: self._db().execute("SELECT COUNT(*) FROM grants").fetchone())

    async def try_acquire(self, key: str, cost: int, policy: BudgetPolicy, *,
                          reserved: bool = False) -> Decision:
        """As :meth:`MemoryBudgetStore.try_acquire`, across processes."""
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise InvalidRequest("cost", f"must be a positive integer, got {cost!r}", ">= 1")
        allowed = policy.allowed(reserved=reserved)
        if cost > allowed:
            return Decision(False, math.inf, "too_large")

        def body(db: sqlite3.Connection, now: float) -> Decision:
            used, paused_until, _ = self._prune(db, key, now, policy)
            if now < paused_until:
                return Decision(False, _delay(now, paused_until), "rate_limited")
            if used + cost > allowed:
                need, freed = used + cost - allowed, 0
                for granted_at, units in db.execute(
                        "SELECT t, cost FROM grants WHERE key = ? ORDER BY t, rowid", (key,)):
                    freed += units
                    if freed >= need:
                        return Decision(False, _delay(now, granted_at + policy.horizon),
                                        "budget_exhausted")
                raise AssertionError("need exceeds the units in the window")  # pragma: no cover
            db.execute("INSERT INTO grants (key, t, cost) VALUES (?, ?, ?)", (key, now, cost))
            return Decision(True)

        return await self._run(self._transaction, policy, body)

    async def penalize(self, key: str, policy: BudgetPolicy,
                       retry_after: float | None = None) -> float:
        """As :meth:`MemoryBudgetStore.penalize`, across processes."""
        def body(db: sqlite3.Connection, now: float) -> float:
            _, paused_until, level = self._prune(db, key, now, policy)
            until = max(paused_until, now + penalty_pause(policy, level, retry_after))
            db.execute("INSERT INTO penalty (key, paused_until, level) VALUES (?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET paused_until = excluded.paused_until, "
                       "level = excluded.level", (key, until, level + 1))
            return _delay(now, until)

        return await self._run(self._transaction, policy, body)

    async def usage(self, key: str, policy: BudgetPolicy) -> BudgetUsage:
        """As :meth:`MemoryBudgetStore.usage`, across processes."""
        def body(db: sqlite3.Connection, now: float) -> BudgetUsage:
            used, paused_until, level = self._prune(db, key, now, policy)
            return BudgetUsage(used=used, cap=policy.cap,
                               available=max(0, policy.allowed() - used),
                               paused_for=_delay(now, paused_until), penalty_level=level)

        return await self._run(self._transaction, policy, body)

    async def aclose(self) -> None:
        """Close the file; further use raises ``RuntimeError``. Idempotent."""
        if self._closed:
            return
        self._closed = True

        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=False)
