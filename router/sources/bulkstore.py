"""Bulk data on disk: provider lists and rates kept between runs, with their freshness.

A CLI run that starts within a list's TTL of the last one reads that list from here instead of
spending budget units on it again. The store is bestrate's own part, so its trouble is said as
such (a directory that cannot be written is logged once, and the run goes on without it); a file
that cannot be trusted is ignored and replaced by the next fetch, never used:

* one file per (provider, endpoint, credential fingerprint, list), so two sandboxes or two keys
  never read each other's data; the name carries a digest, never the key;
* a header line (format version, provider, list name, when it was saved in unix seconds, the
  SHA-256 of the payload, and free-form ``meta`` such as an ``ETag``) and the payload;
* a file from another version, for another list, with a checksum that does not match, saved in
  the future, or whose payload does not decode is corrupt: ignored;
* written to a temporary file in the same directory and renamed over the old one, so a reader
  sees the old file or the new one, never half of one; directories are created 0700.

Freshness is the caller's rule (:class:`Persisted` returns the age; :class:`adapters.cache.TtlCache`
uses a saved value only while it is younger than its TTL). I/O runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import orjson

__all__ = ["BulkStore", "Persisted", "Saved"]

_log = logging.getLogger(__name__)
_VERSION = 1
#: A file saved further ahead than this (clock steps) is not believed.
_FUTURE_SLACK = 60.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Saved(Generic[T]):
    """A value read back from disk, its age in seconds and the ``meta`` saved with it."""

    value: T
    age: float
    meta: Mapping[str, str]


class BulkStore:
    """Files under ``directory`` (created on first save). ``wall()`` gives unix seconds."""

    def __init__(self, directory: str | os.PathLike[str], *,
                 wall: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self._wall = wall
        self._warned = False
        #: Files read back and trusted, files ignored as corrupt, files written (for reports).
        self.loaded = self.rejected = self.saved = 0

    def __repr__(self) -> str:
        return f"BulkStore({str(self.directory)!r})"

    def persisted(self, provider: str, scope: str, name: str, *, encode: Callable[[T], bytes],
                  decode: Callable[[bytes], T]) -> Persisted[T]:
        """The file of list ``name`` of ``provider`` under ``scope`` (endpoint and credential
        fingerprint: hashed into the file name, never written out)."""
        digest = hashlib.sha256(f"{provider}\0{scope}".encode()).hexdigest()[:16]
        path = self.directory / f"{provider}-{digest}-{name}.bulk"
        return Persisted(self, path, provider, name, encode, decode)

    # -- file I/O (worker thread) -------------------------------------------------------------
    def _read(self, path: Path, provider: str, name: str) -> tuple[bytes, float, dict[str, str]] | None:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn("read", exc)
            return None
        head, sep, payload = blob.partition(b"\n")
        try:
            header = orjson.loads(head) if sep else None
        except orjson.JSONDecodeError:
            header = None
        if not (isinstance(header, dict) and header.get("v") == _VERSION
                and header.get("provider") == provider and header.get("name") == name
                and isinstance(header.get("saved_at"), float | int)
                and header.get("sha256") == hashlib.sha256(payload).hexdigest()
                and isinstance(header.get("meta", {}), dict)):
            self.rejected += 1
            _log.info("bulk cache: ignoring %s (corrupt or from another version)", path.name)
            return None
        meta = {str(k): str(v) for k, v in header.get("meta", {}).items()}
        return payload, float(header["saved_at"]), meta

    def _write(self, path: Path, provider: str, name: str, payload: bytes,
               meta: Mapping[str, str]) -> None:
        header = orjson.dumps({"v": _VERSION, "provider": provider, "name": name,
                               "saved_at": self._wall(), "meta": dict(meta),
                               "sha256": hashlib.sha256(payload).hexdigest()})
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(header + b"\n" + payload)
            os.replace(tmp, path)
        except OSError as exc:
            self._warn("write", exc)
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            return
        self.saved += 1

    def _warn(self, what: str, exc: OSError) -> None:
        if not self._warned:
            self._warned = True
            _log.warning("bestrate's bulk cache at %s cannot %s (%s); going on without it",
                         self.directory, what, type(exc).__name__)


class Persisted(Generic[T]):
    """One list's file: :meth:`load` what was saved (``None``: absent or not to be trusted),
    :meth:`save` a new value. Neither raises: the store's trouble is logged, not a failure."""

    def __init__(self, store: BulkStore, path: Path, provider: str, name: str,
                 encode: Callable[[T], bytes], decode: Callable[[bytes], T]) -> None:
        self._store, self.path, self._provider, self._name = store, path, provider, name
        self._encode, self._decode = encode, decode

    async def load(self) -> Saved[T] | None:
        read = await asyncio.to_thread(self._store._read, self.path, self._provider, self._name)
        if read is None:
            return None
        payload, saved_at, meta = read
        age = self._store._wall() - saved_at
        if age < -_FUTURE_SLACK:
            self._store.rejected += 1
            return None
        try:
            value = self._decode(payload)
        except Exception:  # noqa: BLE001 - any undecodable payload is a corrupt file
            self._store.rejected += 1
            _log.info("bulk cache: ignoring %s (payload does not decode)", self.path.name)
            return None
        self._store.loaded += 1
        return Saved(value, max(age, 0.0), meta)

    async def save(self, value: T, meta: Mapping[str, str] | None = None) -> None:
        try:
            payload = self._encode(value)
        except Exception:  # noqa: BLE001 - an unencodable value is simply not kept
            _log.debug("bulk cache: %s not encodable", self._name, exc_info=True)
            return
        await asyncio.to_thread(self._store._write, self.path, self._provider, self._name,
                                payload, meta or {})
