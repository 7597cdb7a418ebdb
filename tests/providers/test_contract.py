"""One contract every adapter meets, run against its emulator in the sandbox.

Parametrised over all five providers: pairs listed, a quote for the sell and the buy side, limits
reported as ``limit_min``/``limit_max`` with the provider's figure, a bad credential rejected, a
transient failure reported and not raised, and the budget respected (the emulator never had to
refuse us).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import aiohttp
import pytest

from adapters.registry import PROVIDERS, build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router
from router.assets import Asset, from_id
from router.budgets import BudgetRegistry
from router.sources.protocol import SourceContext


@dataclass(frozen=True)
class Case:
    provider: str
    sell: str
    buy: str
    sell_amount: str  # in sell units, comfortably inside the limits
    buy_amount: str  # in buy units
    too_small: str  # in sell units, below the provider's minimum
    too_large: str | None  # in sell units, above the provider's maximum (None: it states none)
    bad_field: str  # the credential to corrupt
    firm: bool = True
    alt_sells: tuple[str, ...] = ()  # more sell assets, for a source whose prices are cached per pair


CASES = [
    Case("fixedfloat", "BTC", "USDT@TRC20", "0.1", "500", "0.00001", "900", "api_secret"),
    Case("gatepay", "BTC", "USDT", "0.1", "500", "0.00001", "900", "api_secret"),
    Case("flypay", "BTC", "USDT@TRC20", "0.05", "300", "0.000001", "900", "api_secret"),
    Case("onebitpay", "CNY", "USDT@TRC20", "2000", "200", "10", None, "api_secret", firm=False,
         alt_sells=("USD", "EUR", "RUB")),
    Case("fatpay", "USD", "USDT@ERC20", "300", "100", "1", "9000000", "private_key_pem"),
]
IDS = [c.provider for c in CASES]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=11, frozen=True) as sb:
        yield sb


def _values(sb: Sandbox, case: Case, **override: object) -> dict[str, object]:
    return {**sandbox_values(case.provider, sb.providers[case.provider]), **override}


async def _stats(sb: Sandbox, provider: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as s, s.get(sb.providers[provider]["base_url"] + "/_sandbox/stats") as r:
        return await r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_pairs_and_quotes_both_sides(sandbox: Sandbox, case: Case) -> None:
    source = build_source(case.provider, _values(sandbox, case))
    async with aiohttp.ClientSession() as session:
        await source.open(SourceContext(session=session, budgets=BudgetRegistry()))
        try:
            markets = await source.markets()
            sell, buy = from_id(case.sell), from_id(case.buy)
            matching = [m for m in markets if sell.matches(from_id(m.asset_in))
                        and buy.matches(from_id(m.asset_out))]
            assert matching, f"{case.provider} lists no {case.sell}->{case.buy}"
            assert all(m.provider == case.provider for m in markets)
            for m in markets:  # every id is canonical
                assert Asset.of(*_split(m.asset_in)).id == m.asset_in
            market = matching[0]
            get = source.firm if case.firm else source.indicative
            q_sell = await get(market, Decimal(case.sell_amount), "sell")
            q_buy = await get(market, Decimal(case.buy_amount), "buy")
        finally:
            await source.aclose()
    assert q_sell is not None and q_buy is not None
    assert q_sell.kind == ("firm" if case.firm else "indicative")
    assert q_sell.amount_in == Decimal(case.sell_amount) and q_sell.amount_out > 0
    assert q_buy.amount_out >= Decimal(case.buy_amount) and q_buy.amount_in > 0
    assert (q_sell.asset_in, q_sell.asset_out) == (market.asset_in, market.asset_out)


def _split(asset_id: str) -> tuple[str, str | None]:
    coin, _, net = asset_id.partition("@")
    return coin, net or None


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_limits_carry_the_providers_figures(sandbox: Sandbox, case: Case) -> None:
    source = build_source(case.provider, _values(sandbox, case))
    async with Router([source]) as r:
        small = await r.quote(case.sell, case.buy, case.too_small)
        large = await r.quote(case.sell, case.buy, case.too_large) if case.too_large else None
    assert small.routes == ()
    mins = [u for u in small.unavailable if u.reason == "limit_min"]
    assert mins and all(u.limit is not None and u.limit > Decimal(case.too_small) for u in mins)
    if large is None:
        return  # 1BitPay documents no maximum volume
    assert large.routes == ()
    maxes = [u for u in large.unavailable if u.reason == "limit_max"]
    assert maxes and all(u.limit is not None for u in maxes)


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_bad_credential_is_reported_as_auth_failed(sandbox: Sandbox, case: Case) -> None:
    bad = "-----BEGIN PRIVATE KEY-----" if case.bad_field == "private_key_pem" else "wrong-secret"
    if case.bad_field == "private_key_pem":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        bad = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()
    from router.secret import Secret

    source = build_source(case.provider, _values(sandbox, case, **{case.bad_field: Secret(bad)}))
    async with Router([source]) as r:
        rs = await r.quote(case.sell, case.buy, case.sell_amount)
    assert rs.routes == ()
    assert {u.reason for u in rs.unavailable} == {"auth_failed"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_provider_down_is_reported_not_raised(sandbox: Sandbox, case: Case) -> None:
    source = build_source(case.provider, _values(sandbox, case, base_url="http://127.0.0.1:9"))
    async with Router([source]) as r:
        rs = await r.quote(case.sell, case.buy, case.sell_amount, deadline=3)
    assert rs.routes == ()
    assert {u.reason for u in rs.unavailable} <= {"provider_error", "timeout"}
    assert rs.unavailable


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_budget_is_respected(sandbox: Sandbox, case: Case) -> None:
    before = await _stats(sandbox, case.provider)
    source = build_source(case.provider, _values(sandbox, case, budget_limit=3, budget_margin=0.0,
                                                 budget_reserve=0))
    sells = (case.sell, *case.alt_sells)
    reasons: set[str] = set()
    async with Router([source], cache=False) as r:
        for i in range(12):
            amount = Decimal(case.sell_amount) + Decimal(i) / 100  # distinct, inside the limits
            rs = await r.quote(sells[i % len(sells)], case.buy, amount)
            reasons |= {u.reason for u in rs.unavailable}
    after = await _stats(sandbox, case.provider)
    assert "budget_exhausted" in reasons
    assert after["units"] - before["units"] <= 3
    assert after["rate_limited"] == before["rate_limited"]


def test_every_provider_has_an_emulator_and_a_contract_case() -> None:
    from bench.sandbox import EMULATORS

    assert {c.provider for c in CASES} == set(PROVIDERS) == {spec.name for spec in EMULATORS}
