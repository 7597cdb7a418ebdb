"""router.sources.bulkstore and TtlCache's disk: fresh values reused with their age, anything
untrustworthy ignored, a store that cannot write named once and never failing a call."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
import pytest

from adapters.cache import TtlCache
from router.sources.bulkstore import BulkStore, Persisted
from tests.support.vclock import FakeClock


def _file(store: BulkStore, name: str = "list") -> Persisted[list[int]]:
    return store.persisted("prov", "http://x\0fp", name, encode=msgspec.json.encode,
                           decode=lambda b: msgspec.json.decode(b, type=list[int]))


async def test_round_trip_with_age_and_meta(tmp_path: Path) -> None:
    wall = FakeClock(1_000_000.0)
    store = BulkStore(tmp_path, wall=lambda: wall.now)
    f = _file(store)
    assert await f.load() is None
    await f.save([1, 2, 3], {"ETag": '"abc"'})
    wall.now += 42
    saved = await f.load()
    assert saved is not None and saved.value == [1, 2, 3]
    assert saved.age == 42 and saved.meta == {"ETag": '"abc"'}
    assert "fp" not in f.path.name and "x" not in f.path.name  # the scope is hashed, not shown


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "version", "future", "payload"])
async def test_untrustworthy_files_are_ignored(tmp_path: Path, damage: str) -> None:
    wall = FakeClock(1_000_000.0)
    store = BulkStore(tmp_path, wall=lambda: wall.now)
    f = _file(store)
    await f.save([1, 2, 3])
    blob = f.path.read_bytes()
    head, _, payload = blob.partition(b"\n")
    if damage == "truncate":
        f.path.write_bytes(blob[:-2])
    elif damage == "flip":
        f.path.write_bytes(head + b"\n" + payload.replace(b"2", b"7"))
    elif damage == "header":
        f.path.write_bytes(b"not json\n" + payload)
    elif damage == "version":
        f.path.write_bytes(head.replace(b'"v":1', b'"v":99') + b"\n" + payload)
    elif damage == "future":
        wall.now -= 3600  # saved an hour "from now"
    elif damage == "payload":  # a valid file whose payload is not this list's type
        await store.persisted("prov", "http://x\0fp", "list", encode=msgspec.json.encode,
                              decode=msgspec.json.decode).save({"a": 1})
    assert await f.load() is None
    assert store.rejected == 1


async def test_other_scopes_and_names_never_read_each_others_files(tmp_path: Path) -> None:
    store = BulkStore(tmp_path)
    await _file(store).save([1])
    other = store.persisted("prov", "http://y\0fp", "list", encode=msgspec.json.encode,
                            decode=lambda b: msgspec.json.decode(b, type=list[int]))
    assert await other.load() is None and other.path != _file(store).path


async def test_a_store_that_cannot_write_logs_once_and_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = BulkStore(blocker / "bulk")  # a directory under a file: never creatable
    f = _file(store)
    with caplog.at_level(logging.WARNING):
        await f.save([1])
        await f.save([2])
    assert await f.load() is None
    warnings = [r for r in caplog.records if "bulk cache" in r.getMessage()]
    assert len(warnings) == 1 and "cannot write" in warnings[0].getMessage()


async def test_ttl_cache_uses_a_fresh_file_with_its_age_and_ignores_an_old_one(
        tmp_path: Path) -> None:
    wall, mono = FakeClock(1_000_000.0), FakeClock(50.0)
    store = BulkStore(tmp_path, wall=lambda: wall.now)
    calls = 0

    async def fetch() -> list[int]:
        nonlocal calls
        calls += 1
        return [calls]

    first = TtlCache(fetch, ttl=600, clock=lambda: mono.now, persist=_file(store))
    assert await first.get() == [1] and calls == 1  # nothing on disk: fetched, then saved
    wall.now += 500
    second = TtlCache(fetch, ttl=600, clock=lambda: mono.now, persist=_file(store))
    assert await second.get() == [1] and calls == 1  # 500 s old: from disk
    mono.now += 100  # its 600 s ran from when it was saved: due now
    assert await second.get() == [2] and calls == 2
    wall.now += 700  # the file (saved at the refetch) is 700 s old
    third = TtlCache(fetch, ttl=600, clock=lambda: mono.now, persist=_file(store))
    assert await third.get() == [3] and calls == 3  # too old: fetched again
