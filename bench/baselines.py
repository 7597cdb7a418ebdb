"""The clients bestrate is compared with, in the same run, on the same sources and sandbox.

* :class:`SequentialClient`: one provider after the other, firm quotes one at a time, no
  parallelism, no deadline, no coalescing or cache (what a straightforward script does).
* :class:`ParallelClient`: ``asyncio.gather`` over every provider's firm quotes, with no budgets
  (huge), no deadline and no coalescing.
* :func:`fixedfloatapi_prices`: the PyPI client ``fixedfloatapi`` (sync, ``requests``), FixedFloat
  alone, its hard-coded ``https://ff.io`` redirected to the sandbox's FixedFloat base URL.

Both async clients ask the same markets: per provider, the direct markets of the pair (any
network where the request names none), the ``per_provider`` best by the provider's own bulk data
(2, as the router's first round). Their answer is the best firm ``amount_out``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from router import Market, ProviderError, Quote, QuoteSource
from router.assets import from_id

__all__ = ["ParallelClient", "Plan", "SequentialClient", "fixedfloatapi_prices", "make_plan"]

Plan = list[tuple[QuoteSource, Market]]


async def make_plan(sources: Sequence[QuoteSource], sell: str, buy: str, amount: Decimal,
                    per_provider: int = 2) -> Plan:
    """The markets a simple client asks for ``sell`` → ``buy``: per provider, its direct
    markets ranked by its own indicative price (unpriced last), the first ``per_provider``."""
    want_in, want_out = from_id(sell), from_id(buy)
    plan: Plan = []
    for source in sources:
        try:
            markets = [m for m in await source.markets()
                       if want_in.matches(from_id(m.asset_in)) and want_out.matches(from_id(m.asset_out))]
        except ProviderError:
            continue
        ranked: list[tuple[Decimal, int, Market]] = []
        for i, m in enumerate(markets):
            try:
                q = await source.indicative(m, amount, "sell")
            except ProviderError:
                continue  # out of the provider's limits: a client that checks limits skips it
            ranked.append((-(q.amount_out if q is not None else Decimal(-1)), i, m))
        ranked.sort()
        plan.extend((source, m) for _, _, m in ranked[:per_provider])
    return plan


async def _ask(source: QuoteSource, market: Market, amount: Decimal) -> Quote:
    if getattr(source, "firm_quotes", True):
        return await source.firm(market, amount, "sell")
    q = await source.indicative(market, amount, "sell")  # indicative-only providers
    if q is None:
        raise ProviderError(source.name, "no price")
    return q


class _Client:
    label = ""

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.answered: set[str] = set()  # providers that answered the last quote

    def _best(self, answers: Sequence[Quote | BaseException]) -> Quote | None:
        quotes = [a for a in answers if isinstance(a, Quote)]
        self.answered = {q.provider for q in quotes}
        self.errors += sum(isinstance(a, BaseException) for a in answers)
        return max(quotes, key=lambda q: q.amount_out, default=None)


class SequentialClient(_Client):
    label = "sequential client"

    async def quote(self, plan: Plan, amount: Decimal) -> Quote | None:
        answers: list[Quote | BaseException] = []
        for source, market in plan:
            self.calls += 1
            try:
                answers.append(await _ask(source, market, amount))
            except ProviderError as exc:
                answers.append(exc)
        return self._best(answers)


class ParallelClient(_Client):
    label = "naive parallel client"

    async def quote(self, plan: Plan, amount: Decimal) -> Quote | None:
        self.calls += len(plan)
        answers = await asyncio.gather(*(_ask(s, m, amount) for s, m in plan),
                                       return_exceptions=True)
        for a in answers:
            if isinstance(a, BaseException) and not isinstance(a, Exception):
                raise a  # cancellation and friends are not answers
        return self._best(answers)


@contextmanager
def _redirect_ff(base_url: str) -> Iterator[None]:
    """Point ``fixedfloatapi``'s hard-coded ``https://ff.io`` at ``base_url``; a new connection per
    call as the client makes (``requests.post``), never through an environment proxy."""
    import fixedfloatapi.FixedFloatAPI as module
    import requests

    original = module.requests.post

    def post(url: str, *args: Any, **kwargs: Any) -> Any:
        if not url.startswith("https://ff.io/"):
            raise AssertionError(f"unexpected URL {url}")
        kwargs.pop("verify", None)
        with requests.Session() as session:
            session.trust_env = False
            return session.post(base_url + url[len("https://ff.io"):], *args, **kwargs)

    module.requests.post = post  # type: ignore[assignment]
    try:
        yield
    finally:
        module.requests.post = original  # type: ignore[assignment]


def fixedfloatapi_prices(block: Mapping[str, str], asks: Sequence[tuple[str, str, str, str]],
                         calls: int) -> dict[str, Any]:
    """Time ``calls`` ``price`` calls of the PyPI client (``asks`` in turn: FixedFloat codes
    from, to, amount, rate type). Returns the durations in ms and how many answered."""
    import fixedfloatapi

    client = fixedfloatapi.FixedFloatApi(block["api_key"], block["api_secret"])
    times: list[float] = []
    failed = 0
    with _redirect_ff(block["base_url"]):
        for i in range(calls):
            src, dst, amount, rate_type = asks[i % len(asks)]
            t0 = time.perf_counter()
            try:
                client.price({"fromCcy": src, "toCcy": dst, "amount": amount,
                              "direction": "from", "type": rate_type})
            except Exception:  # noqa: BLE001 - the client raises bare Exception on errors
                failed += 1
                continue
            times.append((time.perf_counter() - t0) * 1000)
    return {"ms": times, "failed": failed}
