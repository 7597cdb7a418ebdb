"""The sandbox's market world prices all five providers from one truth, each with its own terms,
so that every provider is the best somewhere and the worst somewhere else."""

from __future__ import annotations

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router

QUERIES = [
    ("BTC", "USDT", "0.002"), ("BTC", "USDT", "0.05"), ("BTC", "USDT", "0.5"), ("ETH", "BTC", "1"),
    ("ETH", "BTC", "20"), ("XRP", "USDT", "300"), ("LTC", "USDT", "5"), ("TRX", "USDT", "2000"),
    ("USD", "USDT", "30"), ("USD", "USDT", "5000"), ("EUR", "USDT", "50"), ("EUR", "USDT", "2000"),
]


async def test_every_provider_wins_somewhere_and_loses_somewhere() -> None:
    best: dict[str, list[str]] = {}
    worst: dict[str, list[str]] = {}
    async with Sandbox(seed=0, frozen=True) as sb:
        everyone = set(sb.providers)
        sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
        async with Router(sources) as router:
            for sell, buy, amount in QUERIES:
                rs = await router.quote(sell, buy, amount)
                ranked: list[str] = []  # each provider's best route, in rank order
                for route in rs.routes:
                    if route.providers[0] not in ranked:
                        ranked.append(route.providers[0])
                if len(ranked) >= 2:
                    query = f"{sell}->{buy} {amount}"
                    best.setdefault(ranked[0], []).append(query)
                    worst.setdefault(ranked[-1], []).append(query)
    assert everyone == {"fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay"}
    assert set(best) == everyone, best
    assert set(worst) == everyone, worst
