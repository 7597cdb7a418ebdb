"""Latency profiles: the shipped data, the seeded sampler, and the common latency middleware.

Distributions are checked on the sampler over many draws (no sleeping); the middleware is checked
with a recording sleeper, and wall-clock assertions are lower bounds only.
"""

from __future__ import annotations

import random
import statistics
import time
import types
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.emulators.common import Sleeper, latency_middleware
from bench.latency import (
    Fixed,
    Heavy,
    LatencyModel,
    LatencyProfile,
    Normal,
    UnknownProfile,
    latency_names,
    load_latency,
    resolve_latency,
    sample_ms,
)
from bench.profiledata import PROVIDERS
from bench.sandbox import Sandbox, run_sandbox, sandbox_profiles
from bench.world import World
from router.errors import InvalidRequest


# --- shipped profiles and resolving --------------------------------------------------------------
def test_shipped_profiles_load_with_per_provider_overrides() -> None:
    names = latency_names()
    assert names[:3] == ("fixed", "normal", "heavy")
    profiles = {n: load_latency(n) for n in names}
    assert all(p.name == n and p.description for n, p in profiles.items())
    assert profiles["fixed"].default == Fixed(50)
    assert isinstance(profiles["normal"].default, Normal)
    heavy = profiles["heavy"]
    assert isinstance(heavy.default, Heavy) and heavy.default.stall_min_ms >= 1000
    assert heavy.for_provider("gatepay") != heavy.for_provider("flypay") == heavy.default
    assert set(heavy.providers) <= set(PROVIDERS)
    mixed = profiles["mixed"]
    kinds = {type(mixed.for_provider(p)) for p in PROVIDERS}
    assert kinds == {Fixed, Normal, Heavy}


def test_resolve_takes_numbers_names_and_inline_data() -> None:
    assert resolve_latency(None) is None and resolve_latency(0) is None
    assert resolve_latency(40).default == Fixed(40)  # type: ignore[union-attr]
    assert resolve_latency(" 12.5 ").default == Fixed(12.5)  # type: ignore[union-attr]
    assert resolve_latency("heavy") == load_latency("heavy")
    inline = resolve_latency({"default": {"kind": "normal", "mean_ms": 10, "sd_ms": 2},
                              "providers": {"fatpay": {"kind": "fixed", "ms": 3}}})
    assert isinstance(inline, LatencyProfile) and inline.for_provider("fatpay") == Fixed(3)
    with pytest.raises(UnknownProfile) as caught:
        resolve_latency("glacial")
    assert caught.value.allowed[:3] == ("fixed", "normal", "heavy")
    for bad in ({"default": {"kind": "gamma", "ms": 1}}, {"default": {"kind": "fixed", "ms": -1}},
                {"default": {"kind": "fixed", "ms": 1}, "extra": 1},
                {"default": {"kind": "heavy", "median_ms": 5, "sigma": 1,
                             "stall_probability": 2}}):
        with pytest.raises(ValueError):
            resolve_latency(bad)
    with pytest.raises(ValueError):
        resolve_latency(-5)
    with pytest.raises(TypeError):
        resolve_latency(True)


def test_sandbox_and_cli_refuse_unknown_latency_profiles() -> None:
    with pytest.raises(UnknownProfile):
        Sandbox(latency="glacial")
    with pytest.raises(InvalidRequest) as caught:
        run_sandbox(types.SimpleNamespace(latency_profile="glacial"))
    assert caught.value.field == "--latency-profile"
    assert caught.value.allowed.startswith("fixed, normal, heavy")
    faults, latency = sandbox_profiles(types.SimpleNamespace(latency_ms=50,
                                                             latency_profile="heavy"))
    assert faults is None and latency == load_latency("heavy")  # the profile takes precedence


# --- the sampler ----------------------------------------------------------------------------------
def test_fixed_is_exact_and_normal_respects_its_floor_and_mean() -> None:
    rng = random.Random(1)
    assert {sample_ms(Fixed(37.5), rng) for _ in range(100)} == {37.5}
    dist = Normal(mean_ms=80, sd_ms=25, floor_ms=40)
    draws = [sample_ms(dist, rng) for _ in range(20_000)]
    assert min(draws) == 40  # cut, not rejected: the floor is hit
    unfloored = [sample_ms(Normal(mean_ms=80, sd_ms=25), rng) for _ in range(20_000)]
    assert abs(statistics.fmean(unfloored) - 80) < 1.5
    assert abs(statistics.stdev(unfloored) - 25) < 1.5


def test_heavy_profile_stalls_rarely_at_the_configured_rate() -> None:
    dist = Heavy(median_ms=100, sigma=0.5, stall_probability=0.02, stall_min_ms=2000,
                 stall_max_ms=6000, floor_ms=10)
    rng = random.Random(7)
    n = 50_000
    draws = [sample_ms(dist, rng) for _ in range(n)]
    stalls = [d for d in draws if d >= 2000]
    expected = n * 0.02
    sigma = (n * 0.02 * 0.98) ** 0.5
    assert abs(len(stalls) - expected) < 5 * sigma  # 1000 +- 157
    assert all(2000 <= d <= 6000 for d in stalls)
    body = [d for d in draws if d < 2000]
    assert abs(statistics.median(body) - 100) < 5  # the lognormal's median
    assert max(body) < 2000 and min(body) >= 10
    no_stall = Heavy(median_ms=100, sigma=0.5, stall_probability=0)
    assert max(sample_ms(no_stall, rng) for _ in range(5000)) < 2000


def test_delays_are_seeded_by_world_provider_and_request_number() -> None:
    profile = load_latency("heavy")
    a = LatencyModel(profile, World(3), "flypay")
    b = LatencyModel(profile, World(3), "flypay")
    seq = [a.delay_ms(n) for n in range(200)]
    assert seq == [b.delay_ms(n) for n in range(200)]
    assert [b.delay_ms(n) for n in reversed(range(200))][::-1] == seq  # order of asking is moot
    assert seq != [LatencyModel(profile, World(4), "flypay").delay_ms(n) for n in range(200)]
    assert seq != [LatencyModel(profile, World(3), "onebitpay").delay_ms(n) for n in range(200)]
    assert len(set(seq)) > 150


# --- the middleware -------------------------------------------------------------------------------
class RecordingSleeper(Sleeper):
    """Records the delays asked for instead of waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float] = []

    async def sleep(self, seconds: float) -> bool:
        self.asked.append(seconds)
        return True


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def test_middleware_draws_each_requests_delay_from_the_seeded_model() -> None:
    world, profile = World(9), load_latency("mixed")
    sleeper = RecordingSleeper()

    async def ok(request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app = web.Application(middlewares=[latency_middleware(profile, world=world,
                                                          provider="gatepay", sleeper=sleeper)])
    app.router.add_get("/api", ok)
    app.router.add_get("/_sandbox/stats", ok)
    app.router.add_post("/_sandbox/reset", ok)
    runner, base = await _serve(app)
    try:
        async with aiohttp.ClientSession() as s:
            for _ in range(5):
                async with s.get(base + "/api") as r:
                    assert r.status == 200
                async with s.get(base + "/_sandbox/stats") as r:  # never delayed
                    assert r.status == 200
            async with s.post(base + "/_sandbox/reset") as r:
                assert r.status == 200
            async with s.get(base + "/api") as r:
                assert r.status == 200
    finally:
        await runner.cleanup()
    model = LatencyModel(profile, world, "gatepay")
    expected = [model.delay_ms(n) / 1000 for n in range(5)]
    assert sleeper.asked == [*expected, expected[0]]  # the reset restarts the sequence


async def _elapsed(session: aiohttp.ClientSession, url: str, **kw: Any) -> float:
    start = time.perf_counter()
    async with session.post(url, data=b"{}", **kw) as r:
        await r.read()
    return time.perf_counter() - start


async def test_sandbox_applies_fixed_latency_by_number_or_profile() -> None:
    for options in ({"latency_ms": 60}, {"latency": {"default": {"kind": "fixed", "ms": 60}}},
                    {"latency": 60}):
        async with Sandbox(seed=2, frozen=True, **options) as sb, \
                aiohttp.ClientSession() as s:
            for name in ("fixedfloat", "flypay"):
                url = sb.providers[name]["base_url"] + (
                    "/api/v2/ccies" if name == "fixedfloat" else "/api/v1/balances")
                assert await _elapsed(s, url) >= 0.06  # lower bound only


async def test_control_endpoints_are_never_delayed() -> None:
    async with Sandbox(seed=2, latency={"default": {"kind": "fixed", "ms": 30_000}}) as sb, \
            aiohttp.ClientSession() as s:
        base = sb.providers["gatepay"]["base_url"]
        for path in ("/_sandbox/stats", "/_sandbox/faults"):
            async with s.get(base + path, timeout=aiohttp.ClientTimeout(total=5)) as r:
                assert r.status == 200
        with pytest.raises(TimeoutError):
            async with s.get(base + "/v1/pay/convert/currency",
                             timeout=aiohttp.ClientTimeout(total=0.2)) as r:
                await r.read()
    # closing the sandbox woke the delayed handler: nothing waits 30 s
