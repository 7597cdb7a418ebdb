"""The direct-route oracle: does ``Router.quote`` find the best firm answer there is?

For each query the oracle firm-quotes **every** direct market any provider lists for it, through
the adapters alone (never through the engine's firm plan), and takes the best delivered amount;
then it asks ``Router.quote(..., max_hops=1)`` with the engine's default settings and measures how
far the engine's best route falls short, in basis points of the oracle's best (sell side: less
received; buy side: more sent). Queries are every pair of the batch benchmark at three to eight
sizes, sell and buy side, fiat and crypto, over all five providers, on a sandbox without limits.

``python -m bench.oracle [--seeds 0,1,2,3] [--queries 400]`` prints the distribution.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from router import Router
from router.assets import Asset, from_id, parse_asset
from router.budgets import BudgetRegistry
from router.errors import ProviderError
from router.model import Market, Side
from router.snapshot.feemodel import FeeModel, load_fee_model
from router.sources.protocol import SourceContext

from .batchbench import _PAIRS, _SIZES_USD, _amount
from .measure import percentile
from .sandbox import Sandbox
from .workloads.common import make_sources

__all__ = ["Gap", "direct_queries", "run_oracle"]

_BP = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Gap:
    """One query: how many bp the engine's best is worse than the oracle's (negative: better)."""

    sell: str
    buy: str
    amount: Decimal
    side: Side
    bp: Decimal
    oracle: Market
    engine: Market | None  # the engine's best route's market (None: no route)
    asked: int  # direct markets the oracle firm-quoted


def direct_queries(n: int, seed: int) -> list[tuple[str, str, Decimal, Side]]:
    """``n`` queries drawn (seeded) from every benchmark pair: sell side at eight sizes, buy side at
    three ($120, $5,000, $60,000 of the asset received)."""
    queries: list[tuple[str, str, Decimal, Side]] = [
        (s, b, Decimal(_amount(s.partition("@")[0], usd)), "sell") for s, b in _PAIRS
        for usd in _SIZES_USD]
    queries += [(s, b, Decimal(_amount(b.partition("@")[0], usd)), "buy") for s, b in _PAIRS
                for usd in (120, 5000, 60000)]
    random.Random(seed).shuffle(queries)
    return queries[:n]


def _payout(model: FeeModel, provider: str, asset_out: str, buy: Asset) -> Decimal:
    """The wallet payout fee the fee model charges when ``provider`` leaves it to the user."""
    if provider not in model.payout_excluded:
        return Decimal(0)
    out = from_id(asset_out)
    net = out.network or buy.network
    if net is not None:
        return model.transfer.get(f"{out.coin}@{net}", Decimal(0))
    fees = [fee for key, fee in model.transfer.items() if key.partition("@")[0] == out.coin]
    return min(fees) if fees else Decimal(0)


async def _best_of_all(sources: Sequence[Any], model: FeeModel, sell: str, buy: str,
                       amount: Decimal, side: Side) -> tuple[Decimal, Market, int] | None:
    want_in, want_out = parse_asset(sell), parse_asset(buy)
    best: tuple[Decimal, Market] | None = None
    asked = 0
    for source in sources:
        try:
            markets = await source.markets()
        except ProviderError:
            continue
        for m in markets:
            if not (want_in.matches(from_id(m.asset_in)) and want_out.matches(from_id(m.asset_out))):
                continue
            fee = _payout(model, m.provider, m.asset_out, want_out)
            ask = amount + fee if side == "buy" else amount
            try:
                if getattr(source, "firm_quotes", True):
                    q = await source.firm(m, ask, side)
                else:  # indicative-only providers: their priced answer is all there is
                    q = await source.indicative(m, ask, side)
            except ProviderError:
                continue
            if q is None:
                continue
            asked += 1
            value = q.amount_out - fee if side == "sell" else q.amount_in
            if best is None or (value > best[0] if side == "sell" else value < best[0]):
                best = (value, m)
    return None if best is None else (best[0], best[1], asked)


async def run_oracle(seed: int, n: int) -> list[Gap]:
    """The gaps of ``n`` direct queries on a frozen, limit-free sandbox of ``seed``."""
    model = load_fee_model()
    gaps: list[Gap] = []
    async with Sandbox(seed=seed, frozen=True, no_limits=True) as sb, \
            aiohttp.ClientSession() as session:
        registry = BudgetRegistry()
        oracle_sources = make_sources(sb.providers)
        for s in oracle_sources:
            await s.open(SourceContext(session, registry))
        try:
            async with Router(make_sources(sb.providers)) as router:
                for sell, buy, amount, side in direct_queries(n, seed):
                    best = await _best_of_all(oracle_sources, model, sell, buy, amount, side)
                    if best is None:
                        continue  # no provider can carry it: nothing to miss
                    value, market, asked = best
                    rs = await router.quote(sell, buy, amount, side=side, max_hops=1)
                    route = rs.best
                    if route is None:
                        bp = _BP
                        engine = None
                    else:
                        got = route.amount_out if side == "sell" else route.amount_in
                        bp = ((value - got) if side == "sell" else (got - value)) / value * _BP
                        leg = route.legs[0]
                        engine = Market(leg.provider, leg.asset_in, leg.asset_out, leg.rate_type)
                    gaps.append(Gap(sell, buy, amount, side, bp, market, engine, asked))
        finally:
            for s in oracle_sources:
                await s.aclose()
            await registry.aclose()
    return gaps


def _describe(gaps: Sequence[Gap]) -> str:
    bps = [float(g.bp) for g in gaps]
    within = sum(1 for b in bps if b <= 1) / len(bps)
    return (f"{len(bps)} queries: within 1 bp {within:.1%}, over 10 bp {sum(b > 10 for b in bps)}, "
            f"p50 {percentile(bps, 50):.2f} bp, p99 {percentile(bps, 99):.2f} bp, "
            f"worst {max(bps):.2f} bp, engine better than the oracle {sum(b < -0.01 for b in bps)}")


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.oracle", description=__doc__)
    p.add_argument("--seeds", default="0,1,2,3")
    p.add_argument("--queries", type=int, default=400)
    args = p.parse_args(argv)
    every: list[Gap] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        gaps = asyncio.run(run_oracle(seed, args.queries))
        every += gaps
        print(f"seed {seed}: {_describe(gaps)}")
        for g in sorted(gaps, key=lambda g: g.bp, reverse=True)[:3]:
            if g.bp > 1:
                print(f"  {g.bp:.2f} bp  {g.side} {g.amount} {g.sell} -> {g.buy}: oracle "
                      f"{g.oracle.provider} {g.oracle.asset_out} {g.oracle.rate_type}, engine "
                      f"{g.engine.provider + ' ' + g.engine.asset_out if g.engine else 'no route'}")
    print(f"all: {_describe(every)}")


if __name__ == "__main__":
    main()
