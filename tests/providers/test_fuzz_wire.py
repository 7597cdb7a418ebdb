"""Fuzzing every adapter's decoding, from the bytes on the wire to the router's model.

Real answers are recorded once from the sandbox; each example then replays them through a fake
HTTP session with one answer replaced by a generated one: arbitrary bytes, or the real JSON (or
XML) with one value changed, removed or retyped. The adapter (wire decoders, envelope and error
mapping, FlyPay's signature check, the FixedFloat rates XML parser, the feeds' and lists'
conversions) must either give valid model objects or raise :class:`router.errors.ProviderError`;
any other exception is a bug. FlyPay answers are re-signed with the right secret (most of the
time) so that the decoders behind its signature check are reached too.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from adapters.fixedfloat.feeds import parse_rates
from adapters.flypay.auth import sign
from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router.budgets import BudgetRegistry
from router.errors import ProviderError
from router.model import Market, Quote, Side
from router.snapshot.edges import Edge
from router.sources.protocol import SourceContext

PROVIDERS = ("fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


def _key(method: str, url: object, params: Any = None) -> tuple[str, str]:
    parts = urlsplit(str(url))
    query = parts.query
    if params:
        query = "&".join(filter(None, (query, urlencode(sorted(dict(params).items())))))
    return method.upper(), parts.path + (f"?{query}" if query else "")


class _Response:
    def __init__(self, reply: Reply) -> None:
        self.status = reply.status
        self.headers = CIMultiDictProxy(CIMultiDict(reply.headers))
        self._body = reply.body

    async def read(self) -> bytes:
        return self._body


class _Exchange:
    def __init__(self, reply: Reply | BaseException) -> None:
        self._reply = reply

    async def __aenter__(self) -> _Response:
        if isinstance(self._reply, BaseException):
            raise self._reply
        return _Response(self._reply)

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeSession:
    """Duck-typed ``aiohttp.ClientSession``: answers from ``reply(method, url)``."""

    def __init__(self, reply: Callable[[tuple[str, str]], Reply | BaseException]) -> None:
        self._reply = reply

    def request(self, method: str, url: str, **kw: Any) -> _Exchange:
        return _Exchange(self._reply(_key(method, url, kw.get("params"))))

    def get(self, url: str, **kw: Any) -> _Exchange:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> _Exchange:
        return self.request("POST", url, **kw)


class Recorder:
    """A real session that remembers the last answer to each (method, path)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self.replies: dict[tuple[str, str], Reply] = {}

    def request(self, method: str, url: str, **kw: Any) -> Any:
        recorder = self

        class _Ctx:
            async def __aenter__(self) -> _Response:
                kw.pop("allow_redirects", None)
                async with recorder._session.request(method, url, **kw) as resp:
                    reply = Reply(resp.status, await resp.read(), tuple(resp.headers.items()))
                key = _key(method, url, kw.get("params"))
                if reply.status == 200 or key not in recorder.replies:
                    recorder.replies[key] = reply
                return _Response(reply)

            async def __aexit__(self, *exc: object) -> None:
                return None

        return _Ctx()

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)


@dataclass
class Recording:
    values: dict[str, Any]
    replies: dict[tuple[str, str], Reply]
    market: Market
    amount: Decimal
    side: Side
    firm: bool


async def _record(name: str, values: dict[str, Any]) -> Recording:
    async with aiohttp.ClientSession() as session:
        recorder = Recorder(session)
        source = build_source(name, values)
        ctx = SourceContext(session=recorder, budgets=BudgetRegistry())  # type: ignore[arg-type]
        await source.open(ctx)
        try:
            edges = await source.edges()
            firm = getattr(source, "firm_quotes", True)
            for edge in _candidates(edges):
                amount = _amount(edge)
                try:
                    if firm:
                        await source.firm(edge.market, amount, "sell")
                    elif await source.indicative(edge.market, amount, "sell") is None:
                        continue
                except ProviderError:
                    continue
                return Recording(values, dict(recorder.replies), edge.market, amount, "sell", firm)
        finally:
            await source.aclose()
    raise AssertionError(f"no quotable market recorded for {name}")


def _candidates(edges: Any) -> Iterator[Edge]:
    common = ("BTC", "USDT", "USD", "EUR", "CNY", "ETH")
    ordered = sorted(edges, key=lambda e: (e.market.asset_in.partition("@")[0] not in common,
                                           e.market.asset_out.partition("@")[0] not in common))
    yield from ordered[:40]


def _amount(edge: Edge) -> Decimal:
    if edge.min_in is not None:
        base = edge.min_in * 3
        if edge.max_in is not None and base > edge.max_in:
            base = (edge.min_in + edge.max_in) / 2
        return base.quantize(edge.quantum_in) if base.quantize(edge.quantum_in) > 0 else base
    coin = edge.market.asset_in.partition("@")[0]
    return {"BTC": Decimal("0.05"), "ETH": Decimal("1")}.get(coin, Decimal("500"))


@pytest.fixture(scope="module")
def recordings() -> dict[str, Recording]:
    async def run() -> dict[str, Recording]:
        async with Sandbox(seed=4, frozen=True, no_limits=True) as sb:
            return {name: await _record(name, sandbox_values(name, entry))
                    for name, entry in sb.providers.items()}

    return asyncio.run(run())


# -- generated answers ---------------------------------------------------------------------------
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                      st.sampled_from(["NaN", "-5", "0", "1e300", "Infinity", "sNaN", "1e-999999",
                                       "", "0x1F", "1,5", " 1 ", "true", "-0"]))
ABSURD = st.sampled_from(["NaN", "-5", "0", "1e300", "Infinity", "-Infinity", "sNaN", "1e-300",
                          "-0.0000001", "99999999999999999999999999999999999999999"])
JSON_VALUE = st.one_of(ABSURD, ABSURD.map(Decimal).map(str), st.recursive(
    JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8))


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:6]):
            yield from _paths(v, (*prefix, i))


def _mutate_json(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "delete" and isinstance(parent, list):
        parent.pop(last)
    else:
        parent[last] = value
    return doc


@st.composite
def json_variant(draw: st.DrawFn, body: bytes) -> bytes:
    try:
        doc = json.loads(body)
    except ValueError:
        return draw(st.binary(max_size=200))
    for _ in range(draw(st.integers(1, 3))):  # one to three places changed
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete"]))
        doc = _mutate_json(doc, path, action, copy.deepcopy(draw(JSON_VALUE)))
    return json.dumps(doc).encode()


@st.composite
def xml_variant(draw: st.DrawFn, body: bytes) -> bytes:
    text = body.decode("utf-8", "replace")
    how = draw(st.sampled_from(["truncate", "splice", "value", "tags"]))
    if how == "truncate":
        return body[: draw(st.integers(0, len(body)))]
    if how == "splice":
        at = draw(st.integers(0, len(body)))
        return body[:at] + draw(st.binary(max_size=40)) + body[at + draw(st.integers(0, 40)):]
    if how == "value":
        tags = ["from", "to", "in", "out", "amount", "minamount", "maxamount", "tofee", "item"]
        tag = draw(st.sampled_from(tags))
        start = text.find(f"<{tag}>")
        if start < 0:
            return body
        end = text.find("<", start + len(tag) + 2)
        junk = draw(st.one_of(st.text(max_size=20), st.sampled_from(
            ["-1", "NaN", "1e999", "0", "1 BTC", "&amp;", "<x>", "]]>", "1e-999999"])))
        return (text[: start + len(tag) + 2] + junk + text[end:]).encode("utf-8", "replace")
    return draw(st.text(alphabet="<>/ritemsaoxml=\"' &;", max_size=200)).encode()


@st.composite
def replies(draw: st.DrawFn, rec: Recording) -> dict[tuple[str, str], Reply]:
    """The recorded answers with one of them replaced by a generated one."""
    keys = sorted(rec.replies)
    key = draw(st.sampled_from(keys))
    old = rec.replies[key]
    kind = draw(st.sampled_from(["bytes", "structure", "structure", "structure"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
    elif old.body.lstrip().startswith(b"<"):
        body = draw(xml_variant(old.body))
    else:
        body = draw(json_variant(old.body))
    status = draw(st.one_of(st.just(old.status), st.just(old.status), st.sampled_from(
        [200, 201, 204, 304, 400, 401, 403, 404, 422, 429, 500, 502, 503])))
    headers = [(k, v) for k, v in old.headers if k.lower() not in ("content-length", "signature")]
    if draw(st.booleans()):
        headers.append(("Retry-After", draw(st.sampled_from(["1", "-1", "nan", "1e9", "soon"]))))
    secret = rec.values.get("api_secret")
    if key[0] and secret is not None and rec.values.get("api_key") is not None \
            and any(k.lower() == "signature" for k, _ in old.headers):
        if draw(st.integers(0, 9)) < 8:  # FlyPay: signed right, so the decoders are reached
            headers.append(("Signature", sign(secret.encode(), body)))
    event(f"{key[1].partition('?')[0]} {kind}")
    table = {**rec.replies, key: Reply(status, body, tuple(headers))}
    for down in draw(st.lists(st.sampled_from(keys), max_size=2)):  # other calls may fail too
        if down != key:
            table[down] = Reply(503, b"", ())
    return table


async def _exercise(rec: Recording, name: str, table: dict[tuple[str, str], Reply]) -> None:
    def reply(key: tuple[str, str]) -> Reply | BaseException:
        found = table.get(key)
        return found if found is not None else Reply(404, b"", ())

    source = build_source(name, rec.values)
    session: Any = FakeSession(reply)
    ctx = SourceContext(session=session, budgets=BudgetRegistry())
    await source.open(ctx)
    try:
        try:
            edges = await source.edges()
        except ProviderError:
            event("edges: ProviderError")
        else:
            assert all(isinstance(e, Edge) for e in edges)
            assert all(isinstance(m, Market) for m in await source.markets())
        try:
            if rec.firm:
                quote: Quote | None = await source.firm(rec.market, rec.amount, rec.side)
            else:
                quote = await source.indicative(rec.market, rec.amount, rec.side)
        except ProviderError as exc:
            event(f"quote: {type(exc).__name__}")
            msgspec.json.encode(exc.detail)  # the detail is printable text
            return
        assert quote is None or isinstance(quote, Quote)
        if quote is not None:
            assert isinstance(quote.amount_in, Decimal) and isinstance(quote.amount_out, Decimal)
            event("quote: answered")
    finally:
        await source.aclose()


@pytest.mark.parametrize("name", PROVIDERS)
@settings(database=None, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")),
          deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_adapter_decodes_or_raises_provider_error(name: str, data: st.DataObject,
                                                 recordings: dict[str, Recording]) -> None:
    rec = recordings[name]
    table = data.draw(replies(rec))
    asyncio.run(_exercise(rec, name, table))  # a loop per example: failures shrink cleanly


@settings(database=None, max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_rates_xml_parser_on_arbitrary_bytes(body: bytes) -> None:
    try:
        items, skipped = parse_rates(body)
    except ProviderError:
        return
    assert isinstance(items, dict) and skipped >= 0


@settings(database=None, max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rates_xml_parser_on_damaged_exports(data: st.DataObject,
                                             recordings: dict[str, Recording]) -> None:
    rec = recordings["fixedfloat"]
    feed = next(r.body for (m, p), r in rec.replies.items() if p.endswith(".xml") and r.body)
    body = data.draw(xml_variant(feed))
    try:
        items, skipped = parse_rates(body)
    except ProviderError:
        return
    for item in items.values():
        for value in (item.in_, item.out):
            assert value.is_finite() and value > 0
