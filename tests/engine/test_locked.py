"""Honest labels: a route says whether its provider holds the price (locked) or only priced it."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import orjson
import pytest

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router
from router.face.render import render_explain, render_table, routeset_to_json
from router.model import Fee, Leg, Quote, Route
from router.pricing.collect import route_of
from router.pricing.rank import rank_routes
from router.pricing.routes import route_of_legs

D = Decimal


def _quote(**kw: object) -> Quote:
    base: dict[str, object] = dict(provider="p", asset_in="BTC@BTC", asset_out="USDT@TRC20",
                                   amount_in=D(1), amount_out=D(60000), rate_type="fixed",
                                   kind="firm", quote_id="Q1", expires_at=1_020.0)
    base.update(kw)
    return Quote(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "locked"), [
    ({}, True),  # a preview with its quote id and expiry
    ({"quote_id": None}, False),  # a fixed-rate price with nothing to hold it by
    ({"expires_at": None}, False),
    ({"rate_type": "float", "quote_id": None}, False),  # a floating rate, an estimate
    ({"kind": "indicative"}, False),
])
def test_locked_needs_a_firm_answer_with_an_id_and_an_expiry(changes: dict[str, object],
                                                             locked: bool) -> None:
    q = _quote(**changes)
    assert q.locked is locked
    route = route_of(q)
    assert route.locked is locked and route.legs[0].locked is locked


def test_a_route_is_locked_only_when_every_leg_is() -> None:
    held = Leg.from_quote(_quote())
    moving = Leg.from_quote(_quote(quote_id=None, asset_in="USDT@TRC20", asset_out="ETH@ERC20"))
    assert route_of_legs([held, held]).locked
    assert not route_of_legs([held, moving]).locked


def test_ranking_prefers_locked_then_firm_then_indicative_at_equal_value() -> None:
    locked = route_of(_quote(provider="z"))
    firm = route_of(_quote(provider="a", quote_id=None))
    indicative = route_of(_quote(provider="b", kind="indicative", quote_id=None))
    ranked = rank_routes([indicative, firm, locked], "sell", now=1_000.0)
    assert [r.providers[0] for r in ranked] == ["z", "a", "b"]
    better = route_of(_quote(provider="c", quote_id=None, amount_out=D("60000.01")))
    assert rank_routes([locked, better], "sell", now=1_000.0)[0] is better  # value comes first


def test_an_expired_lock_is_no_lock() -> None:
    (route,) = rank_routes([route_of(_quote())], "sell", now=1_020.0)
    assert route.kind == "indicative" and not route.locked
    assert not any(leg.locked for leg in route.legs)


async def test_sandbox_labels_each_provider_honestly() -> None:
    async with Sandbox(seed=0, frozen=True) as sb:
        sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
        async with Router(sources) as r:
            rs = await r.quote("ETH", "BTC", "2")
    direct = {rt.legs[0].provider: rt for rt in rs.routes if len(rt.legs) == 1
              and rt.kind == "firm"}
    gatepay, flypay = direct["gatepay"], direct["flypay"]
    assert gatepay.locked and gatepay.legs[0].quote_id and gatepay.expires_at is not None
    assert not flypay.locked  # FlyPay's estimated_amount holds nothing
    for rt in rs.routes:
        assert rt.locked == all(leg.locked and leg.quote_id for leg in rt.legs)
        assert not (rt.locked and rt.kind != "firm")
    doc = orjson.loads(routeset_to_json(rs, "sandbox"))
    by_provider = {r["legs"][0]["provider"]: r for r in doc["routes"] if len(r["legs"]) == 1}
    assert by_provider["gatepay"]["locked"] is True and by_provider["flypay"]["locked"] is False
    assert by_provider["gatepay"]["legs"][0]["locked"] is True
    assert by_provider["gatepay"]["legs"][0]["expires_at"] == gatepay.expires_at
    table = render_table(msgspec.structs.replace(rs, routes=(gatepay, flypay)), "sandbox")
    assert table.startswith("you send") and "locked until" in table.splitlines()[0]
    assert "held until" in table
    explain = render_explain(msgspec.structs.replace(rs, routes=(gatepay, flypay)), "sandbox")
    assert f"gatepay fixed locked, quote {gatepay.legs[0].quote_id} held until" in explain
    assert "flypay float firm:" in explain


def test_route_names_the_chain_it_delivers_on() -> None:
    leg = Leg.from_quote(_quote(asset_out="USDT"))
    paid_out = Route(legs=(leg,), amount_in=D(1), amount_out=D(59999), kind="firm",
                     payout_fee=Fee("network", D(1), "USDT@TRC20"))
    assert paid_out.asset_out == "USDT@TRC20" and paid_out.asset_in == "BTC@BTC"
    assert Route(legs=(leg,), amount_in=D(1), amount_out=D(1), kind="firm").asset_out == "USDT"
