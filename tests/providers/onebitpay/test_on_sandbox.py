"""OneBitPaySource against the 1BitPay emulator (seeded, frozen world) on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.onebitpay import OneBitPaySource
from bench.emulators.onebitpay import create_app, credentials
from bench.world import World
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import AmountOutOfRange, AuthError, InvalidRequest, RateLimited
from router.model import Market
from router.sources.protocol import SourceContext
from tests.support.ids import concrete

D = Decimal
FIATS = ("CNY", "USD", "EUR", "RUB")


@dataclass
class Env:
    source: OneBitPaySource
    session: aiohttp.ClientSession
    base_url: str
    creds: dict[str, str]

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.base_url + "/_sandbox/stats") as resp:
            return await resp.json()  # type: ignore[no-any-return]

    async def market(self, src: str, dst: str) -> Market:
        for m in await self.source.markets():
            if (m.asset_in, m.asset_out) == (concrete(src), concrete(dst)):
                return m
        raise AssertionError(f"no market {src}->{dst}")


@asynccontextmanager
async def serve(world: World, creds: dict[str, str], **source_kw: Any) -> AsyncIterator[Env]:
    app = create_app(world, credentials=creds)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            registry = BudgetRegistry()
            source = OneBitPaySource(creds["merchant_no"], creds["api_key"],
                                     source_kw.pop("api_secret", creds["api_secret"]),
                                     base_url=base_url, **source_kw)
            await source.open(SourceContext(session, registry))
            try:
                yield Env(source, session, base_url, creds)
            finally:
                await source.aclose()
                await registry.aclose()
    finally:
        await runner.cleanup()


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    world = World(3, frozen=True)
    async with serve(world, credentials(world)) as e:
        yield e


async def test_markets(env: Env) -> None:
    got = {(m.asset_in, m.asset_out) for m in await env.source.markets()}
    assert got == {p for f in FIATS for p in ((f, "USDT@TRC20"), ("USDT@TRC20", f))}


async def test_indicative_all_pairs_both_sides_and_units(env: Env) -> None:
    before = (await env.stats())["units"]
    for fiat, amount in (("CNY", "1000"), ("USD", "200"), ("EUR", "200"), ("RUB", "20000")):
        onramp = await env.market(fiat, "USDT@TRC20")
        offramp = await env.market("USDT@TRC20", fiat)
        buy_sell = await env.source.indicative(onramp, D(amount), "sell")  # fiat in
        buy_buy = await env.source.indicative(onramp, buy_sell.amount_out, "buy")  # USDT out
        sell_sell = await env.source.indicative(offramp, buy_sell.amount_out, "sell")  # USDT in
        sell_buy = await env.source.indicative(offramp, D(amount), "buy")  # fiat out
        for q in (buy_sell, buy_buy, sell_sell, sell_buy):
            assert q.kind == "indicative" and q.amount_in > 0 and q.amount_out > 0
            assert q.observed_at is not None
        assert buy_sell.amount_in == D(amount) and sell_buy.amount_out == D(amount)
        assert abs(buy_buy.amount_in - D(amount)) <= D("0.01")  # the same rate both ways
        # a round trip fiat -> USDT -> fiat loses the spread, never gains
        assert sell_sell.amount_out <= buy_sell.amount_in
        assert sell_sell.amount_out > buy_sell.amount_in * D("0.8")  # but stays sane
    after = (await env.stats())["units"]
    assert after - before == len(FIATS)  # one otc/rate per pair, cached for both directions


async def test_minimum_is_reported_in_fiat(env: Env) -> None:
    onramp = await env.market("CNY", "USDT@TRC20")
    with pytest.raises(AmountOutOfRange) as info:
        await env.source.indicative(onramp, D(50), "sell")
    assert (info.value.limit, info.value.asset, info.value.reason) == (D(100), "CNY", "limit_min")
    offramp = await env.market("USDT@TRC20", "USD")
    with pytest.raises(AmountOutOfRange) as info:
        await env.source.indicative(offramp, D(1), "sell")  # ~1 USD out
    assert (info.value.limit, info.value.asset) == (D(15), "USD")


async def test_emulator_refuses_below_minimum_order_as_amount_out_of_range(env: Env) -> None:
    with pytest.raises(AmountOutOfRange) as info:
        await env.source.client.create(
            order_type=1, crypto="USDT", fiat="CNY", merchant_order_no="t-min-1",
            user_name="Test", area_code="+86", phone="18848820305", id_card_type=1,
            id_card="412627288918989891", pay_way=1, crypto_amount=D("0.5"))
    assert info.value.code == 150032 and info.value.below_min and info.value.asset == "CNY"


async def test_order_creation_round_trip(env: Env) -> None:
    order = await env.source.client.create(
        order_type=1, crypto="USDT", fiat="CNY", merchant_order_no="t-ok-1",
        user_name="Test", area_code="+86", phone="18848820305", id_card_type=1,
        id_card="412627288918989891", pay_way=1, crypto_amount=D("100"))
    assert order.orderNo and order.url


async def test_fractional_fiat_is_priced_as_the_order_by_crypto_amount(env: Env) -> None:
    """``legalAmount`` takes whole fiat only, so 2000.55 CNY cannot be an order by fiat. The
    route prices what can be ordered: ``cryptoAmount`` = 2000.55 / buyRate, down to 1e-6 USDT,
    which costs at most 2000.55 CNY; the emulator takes that order and refuses the fraction."""
    onramp = await env.market("CNY", "USDT@TRC20")
    quote = await env.source.indicative(onramp, D("2000.55"), "sell")
    rate = await env.source.client.rate("USDT", "CNY")
    assert quote.amount_in == D("2000.55")
    assert quote.amount_out == (D("2000.55") / rate.buyRate).quantize(D("0.000001"), "ROUND_DOWN")
    assert quote.amount_out * rate.buyRate <= D("2000.55")
    order = dict(order_type=1, crypto="USDT", fiat="CNY", user_name="Test", area_code="+86",
                 phone="18848820305", id_card_type=1, id_card="412627288918989891", pay_way=1)
    placed = await env.source.client.create(**order, merchant_order_no="t-frac-1",
                                            crypto_amount=quote.amount_out)  # type: ignore[arg-type]
    assert placed.orderNo
    with pytest.raises(InvalidRequest, match="legal_amount"):  # refused before it is sent
        await env.source.client.create(**order, merchant_order_no="t-frac-2",
                                       legal_amount=D("2000.55"))  # type: ignore[arg-type]


async def test_bad_secret_is_auth_failed() -> None:
    world = World(3, frozen=True)
    creds = credentials(world)
    async with serve(world, creds, api_secret=creds["api_secret"] + "x") as env:
        with pytest.raises(AuthError) as info:
            await env.source.indicative(await env.market("CNY", "USDT@TRC20"), D(1000), "sell")
        assert info.value.reason == "auth_failed" and info.value.code == 150025
        assert creds["api_secret"] not in str(info.value)
        stats = await env.stats()
        assert stats["signature_failures"] >= 1


async def test_emulator_429_pauses_our_budget() -> None:
    """With our own budget opened wide, the emulator's limit (60 / 60 s) answers HTTP 429: the
    source raises RateLimited and its budget pauses, so no further request is sent."""
    world = World(3, frozen=True)
    loose = BudgetPolicy(limit=1000, margin=0.0)
    async with serve(world, credentials(world), budget_policy=loose, rate_ttl=0) as env:
        onramp = await env.market("CNY", "USDT@TRC20")
        with pytest.raises(RateLimited):
            for _ in range(70):
                await env.source.indicative(onramp, D(1000), "sell")
        with pytest.raises(RateLimited):  # paused by our budget: not sent
            await env.source.indicative(onramp, D(1000), "sell")
        stats = await env.stats()
        assert stats["rate_limited"] == 1 and stats["units"] == 60
