"""The seeded market world: determinism, frozen time, drift, catalogue, provider profiles."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.world import World
from tests.support.vclock import FakeClock

REQUIRED = {
    "BTC", "BTC@LN", "ETH", "ETH@ARBITRUM", "LTC", "SOL", "XMR", "DOGE", "TRX", "BNB", "TON", "XRP",
    "ADA", "USDT@ERC20", "USDT@TRC20", "USDT@BSC", "USDT@SOL", "USDT@POLYGON", "USDT@TON",
    "USDC@ERC20", "USDC@BSC", "USDC@SOL", "USDC@POLYGON", "USDC@ARBITRUM", "DAI@ERC20",
    "USD", "EUR", "CNY", "RUB", "GBP", "INR", "BRL", "TRY",
}


def test_catalogue_has_required_assets() -> None:
    w = World(0)
    ids = {a.id for a in w.assets}
    assert len(ids) >= 25
    assert REQUIRED <= ids
    for a in w.assets:
        assert isinstance(a.network_fee, Decimal)
        assert (a.network_fee == 0) == a.fiat
        assert a.decimals >= 0


@pytest.mark.parametrize(("coin", "lo", "hi"), [
    ("BTC", 60_000, 100_000), ("ETH", 2_000, 4_000), ("USDT", "0.995", "1.005"),
    ("USDC", "0.995", "1.005"), ("DAI", "0.99", "1.01"), ("CNY", "0.12", "0.16"),
    ("RUB", "0.008", "0.014"), ("USD", 1, 1), ("DOGE", "0.08", "0.25"),
])
@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
def test_prices_have_realistic_magnitudes(seed: int, coin: str, lo: object, hi: object) -> None:
    w = World(seed, frozen=True)
    price = w.usd(coin)
    assert isinstance(price, Decimal)
    assert Decimal(str(lo)) <= price <= Decimal(str(hi))


def test_same_seed_same_world_different_seed_differs() -> None:
    clock = FakeClock(1_760_000_000.0)
    a, b, c = World(7, clock=clock), World(7, clock=clock), World(8, clock=clock)
    for t in (0, 59, 3600, 86_400 * 3):
        clock.now = 1_760_000_000.0 + t
        assert [a.usd(x.coin) for x in a.assets] == [b.usd(x.coin) for x in b.assets]
    assert a.usd("BTC") != c.usd("BTC")
    assert [x.network_fee for x in a.assets] == [x.network_fee for x in b.assets]
    assert a.profile("fixedfloat") == b.profile("fixedfloat")
    assert a.profile("fixedfloat") != c.profile("fixedfloat")
    assert a.digest("x") == b.digest("x") != c.digest("x")
    assert a.rng("r").random() == b.rng("r").random()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), t=st.integers(1_600_000_000, 1_900_000_000),
       coin=st.sampled_from(["BTC", "ETH", "SOL", "USDT", "EUR", "TRY"]))
def test_price_is_a_pure_function_of_seed_coin_and_second(seed: int, t: int, coin: str) -> None:
    w1, w2 = World(seed), World(seed)
    p = w1.usd(coin, t + 0.9)
    assert p > 0
    assert p == w2.usd(coin, t) == w1.usd(coin, t + 0.1)


def test_frozen_world_pins_time_and_never_drifts() -> None:
    clock = FakeClock(1_700_000_000.0)
    w = World(3, frozen=True, clock=clock)
    start = w.now()
    assert start == w.epoch and w.epoch % 60 == 0
    before = {a.id: w.usd(a.coin) for a in w.assets}
    clock.now += 7 * 86_400
    assert w.now() == start
    assert {a.id: w.usd(a.coin) for a in w.assets} == before
    # Same seed: same epoch; another seed: (almost surely) another epoch.
    assert World(3, frozen=True).epoch == w.epoch
    assert World(4, frozen=True).epoch != w.epoch


def test_unfrozen_world_drifts_a_few_bp_per_minute() -> None:
    clock = FakeClock(1_760_000_040.0)
    w = World(11, clock=clock)
    assert w.now() == clock.now
    moves = []
    prev = w.usd("BTC")
    for _ in range(240):
        clock.now += 60
        cur = w.usd("BTC")
        moves.append(abs(math.log(cur / prev)))  # analysis only, not money
        prev = cur
    mean_bp = sum(moves) / len(moves) * 10_000
    assert 0.3 < mean_bp < 30, mean_bp
    assert w.usd("USD") == 1
    # Over a day the price wanders further than over a minute, but stays plausible.
    day = abs(math.log(w.usd("BTC", clock.now + 86_400) / w.usd("BTC")))
    assert day * 10_000 > mean_bp
    assert day < 0.2
    # Stablecoins barely move.
    assert abs(w.usd("USDT") - w.usd("USDT", clock.now - 3600)) < Decimal("0.002")


def test_cross_rate_is_ratio_of_usd_prices() -> None:
    w = World(2, frozen=True)
    cross = w.cross("BTC", "USDT@TRC20")
    assert abs(cross - w.usd("BTC") / w.usd("USDT")) < Decimal("1e-12")
    assert w.cross("USDT@ERC20", "USDT@TRC20") == 1


def test_fixedfloat_profile() -> None:
    w = World(9, frozen=True)
    p = w.profile("fixedfloat")
    assert p is w.profile("fixedfloat")
    assert not any(w.asset(a).fiat for a in p.assets)
    assert {a.id for a in w.assets if not a.fiat} == set(p.assets)
    assert p.fees.percent_for("fixed") == Decimal("0.01")
    assert p.fees.percent_for("float") == Decimal("0.005")
    assert len(p.recv_offline) == len(p.send_offline) == 1
    assert p.recv_offline.isdisjoint(p.send_offline)
    assert all(p.reserve(a) > 0 for a in p.assets)
    assert Decimal(10) <= p.min_usd <= Decimal(30)
    assert p.spread(Decimal(0)) == p.spread_base
    assert p.spread(Decimal(1_000)) < p.spread(Decimal(100_000)) <= p.spread_cap
    assert p.spread(Decimal(10**12)) == p.spread_cap
    off = next(iter(p.recv_offline))
    assert not p.can_receive(off) and p.can_send(off)
