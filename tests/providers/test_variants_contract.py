"""Every adapter against every strict doc reading of its emulator, with no configuration.

For each ``provider.name=value`` the sandbox declares, the emulator accepts only that reading; the
adapter must still list its markets and quote both sides through a Router (learning the accepted
form with at most one retry), and a bad credential must still read as ``auth_failed``.
"""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from adapters.gatepay import new_client_req_id
from adapters.registry import build_source, sandbox_values
from bench.sandbox import EMULATORS, Sandbox
from router import Router
from router.budgets import BudgetRegistry
from router.secret import Secret
from router.sources.protocol import SourceContext

from .test_contract import CASES

_CASE = {c.provider: c for c in CASES}
_ALLOWED = {"limit_min", "limit_max", "unsupported_pair"}
VARIANTS = [(spec.name, v.name, value) for spec in EMULATORS for v in spec.variants
            for value in v.values]
IDS = [f"{p}.{n}={v}" for p, n, v in VARIANTS]


async def _stats(sb: Sandbox, provider: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as s, \
            s.get(sb.providers[provider]["base_url"] + "/_sandbox/stats") as r:
        return await r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("provider", "name", "value"), VARIANTS, ids=IDS)
async def test_adapter_quotes_under_every_variant(provider: str, name: str, value: str) -> None:
    case = _CASE[provider]
    async with Sandbox(seed=11, frozen=True, variants={f"{provider}.{name}": value}) as sb:
        source = build_source(provider, sandbox_values(provider, sb.providers[provider]))
        async with Router([source], cache=False) as r:
            answers = [await r.quote(case.sell, case.buy, case.sell_amount),
                       await r.quote(case.sell, case.buy, case.buy_amount, side="buy"),
                       await r.quote(case.sell, case.buy, Decimal(case.sell_amount) * 2)]
        stats = await _stats(sb, provider)
    for rs in answers:
        assert rs.best is not None, [(u.provider, u.reason, u.detail) for u in rs.unavailable]
        assert {leg.kind for leg in rs.best.legs} == {"firm" if case.firm else "indicative"}
        assert {u.reason for u in rs.unavailable} <= _ALLOWED, rs.unavailable
    # one retry to learn the accepted form, never a loop
    assert stats.get("signature_failures", 0) <= 1
    assert stats.get("rate_limited", 0) == 0


@pytest.mark.parametrize("value", ["http-status", "http-200"])
async def test_flypay_bad_key_is_auth_failed_in_every_error_form(value: str) -> None:
    async with Sandbox(seed=11, frozen=True, variants={"flypay.errors": value}) as sb:
        values = {**sandbox_values("flypay", sb.providers["flypay"]),
                  "api_secret": Secret("wrong-secret")}
        async with Router([build_source("flypay", values)]) as r:
            rs = await r.quote("BTC", "USDT@TRC20", "0.05")
    assert rs.routes == ()
    assert {u.reason for u in rs.unavailable} == {"auth_failed"}


@pytest.mark.parametrize("value", ["single", "split"])
async def test_fixedfloat_reads_fixed_rates_from_either_export_path(value: str) -> None:
    async with Sandbox(seed=11, frozen=True, variants={"fixedfloat.rates_path": value}) as sb:
        source = build_source("fixedfloat", sandbox_values("fixedfloat", sb.providers["fixedfloat"]))
        async with aiohttp.ClientSession() as session:
            await source.open(SourceContext(session=session, budgets=BudgetRegistry()))
            try:
                edges = await source.edges()
            finally:
                await source.aclose()
    fed = [e for e in edges if e.market.rate_type == "fixed" and e.rate is not None
           and not e.estimated]
    assert len(fed) > 10  # the fixed-rate export was read, whichever path serves it


@pytest.mark.parametrize("value", ["OrderID", "orderId"])
async def test_gatepay_order_query_under_either_parameter_name(value: str) -> None:
    async with Sandbox(seed=11, frozen=True, variants={"gatepay.order_id_param": value}) as sb:
        source = build_source("gatepay", sandbox_values("gatepay", sb.providers["gatepay"]))
        async with aiohttp.ClientSession() as session:
            await source.open(SourceContext(session=session, budgets=BudgetRegistry()))
            try:
                client = source.client  # type: ignore[attr-defined]
                preview = await client.preview("USDT", "BTC", sell_amount=Decimal("100"))
                order = await client.convert(
                    preview.quoteId, new_client_req_id(), sell_currency=preview.sellCurrency,
                    buy_currency=preview.buyCurrency, sell_amount=preview.sellAmount,
                    buy_amount=preview.buyAmount)
                fetched = await client.order(order.id)
            finally:
                await source.aclose()
    assert fetched.id == order.id
