"""Chaos: thousands of quotes against an in-process sandbox injecting every fault kind.

The sandbox runs the shipped ``chaos`` profile (about a third of all requests go wrong: 5xx,
resets, stalls, trickled bodies, malformed, missing, wrong-typed and absurd fields, bad and
missing signatures, 429 storms, blocked keys, expired quotes, clock skew) with its stalls and
storms shortened so the run takes seconds, not minutes. Quotes run concurrently, 40 at a time, a
batch every 0.4 s, with a 0.5 s deadline. The router's reaction times are scaled to such a run: a
budget pauses 0.5 s (doubling to 4 s) after a "too many", and a circuit cools down for 0.5 s
(doubling to 4 s), instead of 5 s and more, so that one storm or one bad stretch does not silence
a provider for the rest of the run. Budgets keep their real limits, so most providers run dry
within the run (``budget_exhausted``), as they would. Everything that keeps time (the emulators'
windows, storms and blocks, the router's budgets and breakers) reads the event loop's clock, so
the same run works on a real loop and on a virtual one. Figures:

* **unhandled exceptions**: none escapes ``quote``, none reaches the event loop's handler
  (unretrieved task exceptions, tasks destroyed while pending), and no answer reports an
  "internal error" (a source raising something other than a ``ProviderError``);
* **deadline**: each answer's own ``elapsed_ms`` against its deadline plus the engine's grace
  (``late_by_own_clock``), and each call timed by its caller on the loop clock (``latency_ms``:
  the distribution a real, possibly loaded, machine shows);
* **wrong winners**: a call's chosen route is wrong when (A) one of its firm legs is not an answer
  this call received, or is a lie (a fault-free oracle sandbox with the same seed, asked the same
  question, answers differently); (B) a truthful firm answer this call received in time for one of
  its direct markets, from a provider it did not rightly distrust, beats it or is missing from the
  ranking; (C) one of its indicative legs is better than the fault-free bulk data says;
* **budget overruns**: the emulators' own ``rate_limited``/``blocks`` counters (injected storms
  and blocked keys are counted apart, under ``faults``) stay at zero.

The test suite runs it on a virtual clock (``tests/system/test_chaos.py``: every property but the
real-clock latency); ``bestrate bench --scenario chaos`` runs it on the real clock and reports the
latency distribution. ``python -m bench.workloads.chaos [calls]`` prints the figures of one run.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp

from adapters.registry import PROVIDERS, build_source, sandbox_values
from router import Router
from router.budgets import BudgetRegistry, MemoryBudgetStore
from router.engine import DEADLINE_GRACE
from router.errors import AuthError, MalformedResponse, ProviderError, SignatureInvalid
from router.model import Leg, Market, Quote, QuoteRequest, Route, RouteSet, Side
from router.sources.firmcache import MemoryQuoteCache
from router.sources.health import BreakerPolicy, Health

from ..faults import load_faults
from ..sandbox import Sandbox

__all__ = ["CallLog", "Oracle", "check_properties", "run_chaos", "wrong_winner"]

DEADLINE = 0.5
SEED = 3
#: (sell, buy, amount, side): every provider serves some of these; amounts vary per call.
WORKLOAD = [
    ("BTC", "USDT", "0.5", "sell"), ("ETH", "BTC", "3", "sell"), ("USDT", "ETH", "2", "buy"),
    ("LTC", "USDT", "10", "sell"), ("XRP", "USDT", "3000", "sell"), ("USD", "BTC", "500", "sell"),
    ("EUR", "USDT", "1000", "sell"), ("CNY", "USDT", "5000", "sell"),
    ("TRX", "USDT", "20000", "sell"), ("BTC", "ETH", "0.2", "sell"),
    ("BTC", "USDT@TRC20", "1000", "buy"), ("ADA", "LTC", "5000", "sell"),
    ("USDT", "BTC", "2500", "sell"), ("GBP", "ETH", "300", "sell"),
]
UNTRUSTED = (SignatureInvalid, MalformedResponse, AuthError)
ON_TIME = 0.050  # the p99 allowance past the deadline
WORST = 0.250  # the max allowance (scheduling on a loaded machine)


def chaos_profile() -> dict[str, Any]:
    """The shipped ``chaos`` profile with stalls (1 s: past the deadline), trickles and storms
    short enough for a test."""
    data = dict(load_faults("chaos").data)
    data["params"] = {**data.get("params", {}), "stall_s": 1.0, "trickle_s": 0.6,
                      "storm_s": 1.0, "block_s": 2.0}
    data["name"] = "chaos-short"
    return data


# -- what each call received ------------------------------------------------------------------
@dataclass
class CallLog:
    answers: list[tuple[Hashable, Quote, float]] = field(default_factory=list)
    errors: list[tuple[Hashable, BaseException]] = field(default_factory=list)


CURRENT: contextvars.ContextVar[CallLog | None] = contextvars.ContextVar("chaos_call", default=None)


class RecordingCache:
    """The router's firm-quote cache, noting what each call got from it (every firm answer the
    engine uses comes through here)."""

    def __init__(self) -> None:
        self.inner = MemoryQuoteCache()

    async def get_or_fetch(self, key: Hashable, fetch: Callable[[], Awaitable[Quote]]) -> Quote:
        log = CURRENT.get()
        try:
            quote = await self.inner.get_or_fetch(key, fetch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if log is not None:
                log.errors.append((key, exc))
            raise
        if log is not None:
            log.answers.append((key, quote, asyncio.get_running_loop().time()))
        return quote

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- the oracle -------------------------------------------------------------------------------
class Oracle:
    """Fault-free answers from a sandbox with the same seed (frozen: answers are a pure function of
    the request), through fresh sources that never learn from firm answers for bulk prices."""

    def __init__(self, firm: dict[str, Any], bulk: dict[str, Any]) -> None:
        self.firm_sources, self.bulk_sources = firm, bulk
        self._firm: dict[tuple[Any, ...], Quote | None] = {}
        self._bulk: dict[tuple[Any, ...], Quote | None] = {}

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        key = (market, amount, side)
        if key not in self._firm:
            try:
                source = self.firm_sources[market.provider]
                self._firm[key] = await source.firm(market, amount, side)
            except ProviderError:
                self._firm[key] = None
        return self._firm[key]

    async def bulk(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        key = (market, amount, side)
        if key not in self._bulk:
            try:
                self._bulk[key] = await self.bulk_sources[market.provider].indicative(
                    market, amount, side)
            except ProviderError:
                self._bulk[key] = None
        return self._bulk[key]

    async def market(self, leg: Leg) -> Market | None:
        """The provider's own :class:`Market` (with its ``ref``) for ``leg``."""
        if not hasattr(self, "_markets"):
            self._markets: dict[tuple[str, ...], Market] = {}
            for source in self.bulk_sources.values():
                try:
                    for m in await source.markets():
                        self._markets[(m.provider, m.asset_in, m.asset_out, m.rate_type)] = m
                except ProviderError:
                    continue
        return self._markets.get((leg.provider, leg.asset_in, leg.asset_out, leg.rate_type))

    async def truthful(self, market: Market, asked: Decimal, q: Quote, side: Side) -> bool:
        """Does the fault-free sandbox answer ``asked`` with the same amounts as ``q``? (Asked
        again with ``q``'s own amount too: a provider may round what it was asked.)"""
        asks: list[tuple[Decimal, Side]] = [(asked, side), (q.amount_in, "sell")]
        if side == "buy":  # a buy answer may come from a search over sell quotes (FlyPay)
            asks.append((q.amount_out, "buy"))
        for amount, how in asks:
            truth = await self.firm(market, amount, how)
            if truth is not None and (truth.amount_in, truth.amount_out) == (q.amount_in,
                                                                              q.amount_out):
                return True
        return False


def _same(leg: Leg, market: Market, q: Quote) -> bool:
    return (leg.provider, leg.asset_in, leg.asset_out, leg.rate_type, leg.amount_in,
            leg.amount_out) == (market.provider, market.asset_in, market.asset_out,
                                market.rate_type, q.amount_in, q.amount_out)


def _better(a: Decimal, b: Decimal, side: Side) -> bool:
    """Is route value ``a`` better than ``b`` (sell: more out; buy: less in)?"""
    return a > b if side == "sell" else a < b


def _value(route: Route, side: Side) -> Decimal:
    return route.amount_out if side == "sell" else route.amount_in


async def wrong_winner(req: QuoteRequest, rs: RouteSet, log: CallLog, returned_at: float,
                       oracle: Oracle) -> str | None:
    """Why the chosen route is wrong (see the module docstring), or None."""
    side = req.side
    best = rs.best
    distrusted = {key[0] for key, exc in log.errors  # type: ignore[index]
                  if isinstance(exc, UNTRUSTED)}
    received = [(key, q, t) for key, q, t in log.answers]
    # (A) firm legs are answers this call received, and true
    for leg in best.legs if best is not None else ():
        if leg.kind != "firm":
            continue
        match = next(((k, q) for k, q, _ in received
                      if _same(leg, k[1], q)), None)  # type: ignore[index]
        if match is None:
            return f"A: firm leg {leg.provider} {leg.asset_in}->{leg.asset_out} never received"
        (_, market, asked, q_side), q = match  # type: ignore[misc]
        if not await oracle.truthful(market, asked, q, q_side):
            return f"A: firm leg {leg.provider} {leg.asset_in}->{leg.asset_out} is a lie"
    # (B) no truthful, timely, trusted direct answer beats it or went missing
    for key, q, landed in received:
        provider, market, amount, q_side = key  # type: ignore[misc]
        if q_side != side or provider in distrusted or landed > returned_at - 0.005:
            continue
        if (market.asset_in.partition("@")[0], market.asset_out.partition("@")[0]) != (
                req.sell.partition("@")[0], req.buy.partition("@")[0]):
            continue
        if not await oracle.truthful(market, amount, q, side):
            continue
        route = next((r for r in rs.routes if len(r.legs) == 1 and _same(r.legs[0], market, q)),
                     None)
        if route is not None:
            if best is None or _better(_value(route, side), _value(best, side), side):
                return f"B: {provider}'s truthful answer ranks above the chosen route"
            continue
        bound = q.amount_out if side == "sell" else q.amount_in  # before any payout fee
        if best is None or _better(bound, _value(best, side), side):
            return f"B: {provider}'s truthful answer {bound} is missing and could win"
    # (C) indicative legs no better than the fault-free bulk data
    for leg in best.legs if best is not None else ():
        if leg.kind != "indicative":
            continue
        market = await oracle.market(leg)
        if market is None:
            continue
        truth = await oracle.bulk(market, leg.amount_in if side == "sell" else leg.amount_out,
                                  side)
        if truth is None:
            continue
        slack = Decimal("1e-6")
        if side == "sell" and leg.amount_out > truth.amount_out * (1 + slack):
            return f"C: indicative {leg.provider} leg beats the fault-free bulk data"
        if side == "buy" and leg.amount_in < truth.amount_in * (1 - slack):
            return f"C: indicative {leg.provider} leg beats the fault-free bulk data"
    return None


# -- the run ----------------------------------------------------------------------------------
def _sources(sb: Sandbox, **extra: Any) -> list[Any]:
    return [build_source(n, {**sandbox_values(n, e), **extra}) for n, e in sb.providers.items()]


def _chaos_sources(sb: Sandbox) -> list[Any]:
    """The providers' own budgets (limits, margins, reserves), with the pause after a "too many"
    scaled to the run: 0.5 s doubling to 4 s (not 5 s to 15 min), so that one injected storm
    does not silence a provider for the rest of a 20 s run."""
    out = []
    for name, entry in sb.providers.items():
        spec = PROVIDERS[name]
        policy = dataclasses.replace(spec.default_policy(), penalty_base=0.5, penalty_max=4.0,
                                     penalty_decay=10.0)
        out.append(spec.factory(sandbox_values(name, entry), policy))
    return out


async def _stats(sb: Sandbox) -> dict[str, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        out = {}
        for name, entry in sb.providers.items():
            async with session.get(entry["base_url"] + "/_sandbox/stats") as resp:
                out[name] = await resp.json()
        return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def run_chaos(calls: int = 2000, *, deadline: float = DEADLINE, concurrency: int = 40,
                    pace: float = 0.4, seed: int = SEED) -> dict[str, Any]:
    """Run the chaos workload; the figures (see the module docstring)."""
    loop = asyncio.get_running_loop()
    loop_errors: list[str] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _l, ctx: loop_errors.append(str(ctx.get("message"))))
    latencies: list[float] = []
    own: list[float] = []  # each answer's own elapsed_ms
    escaped: list[str] = []
    internal: list[str] = []
    wrong: list[str] = []
    reasons: Counter[str] = Counter()
    with_route = firm_best = 0
    started, loop_started = time.perf_counter(), loop.time()
    try:
        async with Sandbox(seed=seed, frozen=True, faults=chaos_profile(), clock=loop.time) as sb, \
                Sandbox(seed=seed, frozen=True, no_limits=True, clock=loop.time) as clean:
            unlimited = {"budget_limit": 1_000_000, "budget_margin": 0.0, "budget_reserve": 0}
            firm_oracle, bulk_oracle = _sources(clean, **unlimited), _sources(clean, **unlimited)
            health = Health(BreakerPolicy(threshold=5, window=10.0, cooldown=0.5,
                                          max_cooldown=4.0))
            budgets = BudgetRegistry(MemoryBudgetStore(clock=loop.time))
            async with Router(_chaos_sources(sb), cache=RecordingCache(), health=health,
                              budgets=budgets) as router, \
                    Router(firm_oracle, deadline=30) as r1, Router(bulk_oracle, deadline=30) as r2:
                oracle = Oracle({s.name: s for s in firm_oracle}, {s.name: s for s in bulk_oracle})
                await r1.warm()
                await r2.warm()

                async def one(i: int) -> None:
                    nonlocal with_route, firm_best
                    sell, buy, amount, side = WORKLOAD[i % len(WORKLOAD)]
                    amount = str(Decimal(amount) * (1 + Decimal(i // len(WORKLOAD) % 5) / 100))
                    log = CallLog()
                    token = CURRENT.set(log)
                    t0 = loop.time()
                    try:
                        rs = await router.quote(sell, buy, amount, side=side, deadline=deadline)
                    except Exception as exc:  # noqa: BLE001 - counted: must never happen
                        escaped.append(f"{type(exc).__name__}: {exc}")
                        return
                    finally:
                        CURRENT.reset(token)
                    returned = loop.time()
                    latencies.append(returned - t0)
                    own.append(rs.elapsed_ms)
                    with_route += rs.best is not None
                    firm_best += rs.best is not None and rs.best.kind == "firm"
                    for u in rs.unavailable:
                        reasons[u.reason] += 1
                        if u.detail.startswith("internal error") or "internal error" in u.detail:
                            internal.append(f"{u.provider}: {u.detail}")
                    done.append((rs, log, returned))

                for first in range(0, calls, concurrency):  # a batch every ``pace`` seconds
                    batch_started = loop.time()
                    done: list[tuple[RouteSet, CallLog, float]] = []
                    last = min(calls, first + concurrency)
                    await asyncio.gather(*(one(i) for i in range(first, last)))
                    for rs, log, returned in done:  # judged once the batch is in: not timed
                        why = await wrong_winner(rs.request, rs, log, returned, oracle)
                        if why is not None:
                            r = rs.request
                            wrong.append(f"{r.sell}->{r.buy} {r.amount} {r.side}: {why}")
                    await asyncio.sleep(max(0.0, batch_started + pace - loop.time()))
                stats = await _stats(sb)
                states = health.states()
                opened = {n: health.breaker(n).opened for n in router.providers}
                call_stats = router.stats
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(old_handler)
    faults: Counter[str] = Counter()
    for s in stats.values():
        faults.update(s.get("faults", {}))
    limit = deadline + ON_TIME
    return {
        "calls": calls, "deadline_s": deadline, "concurrency": concurrency, "seed": seed,
        "profile": "chaos (stall 1 s, trickle 0.6 s, storm 1 s, block 2 s)",
        "pace_s": pace,
        "wall_s": round(time.perf_counter() - started, 2),
        "loop_s": round(loop.time() - loop_started, 2),
        "answered": len(latencies),
        "answers_within_deadline_50ms": sum(t <= limit for t in latencies),
        "grace_ms": DEADLINE_GRACE * 1000,
        "late_by_own_clock": sum(ms > (deadline + DEADLINE_GRACE) * 1000 for ms in own),
        "own_elapsed_max_ms": round(max(own), 3) if own else None,
        "latency_ms": {"p50": round(_percentile(latencies, 0.5) * 1000, 1),
                       "p99": round(_percentile(latencies, 0.99) * 1000, 1),
                       "max": round(max(latencies) * 1000, 1)} if latencies else {},
        "unhandled_exceptions": len(escaped) + len(loop_errors) + len(internal),
        "unhandled_detail": (escaped + loop_errors + internal)[:10],
        "wrong_winners": len(wrong), "wrong_winner_detail": wrong[:10],
        "with_a_route": with_route, "firm_best": firm_best,
        "budget_overruns": sum(s.get("rate_limited", 0) + s.get("blocks", 0)
                               for s in stats.values()),
        "faults_injected": dict(sorted(faults.items())),
        "faults_injected_total": sum(faults.values()),
        "provider_requests": {n: s.get("requests", 0) for n, s in stats.items()},
        "unavailable_reasons": dict(sorted(reasons.items())),
        "hedges": {"fired": call_stats.hedged, "won": call_stats.hedge_won,
                   "retried": call_stats.retried},
        "implausible_answers_dropped": call_stats.implausible,
        "skipped_as_unhealthy": call_stats.skipped_unhealthy,
        "circuits_opened": opened, "circuits_at_end": states,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.workloads.chaos [calls]``: one run on the real clock, its figures."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 2000
    print(json.dumps(asyncio.run(run_chaos(n)), indent=2))
    return 0



def check_properties(figures: dict[str, Any]) -> None:
    """The chaos properties that no load can change, as assertions: every call answered, nothing
    escaped, every answer by its own deadline plus the engine's grace, no wrong winner, no
    overrun, and the chaos was real."""
    assert figures["unhandled_exceptions"] == 0, figures["unhandled_detail"]
    assert figures["answered"] == figures["calls"]
    assert figures["late_by_own_clock"] == 0, figures["own_elapsed_max_ms"]
    assert figures["wrong_winners"] == 0, figures["wrong_winner_detail"]
    assert figures["budget_overruns"] == 0, figures
    requests = sum(figures["provider_requests"].values())
    assert figures["faults_injected_total"] >= max(30, requests // 6)  # the chaos was real
    assert figures["with_a_route"] > figures["calls"] // 2  # and answers still came back


if __name__ == "__main__":
    raise SystemExit(main())
