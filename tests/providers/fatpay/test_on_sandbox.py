"""FaTPaySource against the FaTPay emulator (written separately from the same docs)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.fatpay import FaTPaySource
from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import AmountOutOfRange, AuthError, RateLimited, Rejected
from router.model import Market
from router.sources.protocol import SourceContext
from tests.support.ids import concrete

emulator = pytest.importorskip("bench.emulators.fatpay")
from bench.world import World  # noqa: E402

FIATS = {"USD", "EUR", "GBP", "BRL", "TRY", "INR"}
COINS = {"BTC@BTC", "ETH@ERC20", "USDT@ERC20", "USDT@TRC20", "USDT@BSC", "USDC@ERC20", "USDC@SOL",
         "SOL@SOL", "TRX@TRC20", "BNB@BSC"}


class Sandbox:
    def __init__(self, base_url: str, creds: dict[str, str], session: aiohttp.ClientSession,
                 world: World) -> None:
        self.base_url, self.creds, self.session, self.world = base_url, creds, session, world

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.base_url + "/_sandbox/stats") as resp:
            assert resp.status == 200
            return await resp.json()  # type: ignore[no-any-return]

    @contextlib.asynccontextmanager
    async def source(self, **kw: Any) -> AsyncIterator[FaTPaySource]:
        args = {"partner_id": self.creds["partner_id"],
                "private_key_pem": self.creds["private_key_pem"], **kw}
        src = FaTPaySource(args.pop("partner_id"), args.pop("private_key_pem"),
                           base_url=self.base_url, **args)
        registry = BudgetRegistry()
        await src.open(SourceContext(self.session, registry))
        try:
            yield src
        finally:
            await src.aclose()
            await registry.aclose()


@contextlib.asynccontextmanager
async def serve(seed: int = 11, **options: Any) -> AsyncIterator[Sandbox]:
    world = World(seed, frozen=True)
    creds = emulator.credentials(world)
    app = emulator.create_app(world, credentials=creds, **options)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Sandbox(f"http://127.0.0.1:{runner.addresses[0][1]}", dict(creds), session,
                          world)
    finally:
        await runner.cleanup()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve() as sb:
        yield sb


def market(fiat: str, asset: str, markets: list[Market]) -> Market:
    return next(m for m in markets if m.asset_in == fiat and m.asset_out == concrete(asset))


async def test_markets_are_the_expected_canonical_pairs(sandbox: Sandbox) -> None:
    async with sandbox.source() as src:
        markets = list(await src.markets())
    assert {(m.asset_in, m.asset_out) for m in markets} == {(f, c) for f in FIATS for c in COINS}
    assert all(m.rate_type == "float" and m.provider == "fatpay" for m in markets)
    assert market("USD", "USDT@ERC20", markets).ref == "USD/USDT_ERC20"
    stats = await sandbox.stats()
    assert stats["units"] == 2 and stats["signature_failures"] == 0


async def test_firm_sell(sandbox: Sandbox) -> None:
    async with sandbox.source() as src:
        markets = list(await src.markets())
        quote = await src.firm(market("USD", "BTC", markets), Decimal(500), "sell")
    assert quote.kind == "firm" and quote.amount_in == Decimal(500)
    fees = {f.kind: f for f in quote.fees}
    assert set(fees) <= {"network", "provider"} and all(f.asset == "USD" for f in fees.values())
    paid_fees = sum((f.amount for f in quote.fees), Decimal(0))
    worth = quote.amount_out * Decimal(str(sandbox.world.usd("BTC")))
    # what the coins are worth at the world's mid: the fiat less the fees, less a spread
    assert (500 - paid_fees) * Decimal("0.9") < worth <= (500 - paid_fees) * Decimal("1.001")
    assert (await sandbox.stats())["units"] == 3


@pytest.mark.parametrize(("fiat", "asset", "amount"), [
    ("USD", "BTC", "0.01"), ("EUR", "USDT@TRC20", "250"), ("USD", "ETH", "0.5")])
async def test_firm_buy(sandbox: Sandbox, fiat: str, asset: str, amount: str) -> None:
    target = Decimal(amount)
    async with sandbox.source() as src:
        markets = list(await src.markets())
        before = (await sandbox.stats())["units"]
        quote = await src.firm(market(fiat, asset, markets), target, "buy")
        spent = (await sandbox.stats())["units"] - before
    assert quote.kind == "firm" and target <= quote.amount_out <= target * Decimal("1.01")
    assert quote.asset_in == fiat and quote.amount_in > 0
    assert 1 <= spent <= 3


async def test_limits_carry_the_providers_figure(sandbox: Sandbox) -> None:
    async with sandbox.source() as src:
        markets = list(await src.markets())
        usd = next(c for c in await src.currencies() if c.fiatCurrency == "USD")
        low = min(o.minAmount for o in usd.options if o.minAmount is not None)
        high = max(o.maxAmount for o in usd.options if o.maxAmount is not None)
        btc = market("USD", "BTC", markets)
        with pytest.raises(AmountOutOfRange) as info:
            await src.indicative(btc, low - Decimal("0.01"), "sell")
        assert info.value.limit == low and info.value.asset == "USD" and info.value.below_min
        with pytest.raises(AmountOutOfRange) as info:
            await src.firm(btc, high + 1, "sell")
        assert info.value.limit == high and not info.value.below_min
        assert await src.indicative(btc, low, "sell") is None
        # the emulator's own answer to an amount below every option (no list check first)
        with pytest.raises((AmountOutOfRange, Rejected)) as raw:
            await src.client.price("USD", low / 2, "BTC")
    if isinstance(raw.value, AmountOutOfRange):
        assert raw.value.limit == low


async def test_a_wrong_key_or_partner_is_auth_failed(sandbox: Sandbox) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    for override in ({"private_key_pem": other}, {"partner_id": "no-such-partner"}):
        async with sandbox.source(**override) as src:
            with pytest.raises(AuthError) as info:
                await src.markets()
        assert info.value.reason == "auth_failed" and info.value.code == 10003
    assert (await sandbox.stats())["signature_failures"] >= 1


async def test_429_from_the_emulator_penalizes_and_raises() -> None:
    async with serve() as sb:
        loose = BudgetPolicy(limit=500, margin=0.0)  # ours lets through what the emulator refuses
        async with sb.source(budget_policy=loose) as src:
            with pytest.raises(RateLimited) as info:
                for _ in range(80):
                    await src.client.tokens()
            assert info.value.status == 429
            with pytest.raises(RateLimited):  # paused by the penalty: nothing sent
                await src.client.tokens()
        stats = await sb.stats()
    assert stats["rate_limited"] == 1 and stats["units"] == 60


async def test_every_market_quotes_cleanly_in_both_directions() -> None:
    """No answer of the emulator trips the adapter's consistency checks, on any pair."""
    async with serve(no_limits=True) as sb:
        loose = BudgetPolicy(limit=1000, margin=0.0)
        async with sb.source(budget_policy=loose) as src:
            limits = {c.fiatCurrency: c.options for c in await src.currencies()}
            for m in await src.markets():
                options = limits[m.asset_in]
                low = min(o.minAmount for o in options if o.minAmount is not None)
                high = max(o.maxAmount for o in options if o.maxAmount is not None)
                amount = (low * high).sqrt().quantize(Decimal("0.01"))
                sell = await src.firm(m, amount, "sell")
                assert sell.amount_in == amount and sell.amount_out > 0
                want = (sell.amount_out / 3).quantize(Decimal("1e-6"))
                buy = await src.firm(m, want, "buy")
                assert buy.amount_out >= want and buy.amount_in < amount
        stats = await sb.stats()
    assert stats["signature_failures"] == 0 and stats["errors"] == 0
