"""Micro-benchmarks of the hot paths (pytest-benchmark). Run with `make bench`, not `make test`."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from adapters.fixedfloat.feeds import parse_rates
from bench.emulators.fixedfloat.feed import render_rates_xml, synthetic_items
from router import Router
from router.model import Fee, Leg, Route
from router.pricing.rank import rank_routes
from router.request.parse import make_request
from tests.support.fakes import FakeSource

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def rates_4096() -> bytes:
    return render_rates_xml(synthetic_items(4096, seed=7))


def test_parse_rates_file_4096_items(benchmark, rates_4096: bytes) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "feeds"
    items, skipped = benchmark(parse_rates, rates_4096)
    assert len(items) == 4096 and skipped == 0


def test_rank_200_routes(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "ranking"
    routes = [
        Route(legs=(Leg(provider=f"p{i % 5}", asset_in="BTC", asset_out="USDT@TRC20",
                        amount_in=Decimal("0.5"), amount_out=Decimal(30000 + i * 7 % 1000),
                        fees=(Fee("network", Decimal("1"), "USDT@TRC20"),)),),
              amount_in=Decimal("0.5"), amount_out=Decimal(30000 + i * 7 % 1000),
              kind="firm" if i % 2 else "indicative", expires_at=None)
        for i in range(200)
    ]
    ranked = benchmark(rank_routes, routes, "sell", now=0.0)
    assert ranked[0].amount_out == max(r.amount_out for r in routes)


def test_validate_request(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "ranking"
    req = benchmark(make_request, "BTC", "USDT@TRC20", "0.5", known_providers=("fixedfloat",))
    assert req.amount == Decimal("0.5")


def test_quote_in_process_five_sources(benchmark) -> None:  # type: ignore[no-untyped-def]
    """One whole quote() over five zero-latency scripted sources: the engine's own cost."""
    benchmark.group = "engine"
    pairs = [("BTC", f"USDT@{n}") for n in ("TRC20", "ERC20", "BSC")]
    sources = [FakeSource(f"p{i}", pairs, Decimal(60000 + i)) for i in range(5)]
    loop = asyncio.new_event_loop()
    router = Router(sources, cache=False)
    loop.run_until_complete(router.open())
    try:
        rs = benchmark(lambda: loop.run_until_complete(router.quote("BTC", "USDT", "0.5")))
        assert rs.best is not None and rs.best.providers == ("p4",)
    finally:
        loop.run_until_complete(router.aclose())
        loop.close()


@pytest.fixture(scope="module")
def sandbox_graph():  # type: ignore[no-untyped-def]
    """The full sandbox graph: every provider's edges loaded from its emulator (seed 7, frozen)."""
    from adapters.registry import build_source, sandbox_values
    from bench.sandbox import Sandbox
    from router.snapshot.feemodel import load_fee_model
    from router.snapshot.graph import build_graph

    async def load() -> list:  # type: ignore[type-arg]
        async with Sandbox(seed=7, frozen=True, no_limits=True) as sb:
            sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
            async with Router(sources) as router:
                await router.warm()
                return [list(await s.edges()) for s in sources]

    lists = asyncio.new_event_loop().run_until_complete(load())
    return build_graph(lists, load_fee_model())


@pytest.mark.parametrize("prune", [True, False], ids=["pruned", "exhaustive"])
@pytest.mark.parametrize("sell,buy,amount,side,hops", [
    ("BTC", "USDT", "0.5", "sell", 2),
    ("CNY", "BTC", "1000", "sell", 2),
    ("USDT", "ETH", "2", "buy", 2),
    ("RUB", "XMR", "100000", "sell", 3),
])
def test_route_search_full_sandbox_graph(benchmark, sandbox_graph, sell, buy, amount, side, hops, prune) -> None:  # type: ignore[no-untyped-def]
    from router.assets import from_id
    from router.search.paths import search

    benchmark.group = f"route search {sell}->{buy} {side} {hops} hops"
    benchmark.extra_info["edges"] = len(sandbox_graph.edges)
    res = benchmark(search, sandbox_graph, from_id(sell), from_id(buy), Decimal(amount), side,
                    max_hops=hops, prune=prune)
    assert res.candidates


@pytest.fixture(scope="module")
def wire_bodies() -> dict[str, bytes]:
    """Real answer bodies by URL path, as each emulator sends them (seed 7, frozen): one quote per
    provider family captured with aiohttp trace hooks."""
    import aiohttp

    from adapters.registry import build_source, sandbox_values
    from bench.sandbox import Sandbox

    bodies: dict[str, bytes] = {}

    async def on_end(session, ctx, params):  # type: ignore[no-untyped-def]
        bodies[params.url.path] = await params.response.read()  # cached for the adapter too

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)

    async def capture() -> None:
        async with Sandbox(seed=7, frozen=True, no_limits=True) as sb, \
                aiohttp.ClientSession(trace_configs=[trace]) as session:
            sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
            async with Router(sources, session=session, cache=False) as router:
                await router.warm()
                for sell, buy, amount in (("BTC", "USDT", "0.05"), ("EUR", "BTC", "200"),
                                          ("CNY", "USDT", "1000"), ("ETH", "BTC", "1")):
                    await router.quote(sell, buy, amount, max_hops=1)

    asyncio.new_event_loop().run_until_complete(capture())
    return bodies


def _wire_cases() -> list[tuple[str, str, str, str]]:
    return [
        ("fixedfloat", "price", "/api/v2/price", "PRICE_DECODER"),
        ("fixedfloat", "ccies", "/api/v2/ccies", "CCIES_DECODER"),
        ("gatepay", "preview", "/v1/pay/convert/preview", "PREVIEW_DECODER"),
        ("gatepay", "pair", "/v1/pay/convert/pair", "PAIRS_DECODER"),
        ("flypay", "estimated_amount", "/api/v1/exchange/estimated_amount", "ESTIMATE_DECODER"),
        ("flypay", "payways", "/api/v1/payways", "PAYWAYS_DECODER"),
        ("onebitpay", "otc/rate", "/api/otc/rate", "RATE_DECODER"),
        ("fatpay", "price", "/open/api/onramp/price", "PRICE_DECODER"),
        ("fatpay", "token", "/open/api/onramp/token", "TOKENS_DECODER"),
    ]


@pytest.mark.parametrize("provider,message,path,decoder", _wire_cases(),
                         ids=[f"{p}-{m}" for p, m, _, _ in _wire_cases()])
def test_wire_decode(benchmark, wire_bodies, provider, message, path, decoder) -> None:  # type: ignore[no-untyped-def]
    """Envelope then payload, with the adapter's own decoders (built once), on a real answer."""
    import importlib

    wire = importlib.import_module(f"adapters.{provider}.wire")
    body = next((b for p, b in wire_bodies.items() if p.endswith(path)), None)
    assert body is not None, f"no {path} answer captured (got {sorted(wire_bodies)})"
    envelope, payload = wire.ENVELOPE_DECODER, getattr(wire, decoder)

    def decode():  # type: ignore[no-untyped-def]
        return payload.decode(envelope.decode(body).data)

    benchmark.group = "wire decode"
    benchmark.extra_info["bytes"] = len(body)
    assert benchmark(decode) is not None
