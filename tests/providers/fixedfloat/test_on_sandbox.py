"""FixedFloatSource against the FixedFloat emulator (bench.sandbox, seeded and frozen)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.fixedfloat import DEFAULT_BUDGET_POLICY, FixedFloatSource
from bench.sandbox import Sandbox
from router.assets import parse_asset
from router.budgets import BudgetRegistry
from router.errors import AmountOutOfRange, AuthError
from router.model import Market
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext
from tests.support.ids import concrete


@dataclass
class Env:
    source: FixedFloatSource
    session: aiohttp.ClientSession
    block: dict[str, str]
    registry: BudgetRegistry

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.block["base_url"] + "/_sandbox/stats") as resp:
            return await resp.json()  # type: ignore[no-any-return]

    async def market(self, src: str = "BTC", dst: str = "USDT@TRC20",
                     rate_type: str = "float") -> Market:
        for m in await self.source.markets():
            if (m.asset_in, m.asset_out, m.rate_type) == (concrete(src), concrete(dst), rate_type):
                return m
        raise AssertionError(f"no market {src}->{dst} {rate_type}")


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with Sandbox(seed=1, frozen=True) as sb, aiohttp.ClientSession() as session:
        block = sb.providers["fixedfloat"]
        registry = BudgetRegistry()
        source = FixedFloatSource(block["api_key"], block["api_secret"],
                                  base_url=block["base_url"])
        await source.open(SourceContext(session, registry))
        yield Env(source, session, block, registry)
        await source.aclose()
        await registry.aclose()


async def test_is_a_quote_source(env: Env) -> None:
    assert isinstance(env.source, QuoteSource) and env.source.name == "fixedfloat"


async def test_markets(env: Env) -> None:
    markets = await env.source.markets()
    pairs = {(m.asset_in, m.asset_out, m.rate_type): m for m in markets}
    assert pairs[("BTC@BTC", "USDT@TRC20", "float")].ref == "BTC/USDTTRC"
    assert pairs[("BTC@BTC", "USDT@TRC20", "fixed")].ref == "BTC/USDTTRC"
    assert ("USDT@ERC20", "BNB@BSC", "fixed") in pairs  # FF codes USDT (ETH) and BSC
    assert len(pairs) == len(markets)  # no duplicates
    for m in markets:
        assert m.asset_in != m.asset_out and m.provider == "fixedfloat"
        assert parse_asset(m.asset_in).id == m.asset_in  # canonical ids
        assert parse_asset(m.asset_out).id == m.asset_out
    again = await env.source.markets()
    assert again is markets  # cached until ccies or a feed changes
    assert (await env.stats())["units"] == 1  # one ccies call, feeds cost nothing


async def test_firm_sell(env: Env) -> None:
    market = await env.market()
    quote = await env.source.firm(market, Decimal("0.1"), "sell")
    assert quote.kind == "firm" and quote.rate_type == "float"
    assert (quote.asset_in, quote.asset_out) == ("BTC@BTC", "USDT@TRC20")
    assert quote.amount_in == Decimal("0.1") and quote.amount_out > 0
    assert quote.limit_min is not None and quote.limit_max is not None
    assert quote.limit_min < Decimal("0.1") < quote.limit_max
    assert quote.expires_at is not None and quote.observed_at is not None
    assert quote.expires_at - quote.observed_at == pytest.approx(30.0)
    kinds = {f.kind for f in quote.fees}
    assert "provider" in kinds and all(f.asset == "USDT@TRC20" for f in quote.fees)
    assert (await env.stats())["units"] == 2  # ccies + price


async def test_firm_buy(env: Env) -> None:
    market = await env.market("USDT@TRC20", "BTC@BTC", "fixed")
    quote = await env.source.firm(market, Decimal("0.05"), "buy")
    assert quote.amount_out == Decimal("0.05") and quote.amount_in > 0
    assert quote.rate_type == "fixed" and quote.kind == "firm"


async def test_indicative_costs_nothing_and_tracks_firm(env: Env) -> None:
    market = await env.market()
    before = (await env.stats())["units"]
    sell = await env.source.indicative(market, Decimal("0.1"), "sell")
    buy = await env.source.indicative(market, Decimal("1000"), "buy")
    assert (await env.stats())["units"] == before
    assert sell is not None and buy is not None
    assert sell.kind == buy.kind == "indicative"
    assert sell.amount_in == Decimal("0.1") and buy.amount_out == Decimal("1000")
    assert sell.observed_at is not None and sell.limit_min is not None
    firm = await env.source.firm(market, Decimal("0.1"), "sell")
    assert abs(sell.amount_out - firm.amount_out) / firm.amount_out < Decimal("0.02")


async def test_limit_min_carries_the_providers_figure(env: Env) -> None:
    market = await env.market()
    ok = await env.source.firm(market, Decimal("0.1"), "sell")
    with pytest.raises(AmountOutOfRange) as firm_err:
        await env.source.firm(market, Decimal("0.00001"), "sell")
    assert firm_err.value.reason == "limit_min" and firm_err.value.below_min
    assert firm_err.value.limit == ok.limit_min and firm_err.value.asset == "BTC@BTC"
    with pytest.raises(AmountOutOfRange) as feed_err:
        await env.source.indicative(market, Decimal("0.00001"), "sell")
    assert feed_err.value.limit == ok.limit_min  # same figure, from the export


async def test_bad_secret_is_auth_failed(env: Env) -> None:
    bad = FixedFloatSource(env.block["api_key"], "not-the-secret",
                           base_url=env.block["base_url"])
    registry = BudgetRegistry()
    await bad.open(SourceContext(env.session, registry))
    try:
        with pytest.raises(AuthError) as info:
            await bad.markets()
        assert info.value.reason == "auth_failed" and info.value.code == 401
        assert "not-the-secret" not in str(info.value)
        with pytest.raises(AuthError):  # remembered for a while: the provider is not re-asked
            await bad.markets()
        # ``ccies`` has no params: its other signed form (an empty body) is tried once, no more
        assert (await env.stats())["signature_failures"] == 2
    finally:
        await bad.aclose()
        await registry.aclose()


async def test_create_and_order_round_trip_cost_51_units(env: Env) -> None:
    budget = env.registry.get("fixedfloat", Secret(env.block["api_key"]).fingerprint,
                              DEFAULT_BUDGET_POLICY)
    before, booked = (await env.stats())["units"], (await budget.usage()).used
    client = env.source.client
    order = await client.create("fixed", "BTC", "USDTTRC", "from", Decimal("0.1"),
                                "TVnbp1VCJ1TpWMom4k3URfFky9FGfPdZPd")
    assert order.id and order.token and order.status == "NEW"
    assert order.from_.amount == Decimal("0.1") and order.from_.address
    fetched = await client.order(order.id, order.token)
    assert fetched.id == order.id and fetched.to.amount == order.to.amount
    assert (await env.stats())["units"] - before == 51
    assert (await budget.usage()).used - booked == 51  # our budget books what the provider charges


async def test_lifecycle(env: Env) -> None:
    market = await env.market()
    await env.source.aclose()
    await env.source.aclose()  # idempotent
    with pytest.raises(RuntimeError):
        await env.source.firm(market, Decimal("0.1"), "sell")
    with pytest.raises(RuntimeError):
        await env.source.indicative(market, Decimal("0.1"), "sell")
    with pytest.raises(RuntimeError):
        await env.source.markets()
    with pytest.raises(RuntimeError):
        await env.source.open(SourceContext(env.session, env.registry))
