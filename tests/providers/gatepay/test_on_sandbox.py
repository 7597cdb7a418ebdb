"""GatePaySource against the GatePay emulator (bench.emulators.gatepay, seeded and frozen world)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.gatepay import (
    DEFAULT_BUDGET_POLICY,
    DuplicateOrder,
    GatePaySource,
    new_client_req_id,
)
from bench.emulators.gatepay import create_app, credentials
from bench.world import World
from router.assets import Asset, asset_info, parse_asset
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import AmountOutOfRange, AuthError, RateLimited, Rejected
from router.model import Market
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext

MAJORS = ("BTC@BTC", "ETH@ERC20", "USDT", "USDC")


@dataclass
class Env:
    source: GatePaySource
    session: aiohttp.ClientSession
    block: dict[str, str]
    registry: BudgetRegistry

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.block["base_url"] + "/_sandbox/stats") as resp:
            return await resp.json()  # type: ignore[no-any-return]

    async def market(self, src: str = "BTC", dst: str = "USDT") -> Market:
        want = (Asset.of(src).id, Asset.of(dst).id)  # BTC -> BTC@BTC
        for m in await self.source.markets():
            if (m.asset_in, m.asset_out) == want:
                return m
        raise AssertionError(f"no market {src}->{dst}")

    async def opened(self, client_id: str, api_secret: str, **kw: Any) -> GatePaySource:
        source = GatePaySource(client_id, api_secret, base_url=self.block["base_url"], **kw)
        await source.open(SourceContext(self.session, BudgetRegistry()))
        return source


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    world = World(7, frozen=True)
    creds = credentials(world)
    runner = web.AppRunner(create_app(world, credentials=creds))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    block = {"base_url": f"http://127.0.0.1:{port}", **creds}
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        source = GatePaySource(block["client_id"], block["api_secret"],
                               base_url=block["base_url"])
        await source.open(SourceContext(session, registry))
        yield Env(source, session, block, registry)
        await source.aclose()
        await registry.aclose()
    await runner.cleanup()


async def test_is_a_quote_source(env: Env) -> None:
    assert isinstance(env.source, QuoteSource) and env.source.name == "gatepay"


async def test_markets(env: Env) -> None:
    markets = await env.source.markets()
    pairs = {(m.asset_in, m.asset_out): m for m in markets}
    assert len(pairs) == len(markets)  # no duplicates
    for a in MAJORS:
        for b in MAJORS:
            if a != b:
                assert (a, b) in pairs, (a, b)  # majors convert both ways
    assert pairs[("BTC@BTC", "USDT")].ref == "BTC/USDT"
    for m in markets:
        assert m.provider == "gatepay" and m.rate_type == "fixed" and m.asset_in != m.asset_out
        for aid in (m.asset_in, m.asset_out):  # a coin's home chain named; tokens are balances
            coin, _, net = aid.partition("@")
            assert net == (asset_info(coin).home or "")  # type: ignore[union-attr]
        assert parse_asset(m.asset_in).id == m.asset_in
        assert parse_asset(m.asset_out).id == m.asset_out
    assert await env.source.markets() is markets  # cached
    currencies = await env.source.client.currencies()
    # one currency list + one pair list per currency, then our own look just now
    assert (await env.stats())["units"] == 1 + len(currencies) + 1


async def test_firm_sell(env: Env) -> None:
    market = await env.market("BTC", "USDT")
    before = (await env.stats())["units"]
    quote = await env.source.firm(market, Decimal("0.1"), "sell")
    assert (await env.stats())["units"] == before + 1
    assert quote.kind == "firm" and quote.rate_type == "fixed"
    assert (quote.asset_in, quote.asset_out) == ("BTC@BTC", "USDT")
    assert quote.amount_in == Decimal("0.1") and quote.amount_out > 0
    assert quote.quote_id and quote.expires_at is not None and quote.observed_at is not None
    assert quote.expires_at - quote.observed_at == pytest.approx(20.0)
    assert quote.limit_min is not None and quote.limit_min < Decimal("0.1")


async def test_firm_buy(env: Env) -> None:
    market = await env.market("USDT", "ETH")
    quote = await env.source.firm(market, Decimal("0.5"), "buy")
    assert quote.amount_out == Decimal("0.5") and quote.amount_in > 0
    assert (quote.asset_in, quote.asset_out) == ("USDT", "ETH@ERC20")
    sell = await env.source.firm(market, quote.amount_in, "sell")  # the other way round agrees
    assert abs(sell.amount_out - Decimal("0.5")) / Decimal("0.5") < Decimal("0.01")


async def test_limits_carry_the_providers_figure(env: Env) -> None:
    market = await env.market("BTC", "USDT")
    pair = (await env.source.catalog()).get("BTC", "USDT")
    assert pair is not None and pair.sell_min is not None and pair.buy_max is not None
    tiny = pair.sell_min / 10
    with pytest.raises(AmountOutOfRange) as ind:
        await env.source.indicative(market, tiny, "sell")
    assert ind.value.reason == "limit_min" and ind.value.limit == pair.sell_min
    assert ind.value.asset == "BTC@BTC"
    with pytest.raises(AmountOutOfRange) as buy:
        await env.source.indicative(market, pair.buy_max * 2, "buy")
    assert buy.value.reason == "limit_max" and buy.value.limit == pair.buy_max
    assert buy.value.asset == "USDT"
    assert await env.source.indicative(market, pair.sell_min * 2, "sell") is None


async def test_emulator_enforces_the_listed_limits(env: Env) -> None:
    """The lists' figures are the ones preview enforces (asked directly, past our own check)."""
    pair = (await env.source.catalog()).get("BTC", "USDT")
    assert pair is not None and pair.sell_min is not None
    client = env.source.client
    at_min = await client.preview("BTC", "USDT", sell_amount=pair.sell_min)
    assert at_min.sellAmount == pair.sell_min
    with pytest.raises(Rejected) as info:
        await client.preview("BTC", "USDT", sell_amount=pair.sell_min / 2)
    assert info.value.code == "400001"


async def test_bad_secret_is_auth_failed(env: Env) -> None:
    bad = await env.opened(env.block["client_id"], "not-the-secret")
    try:
        with pytest.raises(AuthError) as info:
            await bad.markets()
        assert info.value.reason == "auth_failed" and info.value.code == "400002"
        assert "not-the-secret" not in str(info.value)
        with pytest.raises(AuthError):  # remembered for a while: not asked again at once
            await bad.markets()
        assert (await env.stats())["signature_failures"] == 1
    finally:
        await bad.aclose()


async def test_skewed_clock_is_auth_failed_with_a_hint(env: Env) -> None:
    import time

    skewed = await env.opened(env.block["client_id"], env.block["api_secret"],
                              clock=lambda: time.time() - 60)
    try:
        with pytest.raises(AuthError) as info:
            await skewed.markets()
        assert info.value.code == "400003" and "clock" in str(info.value)
    finally:
        await skewed.aclose()


async def test_convert_and_order_round_trip_from_the_reserve(env: Env) -> None:
    budget = env.registry.get("gatepay", Secret(env.block["client_id"]).fingerprint,
                              DEFAULT_BUDGET_POLICY)
    client = env.source.client
    preview = await client.preview("USDT", "BTC", sell_amount=Decimal("100"))
    before, booked = (await env.stats())["units"], (await budget.usage()).used
    req_id = new_client_req_id()
    args = {"sell_currency": preview.sellCurrency, "buy_currency": preview.buyCurrency,
            "sell_amount": preview.sellAmount, "buy_amount": preview.buyAmount}
    order = await client.convert(preview.quoteId, req_id, **args)
    assert order.id and order.quoteId == preview.quoteId
    assert order.sellAmount == preview.sellAmount and order.buyAmount == preview.buyAmount
    fetched = await client.order(order.id)
    assert fetched.id == order.id and fetched.state in ("created", "success")
    assert (await env.stats())["units"] - before == 2
    assert (await budget.usage()).used - booked == 2  # our budget books what the provider counts
    try:  # the same clientReqId again: the provider must not create a second order
        again = await client.convert(preview.quoteId, req_id, **args)
    except DuplicateOrder:
        pass
    else:
        assert again.id == order.id


async def test_429_penalizes_our_budget(env: Env) -> None:
    """With a budget looser than the provider's limit, its 429 pauses ours."""
    loose = await env.opened(env.block["client_id"], env.block["api_secret"],
                             budget_policy=BudgetPolicy(limit=1000, margin=0.0))
    try:
        with pytest.raises(RateLimited) as info:
            for _ in range(200):
                await loose.client.currencies()
        assert info.value.status == 429 and info.value.retry_after is not None
        with pytest.raises(RateLimited):  # paused on our side: nothing more is sent
            await loose.client.currencies()
        stats = await env.stats()
        assert stats["rate_limited"] == 1
    finally:
        await loose.aclose()


async def test_lifecycle(env: Env) -> None:
    market = await env.market()
    await env.source.aclose()
    await env.source.aclose()
    with pytest.raises(RuntimeError):
        await env.source.firm(market, Decimal("0.1"), "sell")
    with pytest.raises(RuntimeError):
        await env.source.markets()
