"""OneBitPaySource.edges(): a priced edge per market from otc/rate; indicative() goes through it."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from decimal import ROUND_CEILING, ROUND_DOWN, Context, Decimal
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web

from adapters.onebitpay import OneBitPaySource
from adapters.onebitpay.edges import priced_edge
from adapters.onebitpay.feeds import RateSnapshot
from adapters.onebitpay.wire import OtcRate
from bench.emulators.onebitpay.pricing import RatePricer
from bench.world import World
from bench.world.profile_onebitpay import MIN_LEGAL, build_onebitpay
from router.budgets import BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    ProviderUnavailable,
    UnsupportedPair,
)
from router.model import Market, Side
from router.snapshot.edges import Edge, edge_quote, price_forward
from router.sources.protocol import SourceContext
from tests.providers.onebitpay.canned import (
    KEY,
    MERCHANT,
    SECRET,
    Canned,
    Fake1BitPay,
    ok,
)
from tests.providers.onebitpay.test_on_sandbox import serve
from tests.providers.onebitpay.test_source import RATE
from tests.support.vclock import FakeClock

D = Decimal
FIATS = ("CNY", "USD", "EUR", "RUB")
RATES = {"CNY": RATE, "USD": ok({"buyRate": "1.0125", "sellRate": "0.9871"}),
         "EUR": ok({"buyRate": "0.9433", "sellRate": "0.9102"}),
         "RUB": ok({"buyRate": "92.5", "sellRate": "90.1"})}


class FiatFake(Fake1BitPay):
    """Answers otc/rate per fiat (``script["rate:CNY"]``, else ``script["rate"]``); counts the
    requests in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = self.most_in_flight = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append((request.match_info["method"], raw, dict(request.headers)))
        fiat = json.loads(raw)["legalCurrency"]
        canned = self.script.get(f"rate:{fiat}", Canned({"code": 150034, "message": "no fiat"}))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if canned.delay:
                await asyncio.sleep(canned.delay)
        finally:
            self.in_flight -= 1
        body = canned.body if isinstance(canned.body, (str, bytes)) else json.dumps(canned.body)
        return web.Response(status=canned.status, body=body, content_type="application/json")

    def rates(self, answers: dict[str, Any], delay: float = 0.0) -> None:
        for fiat, body in answers.items():
            self.script[f"rate:{fiat}"] = Canned(body, delay=delay)

    def fiats_asked(self) -> list[str]:
        return [json.loads(body)["legalCurrency"] for _, body, _ in self.requests]


@pytest.fixture
async def fake() -> AsyncIterator[FiatFake]:
    server = FiatFake()
    server.rates(RATES)
    await server.server.start_server()
    yield server
    await server.server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
async def source(fake: FiatFake, clock: FakeClock) -> AsyncIterator[OneBitPaySource]:
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        src = OneBitPaySource(MERCHANT, KEY, SECRET, base_url=fake.base_url, clock=clock)
        await src.open(SourceContext(session, registry))
        yield src
        await src.aclose()
        await registry.aclose()


def by_pair(edges: Any) -> dict[tuple[str, str], Edge]:
    return {(e.market.asset_in, e.market.asset_out): e for e in edges}


# ---- the list --------------------------------------------------------------------------------


async def test_edges_are_the_markets_fetched_concurrently(
        source: OneBitPaySource, fake: FiatFake, clock: FakeClock) -> None:
    fake.rates(RATES, delay=0.1)
    edges = await source.edges()
    markets = await source.markets()
    assert [e.market for e in edges] == list(markets) and len(edges) == 8
    assert all(e.market is m for e, m in zip(edges, markets, strict=True))
    assert sorted(fake.fiats_asked()) == sorted(FIATS)  # 1 unit per fiat
    # the first call settles the signing key order alone (adapters.forms.Reading), the rest
    # go at once
    assert fake.most_in_flight == len(FIATS) - 1
    for e in edges:
        assert e.rate is not None and e.rate > 0 and not e.estimated
        assert (e.margin, e.fee_in, e.fee_out, e.max_in, e.max_out) == (0, 0, 0, None, None)
        assert e.observed_at == clock.now and e.provider == "onebitpay"


async def test_edge_rates_quanta_and_minimums(source: OneBitPaySource) -> None:
    edges = by_pair(await source.edges())
    on, off = edges[("CNY", "USDT@TRC20")], edges[("USDT@TRC20", "CNY")]
    up = Context(prec=40, rounding=ROUND_CEILING)
    assert on.rate == up.divide(1, D("7.25")) and off.rate == D("7.05")
    assert (on.quantum_in, on.quantum_out) == (D("0.01"), D("0.000001"))
    assert (off.quantum_in, off.quantum_out) == (D("0.000001"), D("0.01"))
    # the configured minimum volume; for USDT in: 100 / 7.05 = 14.1843971... up to 6 places
    assert on.min_in == D(100) == source.minimum("CNY")
    assert off.min_in == D("14.184398")
    rub = edges[("USDT@TRC20", "RUB")]
    assert edges[("RUB", "USDT@TRC20")].min_in == D(1300) and rub.min_in == D("14.428413")


async def test_same_list_until_a_rate_is_refreshed(
        source: OneBitPaySource, fake: FiatFake, clock: FakeClock) -> None:
    first = await source.edges()
    clock.now += 10
    await source.indicative(first[0].market, D(1000), "sell")  # the same cached answer
    assert await source.edges() is first
    assert len(fake.requests) == 4
    clock.now += 21  # 31 s: every rate is stale
    fake.rates({"CNY": ok({"buyRate": "7.3", "sellRate": "7.0"})})
    second = await source.edges()
    assert second is not first and len(fake.requests) == 8
    assert by_pair(second)[("USDT@TRC20", "CNY")].rate == D("7.0")
    assert all(e.observed_at == clock.now for e in second)
    assert await source.edges() is second
    await source.firm(second[2].market, D(100), "sell")  # re-reads USD: new data, new list
    assert await source.edges() is not second


async def test_a_fiat_that_fails_gets_unpriced_edges(
        source: OneBitPaySource, fake: FiatFake, clock: FakeClock) -> None:
    fake.rates({"RUB": {"code": 150033, "message": "fiat disabled"}})
    edges = await source.edges()
    assert [e.market for e in edges] == list(await source.markets())
    on, off = by_pair(edges)[("RUB", "USDT@TRC20")], by_pair(edges)[("USDT@TRC20", "RUB")]
    assert on.rate is None and off.rate is None and not on.estimated
    assert on.min_in == D(1300) and off.min_in is None  # no sell rate: no minimum in USDT
    assert by_pair(edges)[("USDT@TRC20", "USD")].rate == D("0.9871")
    assert await source.edges() is edges  # the refusal is remembered: nothing changed
    with pytest.raises(UnsupportedPair):
        await source.indicative(on.market, D(5000), "sell")
    assert len(fake.requests) == 4


async def test_transient_failure_retried_and_recovery_changes_the_list(
        source: OneBitPaySource, fake: FiatFake, clock: FakeClock) -> None:
    fake.rates({"EUR": Canned("<html>bad gateway</html>", status=502)})
    edges = await source.edges()
    assert by_pair(edges)[("EUR", "USDT@TRC20")].rate is None
    assert await source.edges() is edges  # EUR asked again, still down: same list
    assert fake.fiats_asked().count("EUR") == 2 and len(fake.requests) == 5
    with pytest.raises(ProviderUnavailable):
        await source.indicative(by_pair(edges)[("EUR", "USDT@TRC20")].market, D(100), "sell")
    fake.rates({"EUR": RATES["EUR"]})
    healed = await source.edges()
    assert healed is not edges and by_pair(healed)[("USDT@TRC20", "EUR")].rate == D("0.9102")
    assert all(a is b for a, b in zip(edges[:4], healed[:4], strict=True))  # CNY, USD untouched


async def test_every_fiat_failing_raises(source: OneBitPaySource, fake: FiatFake) -> None:
    fake.rates({f: {"code": 150025, "message": "sign error"} for f in FIATS})
    with pytest.raises(AuthError) as info:
        await source.edges()
    assert info.value.code == 150025


async def test_edges_needs_an_open_source(fake: FiatFake) -> None:
    src = OneBitPaySource(MERCHANT, KEY, SECRET, base_url=fake.base_url)
    with pytest.raises(RuntimeError):
        await src.edges()


# ---- one pricing path ------------------------------------------------------------------------

CASES = [
    ("CNY", "USDT@TRC20", "1000", "sell"), ("CNY", "USDT@TRC20", "725", "sell"),
    ("CNY", "USDT@TRC20", "100", "buy"), ("CNY", "USDT@TRC20", "100.0000001", "buy"),
    ("USDT@TRC20", "CNY", "33.333333", "sell"), ("USDT@TRC20", "CNY", "1000", "buy"),
    ("USD", "USDT@TRC20", "15", "sell"), ("USDT@TRC20", "USD", "250", "buy"),
    ("EUR", "USDT@TRC20", "94.33", "sell"), ("USDT@TRC20", "EUR", "17.5", "sell"),
    ("RUB", "USDT@TRC20", "1300", "sell"), ("RUB", "USDT@TRC20", "20", "buy"),
    ("USDT@TRC20", "RUB", "123.456789", "sell"), ("USDT@TRC20", "RUB", "100000", "buy"),
]


@pytest.mark.parametrize(("src", "dst", "amount", "side"), CASES)
async def test_indicative_is_the_edge_quote(source: OneBitPaySource, src: str, dst: str,
                                            amount: str, side: Side) -> None:
    edge = by_pair(await source.edges())[(src, dst)]
    expected = edge_quote(edge, D(amount), side)
    quote = await source.indicative(edge.market, D(amount), side)
    assert (quote.amount_in, quote.amount_out) == (expected.amount_in, expected.amount_out)
    assert quote.observed_at == edge.observed_at and quote.kind == "indicative"
    assert quote.limit_min == edge.min_in and quote.limit_max is None
    assert [f.kind for f in quote.fees] == ["spread"]  # the half-spread, itemised as before


async def test_exact_quotients_stay_exact(source: OneBitPaySource, fake: FiatFake) -> None:
    """605 CNY at buyRate 6.05 is exactly 100 USDT: a 1/6.05 rounded to nearest would floor it
    to 99.999999 (this is why the edge's rate is rounded up)."""
    fake.rates({"CNY": ok({"buyRate": "6.05", "sellRate": "5.95"})})
    edge = by_pair(await source.edges())[("CNY", "USDT@TRC20")]
    assert edge_quote(edge, D(605), "sell").amount_out == D(100)
    assert (await source.indicative(edge.market, D(605), "sell")).amount_out == D(100)
    assert edge_quote(edge, D(100), "buy").amount_in == D("605.00")
    nearest = msgspec.structs.replace(edge, rate=Context(prec=40).divide(1, D("6.05")))
    assert price_forward(nearest, D(605)) == D("99.999999")


@pytest.mark.parametrize("rates", [("7.25", "7.05"), ("6.05", "5.95"), ("92.37", "88.91"),
                                   ("1.0831", "0.9979"), ("6.47", "6.9"), ("0.9433", "0.9102")])
def test_edges_reproduce_the_rate_arithmetic(rates: tuple[str, str]) -> None:
    """Against 1BitPay's own arithmetic, written out: fiat / buyRate down to 1e-6, usdt * buyRate
    up to a cent, usdt * sellRate down to a cent, fiat / sellRate up to 1e-6."""
    buy, sell = D(rates[0]), D(rates[1])
    snap = RateSnapshot(OtcRate(buy, sell), 0.0)
    on = priced_edge(Market("onebitpay", "CNY", "USDT@TRC20", "float", "CNY/USDT"), snap, None)
    off = priced_edge(Market("onebitpay", "USDT@TRC20", "CNY", "float", "USDT/CNY"), snap, None)
    exact = Context(prec=80)
    rng = random.Random(7)
    for i in range(400):
        fiat = D(rng.randint(1, 10_000_000)).scaleb(-2)
        usdt = D(rng.randint(1, 10_000_000_000)).scaleb(-6)
        if i % 3 == 0:  # land on exact quotients: fiat / buyRate a whole number of USDT
            usdt = D(100 * rng.randint(1, 1000))
            fiat = usdt * buy if i % 2 else usdt * sell  # cents: the rates have <= 4 places
        down = exact.divide(fiat, buy).quantize(D("1e-6"), rounding=ROUND_DOWN)
        assert edge_quote(on, fiat, "sell").amount_out == down
        assert edge_quote(on, usdt, "buy").amount_in == exact.multiply(usdt, buy).quantize(
            D("0.01"), rounding=ROUND_CEILING)
        assert edge_quote(off, usdt, "sell").amount_out == exact.multiply(usdt, sell).quantize(
            D("0.01"), rounding=ROUND_DOWN)
        up = exact.divide(fiat, sell).quantize(D("1e-6"), rounding=ROUND_CEILING)
        assert edge_quote(off, fiat, "buy").amount_in == up


@pytest.mark.parametrize(("src", "dst", "amount", "side"), [
    ("CNY", "USDT@TRC20", "99.99", "sell"), ("CNY", "USDT@TRC20", "13.7", "buy"),
    ("USDT@TRC20", "CNY", "14.184397", "sell"), ("USDT@TRC20", "CNY", "99.99", "buy"),
])
async def test_limits_are_the_providers_figure(source: OneBitPaySource, src: str, dst: str,
                                               amount: str, side: Side) -> None:
    edge = by_pair(await source.edges())[(src, dst)]
    if side == "sell":  # the edge itself refuses below its minimum in input units
        with pytest.raises(AmountOutOfRange) as on_edge:
            edge_quote(edge, D(amount), side)
        assert on_edge.value.limit == edge.min_in and on_edge.value.asset == src
    with pytest.raises(AmountOutOfRange) as info:
        await source.indicative(edge.market, D(amount), side)
    assert (info.value.limit, info.value.asset, info.value.below_min) == (D(100), "CNY", True)
    assert edge_quote(edge, edge.min_in, "sell").amount_in == edge.min_in  # and takes it


# ---- against the emulator ---------------------------------------------------------------------


async def test_edges_match_the_emulators_desk() -> None:
    world = World(3, frozen=True)
    from bench.emulators.onebitpay import credentials

    async with serve(world, credentials(world)) as env:
        edges = by_pair(await env.source.edges())
        desk = RatePricer(world, build_onebitpay(world))
        rng = random.Random(3)
        for fiat in FIATS:
            published = desk.rates(fiat)
            on, off = edges[(fiat, "USDT@TRC20")], edges[("USDT@TRC20", fiat)]
            assert on.rate is not None and off.rate == published.sell
            assert abs(on.rate * published.buy - 1) < D("1e-38")
            assert on.min_in == MIN_LEGAL[fiat]
            assert off.min_in == (MIN_LEGAL[fiat] / published.sell).quantize(
                D("1e-6"), rounding=ROUND_CEILING)
            for i in range(5):
                fiat_amount = MIN_LEGAL[fiat] * rng.randint(1, 50) + D(rng.randint(0, 99)) / 100
                usdt_amount = D(rng.randint(20_000_000, 900_000_000)).scaleb(-6)
                for edge, amount in ((on, fiat_amount), (off, usdt_amount)):
                    for side in ("sell", "buy"):
                        amt = amount if side == "sell" else price_forward(edge, amount)
                        expected = edge_quote(edge, amt, side)
                        quote = await env.source.indicative(edge.market, amt, side)
                        assert (quote.amount_in, quote.amount_out) == (
                            expected.amount_in, expected.amount_out)
                        if i:
                            continue  # the rest would spend too much of the budget
                        # the truth (a fresh read; the desk has no size-dependent spread)
                        firm = await env.source.firm(edge.market, amt, side)
                        assert (firm.amount_in, firm.amount_out) == (
                            expected.amount_in, expected.amount_out)
        stats = await env.stats()
        assert stats["rate_limited"] == 0


async def test_edges_cost_one_unit_per_fiat_on_the_emulator() -> None:
    world = World(3, frozen=True)
    from bench.emulators.onebitpay import credentials

    async with serve(world, credentials(world)) as env:
        before = (await env.stats())["units"]
        first = await env.source.edges()
        again = await asyncio.gather(*(env.source.edges() for _ in range(5)))
        assert all(e is first for e in again)
        market = first[0].market
        await env.source.indicative(market, D(1000), "sell")
        assert (await env.stats())["units"] - before == len(FIATS)
