"""FlyPaySource against the FlyPay emulator (bench.emulators.flypay, seeded and frozen world)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.flypay import DEFAULT_BUDGET_POLICY, FlyPaySource
from router.assets import parse_asset
from router.budgets import BudgetRegistry
from router.errors import AmountOutOfRange, AuthError, Rejected
from router.model import Market
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext
from tests.support.ids import concrete

emulator = pytest.importorskip("bench.emulators.flypay")
world_mod = pytest.importorskip("bench.world")


@dataclass
class Env:
    source: FlyPaySource
    session: aiohttp.ClientSession
    block: dict[str, str]
    registry: BudgetRegistry

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.block["base_url"] + "/_sandbox/stats") as resp:
            return await resp.json()  # type: ignore[no-any-return]

    async def market(self, src: str = "BTC", dst: str = "USDT@TRC20") -> Market:
        for m in await self.source.markets():
            if (m.asset_in, m.asset_out) == (concrete(src), concrete(dst)):
                return m
        raise AssertionError(f"no market {src}->{dst}")

    async def open(self, api_key: str, api_secret: str) -> tuple[FlyPaySource, BudgetRegistry]:
        source = FlyPaySource(api_key, api_secret, base_url=self.block["base_url"])
        registry = BudgetRegistry()
        await source.open(SourceContext(self.session, registry))
        return source, registry


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    world = world_mod.World(7, frozen=True)
    creds = dict(emulator.credentials(world))
    runner = web.AppRunner(emulator.create_app(world, credentials=creds))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    block = {**creds, "base_url": f"http://{host}:{port}"}
    async with aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        source = FlyPaySource(block["api_key"], block["api_secret"], base_url=block["base_url"])
        await source.open(SourceContext(session, registry))
        yield Env(source, session, block, registry)
        await source.aclose()
        await registry.aclose()
    await runner.cleanup()


async def test_markets(env: Env) -> None:
    assert isinstance(env.source, QuoteSource)
    markets = await env.source.markets()
    pairs = {(m.asset_in, m.asset_out): m for m in markets}
    assert len(pairs) == len(markets)  # no duplicates
    for expected in [("BTC@BTC", "USDT@TRC20"), ("USDT@TRC20", "BTC@BTC"), ("ETH@ERC20", "USDT@ERC20"),
                     ("USDT@BSC", "BTC@BTC"), ("BTC@BTC", "ETH@ERC20")]:
        assert expected in pairs, expected
    assert pairs[("BTC@BTC", "USDT@TRC20")].ref == pairs[("BTC@BTC", "USDT@BSC")].ref  # one exchange
    for m in markets:
        assert m.provider == "flypay" and m.rate_type == "float" and m.asset_in != m.asset_out
        assert parse_asset(m.asset_in).id == m.asset_in  # canonical ids
        assert parse_asset(m.asset_out).id == m.asset_out
    assert await env.source.markets() is markets  # cached
    assert (await env.stats())["units"] == 1  # one payways call


async def test_firm_sell_and_indicative_agree(env: Env) -> None:
    market = await env.market()
    before = (await env.stats())["units"]
    indicative = await env.source.indicative(market, Decimal("0.05"), "sell")
    assert (await env.stats())["units"] == before  # the model is cached: free
    quote = await env.source.firm(market, Decimal("0.05"), "sell")
    assert (await env.stats())["units"] == before + 1
    assert quote.kind == "firm" and quote.rate_type == "float"
    assert (quote.asset_in, quote.asset_out) == ("BTC@BTC", "USDT@TRC20")
    assert quote.amount_in == Decimal("0.05") and quote.amount_out > 0
    assert quote.limit_min is not None and quote.limit_min < Decimal("0.05")
    assert any(f.kind == "provider" for f in quote.fees)
    assert indicative is not None and indicative.kind == "indicative"
    assert abs(indicative.amount_out - quote.amount_out) / quote.amount_out < Decimal("0.02")
    assert quote.amount_out <= indicative.amount_out  # a firm quote carries the spread


@pytest.mark.parametrize(("src", "dst", "amount"), [
    ("BTC@BTC", "USDT@TRC20", "300"),
    ("USDT@TRC20", "BTC@BTC", "0.01"),
])
async def test_firm_buy(env: Env, src: str, dst: str, amount: str) -> None:
    market = await env.market(src, dst)
    quote = await env.source.firm(market, Decimal(amount), "buy")
    assert quote.kind == "firm" and quote.amount_out >= Decimal(amount)
    assert quote.amount_out <= Decimal(amount) * Decimal("1.001")
    assert quote.amount_in > 0
    indicative = await env.source.indicative(market, Decimal(amount), "buy")
    assert indicative is not None and indicative.amount_out >= Decimal(amount)
    assert abs(indicative.amount_in - quote.amount_in) / quote.amount_in < Decimal("0.02")


async def test_limits_carry_the_providers_figure(env: Env) -> None:
    market = await env.market()
    ok = await env.source.firm(market, Decimal("0.05"), "sell")
    assert ok.limit_min is not None and ok.limit_max is not None
    for call in (env.source.indicative, env.source.firm):
        with pytest.raises(AmountOutOfRange) as low:
            await call(market, Decimal("0.000001"), "sell")
        assert low.value.reason == "limit_min" and low.value.limit == ok.limit_min
        assert low.value.asset == "BTC@BTC"
        with pytest.raises(AmountOutOfRange) as high:
            await call(market, Decimal("900"), "sell")
        assert high.value.reason == "limit_max" and high.value.limit == ok.limit_max


async def test_provider_enforces_the_limits_it_publishes(env: Env) -> None:
    """Ask FlyPay directly, bypassing our model check: it refuses what the model rules out."""
    market = await env.market()
    pair = (await env.source.payways()).pairs[market.ref]
    assert pair.min is not None
    with pytest.raises(Rejected) as info:  # no documented code: HTTP status + "error" [?]
        await env.source.client.estimated_amount(pair.currency_from, pair.currency_to,
                                                 pair.min / 10)
    assert info.value.status is not None and 400 <= info.value.status < 500


async def test_bad_secret_is_auth_failed(env: Env) -> None:
    before = (await env.stats())["signature_failures"]
    bad, registry = await env.open(env.block["api_key"], "not-the-secret")
    try:
        with pytest.raises(AuthError) as info:
            await bad.markets()
        assert info.value.reason == "auth_failed"
        assert "not-the-secret" not in str(info.value)
        with pytest.raises(AuthError):  # remembered for a while: FlyPay is not re-asked
            await bad.markets()
        assert (await env.stats())["signature_failures"] == before + 1
    finally:
        await bad.aclose()
        await registry.aclose()


async def test_budget_units_match_the_providers_count(env: Env) -> None:
    budget = env.registry.get("flypay", Secret(env.block["api_key"]).fingerprint,
                              DEFAULT_BUDGET_POLICY)
    market = await env.market()
    for amount in ("0.01", "0.02", "0.03"):
        await env.source.firm(market, Decimal(amount), "sell")
    balances = await env.source.client.balances()
    assert balances  # the account has wallets
    stats = await env.stats()
    assert stats["units"] == (await budget.usage()).used == 5  # payways + 3 estimates + balances
    assert stats["rate_limited"] == 0 and stats["signature_failures"] == 0
