"""FixedFloat rates exports: exact parsing, tolerance of bad items, speed, and the polite cache."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.fixedfloat.constants import BROWSER_USER_AGENT
from adapters.fixedfloat.feeds import FeedCache, parse_rates
from router.errors import MalformedResponse, ProviderError
from tests.support.vclock import FakeClock

DOC_ITEM = (
    "<item><from>USDT</from><to>BTCLN</to><in>1</in><out>0.000011868696</out>"
    "<amount>241.04377808</amount><tofee>0.0000025300 BTCLN</tofee>"
    "<minamount>31.6513761468 USDT</minamount><maxamount>15013.6210000000 USDT</maxamount></item>"
)


def rates(*items: str) -> bytes:
    return ("<rates>" + "".join(items) + "</rates>").encode()


def item(src: str = "BTC", dst: str = "ETH", *, inn: str = "1", out: str = "15.5",
         amount: str = "100", extra: str = "") -> str:
    return (f"<item><from>{src}</from><to>{dst}</to><in>{inn}</in><out>{out}</out>"
            f"<amount>{amount}</amount>{extra}</item>")


# -- parsing ----------------------------------------------------------------------------------
def test_doc_item_exact_decimals_and_suffixes() -> None:
    items, skipped = parse_rates(rates(DOC_ITEM))
    assert skipped == 0
    it = items[("USDT", "BTCLN")]
    assert it.in_ == Decimal("1") and it.out == Decimal("0.000011868696")
    assert str(it.out) == "0.000011868696"  # no float on the way
    assert it.reserve == Decimal("241.04377808")
    assert str(it.tofee) == "0.0000025300"
    assert str(it.min) == "31.6513761468" and str(it.max) == "15013.6210000000"
    assert it.rate == Decimal("0.000011868696")


def test_rate_is_out_over_in() -> None:
    items, _ = parse_rates(rates(item(inn="4", out="2")))
    assert items[("BTC", "ETH")].rate == Decimal("0.5")


def test_optional_fields_absent() -> None:
    items, skipped = parse_rates(rates(item()))
    it = items[("BTC", "ETH")]
    assert skipped == 0
    assert it.tofee is None and it.min is None and it.max is None


def test_xml_declaration_whitespace_and_other_layouts() -> None:
    reordered = ("<item>\n  <to>ETH</to> <from>BTC</from>\n  <out> 15.5 </out><in>1</in>"
                 "<param>manual</param><amount>100 ETH</amount>"
                 "<minamount>0.01 BTC</minamount></item>")
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + rates(reordered, item("LTC", "BTC"))
    items, skipped = parse_rates(body)
    assert skipped == 0
    assert items[("BTC", "ETH")].out == Decimal("15.5")
    assert items[("BTC", "ETH")].min == Decimal("0.01")
    assert items[("LTC", "BTC")].reserve == Decimal("100")


@pytest.mark.parametrize("bad", [
    item(out="abc"),
    item(out="NaN"),
    item(out="-1"),
    item(out="Infinity"),
    item(inn="0"),
    item(out="1.2.3"),
    item(amount=""),
    "<item><from>BTC</from><to>ETH</to><in>1</in><amount>1</amount></item>",  # no <out>
    item("BTC", "BTC"),
    item(extra="<minamount>5 BTC</minamount><maxamount>1 BTC</maxamount>"),  # max < min
    item("ETH", "LTC", extra="<tofee>-0.1 LTC</tofee>"),
])
def test_malformed_items_are_skipped_and_counted(bad: str) -> None:
    items, skipped = parse_rates(rates(item("LTC", "ETH"), bad, item("XMR", "ETH")))
    assert skipped == 1
    assert set(items) == {("LTC", "ETH"), ("XMR", "ETH")}


def test_duplicate_pair_keeps_first() -> None:
    items, skipped = parse_rates(rates(item(out="2"), item(out="3")))
    assert skipped == 1 and items[("BTC", "ETH")].out == Decimal("2")


@pytest.mark.parametrize("body", [
    b"",
    b'{"code": 0}',
    b"<html><body>Access denied</body></html>",
    b"Just a moment...",
    rates(item(), item("LTC", "ETH"))[:-20],  # truncated
    b'<!DOCTYPE rates [<!ENTITY a "1">]><rates>' + item(out="&a;").encode() + b"</rates>",
])
def test_not_a_rates_export_raises(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_rates(body)


def test_empty_export() -> None:
    assert parse_rates(b"<rates/>") == ({}, 0)
    assert parse_rates(b"<rates></rates>") == ({}, 0)


def _synthetic(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    codes = [f"C{i:02d}" for i in range(70)]
    pairs = [(a, b) for a in codes for b in codes if a != b]
    rng.shuffle(pairs)
    def dec(lo: int, hi: int, places: int) -> str:  # exact decimal text, no float
        return f"{Decimal(rng.randint(lo, hi)).scaleb(-places):f}"

    out = []
    for a, b in pairs[:n]:
        fee = f"<tofee>{dec(1, 10**9, 10)} {b}</tofee>" if rng.random() < 0.8 else ""
        out.append(f"<item><from>{a}</from><to>{b}</to><in>1</in>"
                   f"<out>{dec(1, 10**16, 12)}</out><amount>{dec(1, 10**12, 8)}</amount>{fee}"
                   f"<minamount>{dec(1, 10**9, 10)} {a}</minamount>"
                   f"<maxamount>{dec(10**10, 10**14, 10)} {a}</maxamount></item>")
    return rates(*out)


def test_fast_path_agrees_with_the_tree_parser() -> None:
    body = _synthetic(300)
    fast = parse_rates(body)
    # one item off the canonical layout (a space in <from>) sends the whole file to ElementTree
    slow = parse_rates(body.replace(b"</from>", b" </from>", 1))
    assert len(fast[0]) == 300 and fast == slow


def test_4096_items_parse() -> None:
    # its speed is measured by `make bench` (tests/bench), never asserted here
    body = _synthetic(4096)
    items, skipped = parse_rates(body)
    assert len(items) == 4096 and skipped == 0


# -- FeedCache against a small server ---------------------------------------------------------
class FeedServer:
    """Serves one export with an ETag; counts requests and records their headers."""

    def __init__(self) -> None:
        self.body = rates(item())
        self.etag = '"v1"'
        self.status = 200
        self.delay = 0.0
        self.seen: list[dict[str, str]] = []
        app = web.Application()
        app.router.add_get("/rates/float.xml", self.handle)
        app.router.add_get("/old/float.xml", self.moved)
        self.server = TestServer(app)

    async def moved(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/rates/float.xml")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(dict(request.headers))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status, text="nope")
        if request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers={"ETag": self.etag})
        return web.Response(body=self.body, content_type="application/xml",
                            headers={"ETag": self.etag,
                                     "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"})

    def url(self, path: str = "/rates/float.xml") -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    fs = FeedServer()
    await fs.server.start_server()
    yield fs
    await fs.server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def make_cache(session: aiohttp.ClientSession, url: str, clock: FakeClock, **kw: Any) -> FeedCache:
    return FeedCache(session, url, "float", clock=clock, wall_clock=lambda: 5.0, **kw)


async def test_fetch_headers_and_min_interval(feed_server: FeedServer,
                                              session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    cache = make_cache(session, feed_server.url(), clock)
    feed = await cache.get()
    assert feed.get("BTC", "ETH") is not None and feed.fetched_at == 5.0
    first = feed_server.seen[0]
    assert first["User-Agent"] == BROWSER_USER_AGENT
    assert "X-API-KEY" not in first and "X-API-SIGN" not in first
    assert "If-None-Match" not in first
    clock.now += 59
    await cache.get()
    await cache.refresh()
    assert len(feed_server.seen) == 1  # at most once per min_interval
    await cache.aclose()


async def test_etag_304_keeps_data(feed_server: FeedServer,
                                   session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    cache = make_cache(session, feed_server.url(), clock)
    old = await cache.get()
    clock.now += 61
    await cache.refresh()
    assert len(feed_server.seen) == 2 and cache.not_modified == 1
    assert feed_server.seen[1]["If-None-Match"] == '"v1"'
    assert feed_server.seen[1]["If-Modified-Since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert (await cache.get()).items is old.items
    # a changed export replaces the data
    feed_server.body, feed_server.etag = rates(item(out="99")), '"v2"'
    clock.now += 61
    await cache.refresh()
    assert (await cache.get()).get("BTC", "ETH").out == Decimal("99")  # type: ignore[union-attr]
    await cache.aclose()


async def test_single_flight(feed_server: FeedServer, session: aiohttp.ClientSession) -> None:
    feed_server.delay = 0.05
    cache = make_cache(session, feed_server.url(), FakeClock())
    feeds = await asyncio.gather(*(cache.get() for _ in range(20)))
    assert len(feed_server.seen) == 1 and cache.requests == 1
    assert all(f is feeds[0] for f in feeds)
    await cache.aclose()


async def test_cancelled_caller_does_not_cancel_the_shared_fetch(
        feed_server: FeedServer, session: aiohttp.ClientSession) -> None:
    feed_server.delay = 0.05
    cache = make_cache(session, feed_server.url(), FakeClock())
    first = asyncio.create_task(cache.get())
    await asyncio.sleep(0.01)
    second = asyncio.create_task(cache.get())
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).get("BTC", "ETH") is not None
    assert len(feed_server.seen) == 1
    await cache.aclose()


async def test_stale_while_revalidate(feed_server: FeedServer,
                                      session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    cache = make_cache(session, feed_server.url(), clock)
    old = await cache.get()
    feed_server.delay = 0.05
    feed_server.body, feed_server.etag = rates(item(out="99")), '"v2"'
    clock.now += 61
    assert await cache.get() is old  # returns at once, refreshes behind
    await cache.refresh()  # joins the background fetch
    assert (await cache.get()).get("BTC", "ETH").out == Decimal("99")  # type: ignore[union-attr]
    assert len(feed_server.seen) == 2
    await cache.aclose()


async def test_redirects_followed(feed_server: FeedServer, session: aiohttp.ClientSession) -> None:
    cache = make_cache(session, feed_server.url("/old/float.xml"), FakeClock())
    assert (await cache.get()).get("BTC", "ETH") is not None
    await cache.aclose()


async def test_failure_keeps_old_data_then_expires(feed_server: FeedServer,
                                                   session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    cache = make_cache(session, feed_server.url(), clock, max_age=300, retry_interval=10)
    old = await cache.get()
    feed_server.status = 503
    clock.now += 61
    await cache.refresh()
    assert await cache.get() is old
    clock.now += 5
    await cache.refresh()  # within retry_interval: no new request
    assert len(feed_server.seen) == 2
    clock.now += 300  # data now older than max_age
    with pytest.raises(ProviderError) as info:
        await cache.get()
    assert info.value.status == 503
    await cache.aclose()


async def test_not_xml_raises_malformed(feed_server: FeedServer,
                                        session: aiohttp.ClientSession) -> None:
    feed_server.body = b"<html>challenge</html>"
    cache = make_cache(session, feed_server.url(), FakeClock())
    with pytest.raises(MalformedResponse):
        await cache.get()
    await cache.aclose()
    with pytest.raises(RuntimeError):
        await cache.get()
    await cache.aclose()  # idempotent
