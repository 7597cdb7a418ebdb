"""GatePaySource against canned answers: markets from the lists, limits, firm quotes, checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.gatepay import GatePaySource
from router.budgets import BudgetRegistry
from router.errors import (
    AmountOutOfRange,
    AuthError,
    MalformedResponse,
    ProviderUnavailable,
    UnsupportedPair,
)
from router.model import Market
from router.sources.protocol import QuoteSource, SourceContext
from tests.providers.gatepay.canned import (
    CLIENT_ID,
    PREFIX,
    SECRET,
    Canned,
    FakeGatePay,
    Seen,
    fail,
    ok,
)

NOW = 1_700_000_000.0

PAIRS: dict[str, list[dict[str, Any]]] = {
    "BTC": [
        {"pair": "BTC_USDT", "sellCurrency": "BTC", "buyCurrency": "USDT",
         "sellCurrencyMin": "0.0008", "sellCurrencyMax": "31", "buyCurrencyMin": "50",
         "buyCurrencyMax": "1980000"},
        {"pair": "BTC_USDT", "sellCurrency": "USDT", "buyCurrency": "BTC",
         "sellCurrencyMin": "50", "sellCurrencyMax": "2000000", "buyCurrencyMin": "0.0008",
         "buyCurrencyMax": "30"},
    ],
    "USDT": [  # the same directions again, plus USDT -> GT
        {"pair": "BTC_USDT", "sellCurrency": "USDT", "buyCurrency": "BTC",
         "sellCurrencyMin": "50", "sellCurrencyMax": "2000000", "buyCurrencyMin": "0.0008",
         "buyCurrencyMax": "30"},
        {"pair": "GT_USDT", "sellCurrency": "USDT", "buyCurrency": "GT",
         "sellCurrencyMin": "50", "sellCurrencyMax": "5000", "buyCurrencyMin": "2",
         "buyCurrencyMax": "220"},
        {"pair": "BAD_USDT", "sellCurrency": "USDT", "buyCurrency": "DOGE",  # min > max: skipped
         "sellCurrencyMin": "500", "sellCurrencyMax": "50", "buyCurrencyMin": "1",
         "buyCurrencyMax": "2"},
    ],
    "GT": [],
}


def pair_answer(seen: Seen) -> Canned:
    currency = seen.query["currency"]
    if currency not in PAIRS:
        return Canned(fail("400001", "INVALID_PARAM", "unknown currency"))
    return Canned(ok(PAIRS[currency]))


def preview_answer(seen: Seen) -> Canned:
    import json

    body = json.loads(seen.body)
    rate = Decimal("30000")  # USDT per BTC
    if body["sellCurrency"] == "BTC":
        sell = Decimal(body["sellAmount"]) if "sellAmount" in body else \
            (Decimal(body["buyAmount"]) / rate).quantize(Decimal("1e-8"))
        buy = Decimal(body.get("buyAmount") or sell * rate)
    else:
        buy = Decimal(body["buyAmount"]) if "buyAmount" in body else \
            (Decimal(body["sellAmount"]) / rate).quantize(Decimal("1e-8"))
        sell = Decimal(body.get("sellAmount") or buy * rate)
    return Canned(ok({"sellCurrency": body["sellCurrency"], "buyCurrency": body["buyCurrency"],
                      "sellAmount": str(sell), "buyAmount": str(buy), "price": str(rate),
                      "quoteId": "PAY-q1"}))


@pytest.fixture
async def source(gp: FakeGatePay, session: aiohttp.ClientSession,  # noqa: F811
                 ) -> AsyncIterator[GatePaySource]:
    gp.script[PREFIX + "/currency"] = Canned(ok({"currency": ["BTC", "USDT", "GT", "XYZ"]}))
    gp.script[PREFIX + "/pair"] = pair_answer
    gp.script[PREFIX + "/preview"] = preview_answer
    registry = BudgetRegistry()
    src = GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url, clock=lambda: NOW)
    await src.open(SourceContext(session, registry))
    yield src
    await src.aclose()
    await registry.aclose()


def market(sell: str, buy: str) -> Market:
    return Market("gatepay", sell, buy, "fixed", f"{sell}/{buy}")


async def test_is_a_quote_source(source: GatePaySource) -> None:
    assert isinstance(source, QuoteSource) and source.name == "gatepay"


async def test_markets_one_per_direction(source: GatePaySource, gp: FakeGatePay,  # noqa: F811
                                         ) -> None:
    markets = await source.markets()
    got = sorted((m.asset_in, m.asset_out, m.rate_type, m.ref) for m in markets)
    assert got == [("BTC@BTC", "USDT", "fixed", "BTC/USDT"), ("USDT", "BTC@BTC", "fixed", "USDT/BTC"),
                   ("USDT", "GT", "fixed", "USDT/GT")]
    assert await source.markets() is markets  # cached
    paths = [(s.path, s.query.get("currency")) for s in gp.requests]
    assert paths[0] == (PREFIX + "/currency", None)
    assert sorted(c for _, c in paths[1:]) == ["BTC", "GT", "USDT", "XYZ"]  # XYZ refused: skipped
    catalog = await source.catalog()
    assert catalog.skipped == 2  # XYZ's refused list and the impossible BAD_USDT pair


async def test_concurrent_callers_share_one_read(source: GatePaySource,
                                                 gp: FakeGatePay) -> None:  # noqa: F811
    await asyncio.gather(*(source.markets() for _ in range(5)))
    assert sum(s.path == PREFIX + "/currency" for s in gp.requests) == 1


async def test_lists_refresh_after_ttl(gp: FakeGatePay, session: aiohttp.ClientSession,  # noqa: F811
                                       ) -> None:
    gp.script[PREFIX + "/currency"] = Canned(ok({"currency": ["GT"]}))
    gp.script[PREFIX + "/pair"] = pair_answer
    now = [NOW]
    registry = BudgetRegistry()
    src = GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url, clock=lambda: now[0],
                        lists_ttl=600)
    await src.open(SourceContext(session, registry))
    try:
        await src.markets()
        now[0] += 599
        await src.markets()
        assert len(gp.requests) == 2
        now[0] += 2
        await src.markets()
        assert len(gp.requests) == 4
    finally:
        await src.aclose()
        await registry.aclose()


@pytest.mark.parametrize(("mkt", "amount", "side", "below", "limit", "asset"), [
    (("BTC", "USDT"), "0.0001", "sell", True, "0.0008", "BTC@BTC"),
    (("BTC", "USDT"), "32", "sell", False, "31", "BTC@BTC"),
    (("BTC", "USDT"), "10", "buy", True, "50", "USDT"),  # buy side: the received coin's limits
    (("USDT", "GT"), "221", "buy", False, "220", "GT"),
    (("USDT", "GT"), "6000", "sell", False, "5000", "USDT"),
])
async def test_indicative_limits_carry_gatepays_figure(
        source: GatePaySource, gp: FakeGatePay, mkt: tuple[str, str], amount: str,  # noqa: F811
        side: str, below: bool, limit: str, asset: str) -> None:
    m = market(*mkt)
    with pytest.raises(AmountOutOfRange) as info:
        await source.indicative(m, Decimal(amount), side)  # type: ignore[arg-type]
    err = info.value
    assert err.below_min is below and err.limit == Decimal(limit) and err.asset == asset
    with pytest.raises(AmountOutOfRange):  # firm refuses too, without spending a preview
        await source.firm(m, Decimal(amount), side)  # type: ignore[arg-type]
    assert not any(s.path == PREFIX + "/preview" for s in gp.requests)


async def test_indicative_inside_limits_is_none(source: GatePaySource) -> None:
    assert await source.indicative(market("BTC", "USDT"), Decimal("0.5"), "sell") is None
    assert await source.indicative(market("BTC", "USDT"), Decimal("1000"), "buy") is None


async def test_unknown_pair_is_unsupported(source: GatePaySource) -> None:
    with pytest.raises(UnsupportedPair):
        await source.indicative(market("GT", "BTC"), Decimal(1), "sell")
    with pytest.raises(UnsupportedPair):
        await source.firm(Market("other", "BTC", "USDT", "fixed", "BTC/USDT"), Decimal(1), "sell")


async def test_firm_sell(source: GatePaySource, gp: FakeGatePay) -> None:  # noqa: F811
    quote = await source.firm(market("BTC", "USDT"), Decimal("0.123456789"), "sell")
    assert quote.kind == "firm" and quote.rate_type == "fixed" and quote.quote_id == "PAY-q1"
    assert quote.amount_in == Decimal("0.12345678")  # BTC: cut to 8 places, down
    assert quote.amount_out == Decimal("3703.7034")
    assert quote.expires_at == NOW + 20 and quote.observed_at == NOW
    assert quote.limit_min == Decimal("0.0008") and quote.limit_max == Decimal("31")
    assert gp.requests[-1].body == (b'{"sellCurrency":"BTC","buyCurrency":"USDT",'
                                    b'"sellAmount":"0.12345678"}')


async def test_firm_buy(source: GatePaySource, gp: FakeGatePay) -> None:  # noqa: F811
    quote = await source.firm(market("USDT", "BTC"), Decimal("0.01"), "buy")
    assert quote.amount_out == Decimal("0.01") and quote.amount_in == Decimal("300.00")
    assert (quote.asset_in, quote.asset_out) == ("USDT", "BTC")
    assert b'"buyAmount":"0.01"' in gp.requests[-1].body


@pytest.mark.parametrize("patch", [
    {"sellAmount": "0.7"},  # not what we asked
    {"buyAmount": "0"},
    {"buyAmount": "NaN"},
    {"buyAmount": "99999"},  # far from 0.5 * 30000
    {"buyCurrency": "ETH"},
    {"quoteId": " "},
    {"price": "-1"},
])
async def test_impossible_previews_are_malformed(source: GatePaySource, gp: FakeGatePay,  # noqa: F811
                                                 patch: dict[str, str]) -> None:
    good = {"sellCurrency": "BTC", "buyCurrency": "USDT", "sellAmount": "0.5",
            "buyAmount": "15000", "price": "30000", "quoteId": "PAY-q1"}
    gp.script[PREFIX + "/preview"] = Canned(ok({**good, **patch}))
    with pytest.raises(MalformedResponse):
        await source.firm(market("BTC", "USDT"), Decimal("0.5"), "sell")


@pytest.mark.parametrize("rate", [{"rate": "0.0000333333"}, {"price": "30000"}, {}])
async def test_rate_may_be_price_or_rate_either_way_round(
        source: GatePaySource, gp: FakeGatePay, rate: dict[str, str]) -> None:  # noqa: F811
    gp.script[PREFIX + "/preview"] = Canned(ok({
        "sellCurrency": "BTC", "buyCurrency": "USDT", "sellAmount": "0.5", "buyAmount": "15000",
        "quoteId": "PAY-q2", **rate}))
    quote = await source.firm(market("BTC", "USDT"), Decimal("0.5"), "sell")
    assert quote.amount_out == Decimal("15000") and quote.quote_id == "PAY-q2"


async def test_lists_unreadable(gp: FakeGatePay, session: aiohttp.ClientSession) -> None:  # noqa: F811
    gp.script[PREFIX + "/currency"] = Canned(fail("400002", "INVALID_SIGNATURE", "bad"))
    gp.script[PREFIX + "/preview"] = preview_answer
    registry = BudgetRegistry()
    src = GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url)
    await src.open(SourceContext(session, registry))
    try:
        with pytest.raises(AuthError):
            await src.markets()
        with pytest.raises(AuthError):  # remembered: the provider is not asked again at once
            await src.markets()
        assert len(gp.requests) == 1
        assert await src.indicative(market("BTC", "USDT"), Decimal("0.5"), "sell") is None
        quote = await src.firm(market("BTC", "USDT"), Decimal("0.5"), "sell")  # quotes anyway
        assert quote.limit_min is None and quote.amount_out == Decimal("15000.0")
    finally:
        await src.aclose()
        await registry.aclose()


async def test_transient_list_failure_keeps_the_old_catalog(
        gp: FakeGatePay, session: aiohttp.ClientSession) -> None:  # noqa: F811
    gp.script[PREFIX + "/currency"] = [Canned(ok({"currency": ["GT", "USDT"]})),
                                       Canned(fail("300000"), status=500)]
    gp.script[PREFIX + "/pair"] = pair_answer
    now = [NOW]
    registry = BudgetRegistry()
    src = GatePaySource(CLIENT_ID, SECRET, base_url=gp.base_url, clock=lambda: now[0])
    await src.open(SourceContext(session, registry))
    try:
        first = await src.markets()
        now[0] += 601
        assert await src.markets() is first  # stale but usable
        with pytest.raises(ProviderUnavailable):
            await src.client.currencies()  # the outage is real
    finally:
        await src.aclose()
        await registry.aclose()


async def test_lifecycle(source: GatePaySource, session: aiohttp.ClientSession) -> None:  # noqa: F811
    await source.aclose()
    await source.aclose()  # idempotent
    for call in (source.markets(), source.indicative(market("BTC", "USDT"), Decimal(1), "sell"),
                 source.firm(market("BTC", "USDT"), Decimal(1), "sell")):
        with pytest.raises(RuntimeError):
            await call
    with pytest.raises(RuntimeError):
        await source.open(SourceContext(session, BudgetRegistry()))
