"""Four OS processes share one FixedFloat key through Redis, or through the local SQLite store,
and never overrun the provider.

The design, and why it proves "no overrun even past the limit" in a few seconds: the emulator
enforces FixedFloat's 250 units per 60 s per key; the real default policy lets quotes spend 187
units (250 less the 5 % margin and the 50-unit reserve for ``create``) per 61 s. The whole run
lasts a few seconds, so it sits inside ONE window of both. Four processes each fire 150 quotes of
at least one firm ``price`` call (1 unit) each: 600+ units of demand, 2.4 times what the emulator
allows in that minute. A shortened policy window would not help here, as the emulator still
counts over 60 s; within one minute the only thing between the demand and a 429 is the shared
budget. So we check that the emulator saw no refusal and no block, that it charged at most the
policy's 187 units, that Redis booked every unit before it was spent, and that the budget was
actually used (at least 150 firm answers), with the rest refused by our own budget at once (the
routers' short deadline ends any wait). The control runs the same fleet with one in-memory budget
per process: the emulator does refuse, so the load really goes past the limit.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.fixedfloat.constants import DEFAULT_BUDGET_POLICY
from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router
from router.budgets import BudgetStore, LocalBudgetStore, MemoryBudgetStore, RedisBudgetStore
from router.secret import Secret

PROCESSES = 4
QUOTES = 150  # per process
CONCURRENCY = 8  # quotes in flight per process
DEADLINE = 2.0  # seconds per quote: a refused budget frees in ~61 s, so nobody waits
_ROOT = Path(__file__).resolve().parents[2]
_WORKER = "from tests.budgets.test_processes import worker_main; worker_main()"


# --------------------------------------------------------------------------- the worker process


def worker_main() -> None:
    """Entry point of one worker (``python -c``): the config is ``sys.argv[1]`` as JSON.

    Prints ``ready`` once warm, waits for a line on stdin (the start signal, so all four fire
    together), then prints one JSON line of counts."""
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_fire(config))), flush=True)


async def _fire(config: dict[str, Any]) -> dict[str, int]:
    source = build_source("fixedfloat", sandbox_values("fixedfloat", config["provider"]))
    store: BudgetStore
    if config["store"] == "redis":
        store = RedisBudgetStore.from_url(config["redis_url"], prefix=config["prefix"])
    elif config["store"] == "local":
        store = LocalBudgetStore(config["path"])
    else:
        store = MemoryBudgetStore()
    counts = {"quotes": 0, "firm": 0, "budget_exhausted": 0, "rate_limited": 0}
    async with Router([source], budgets=store, cache=False, deadline=DEADLINE) as router:
        await router.warm()  # currencies (1 unit) and the rate exports, before the start line
        print("ready", flush=True)
        sys.stdin.readline()  # the barrier: nothing else runs in this process meanwhile
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            # Distinct amounts in every process, so no cache anywhere can answer for the provider.
            amount = Decimal("0.05") + Decimal(i * PROCESSES + config["index"]) / 100_000
            async with gate:
                rs = await router.quote("BTC", "USDT@TRC20", amount, rate_type="float")
            counts["quotes"] += 1
            counts["firm"] += len({(leg.asset_in, leg.asset_out, leg.rate_type, leg.amount_in)
                                   for route in rs.routes for leg in route.legs
                                   if leg.kind == "firm"})
            for gap in rs.unavailable:
                if gap.reason in ("budget_exhausted", "rate_limited"):
                    counts[gap.reason] += 1

        await asyncio.gather(*(one(i) for i in range(QUOTES)))
    return counts


# --------------------------------------------------------------------------- the test process


async def _stats(base_url: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as s, s.get(base_url + "/_sandbox/stats") as resp:
        stats: dict[str, int] = await resp.json()
        return stats


async def _expect_line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    if not line:
        await proc.wait()
        assert proc.stderr is not None
        error = (await proc.stderr.read()).decode(errors="replace")[-3000:]
        raise AssertionError(f"worker exited with {proc.returncode}:\n{error}")
    return line.decode().strip()


async def _fleet(provider: dict[str, str], **config: Any) -> list[dict[str, int]]:
    """Run :data:`PROCESSES` workers together; their counts, in order."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WORKER,
            json.dumps({"provider": provider, "index": i, **config}), cwd=_ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        for i in range(PROCESSES)
    ]
    try:
        async with asyncio.timeout(60):
            for proc in procs:
                assert await _expect_line(proc) == "ready"
            for proc in procs:  # all warm: start them at once
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
            results = [json.loads(await _expect_line(proc)) for proc in procs]
            for proc in procs:
                assert await proc.wait() == 0
            return results
    finally:
        for proc in procs:  # only on failure is any still running
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


@pytest.mark.parametrize("kind", ["redis", "local"])
async def test_four_processes_share_one_key_without_overrunning_the_provider(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    path = tmp_path / "budgets.sqlite3"
    async with Sandbox(seed=1, frozen=True) as sb:
        provider = sb.providers["fixedfloat"]
        if kind == "redis":
            redis_url: str = request.getfixturevalue("redis_url")
            results = await _fleet(provider, store="redis", redis_url=redis_url, prefix=prefix)
        else:
            results = await _fleet(provider, store="local", path=str(path))
        stats = await _stats(provider["base_url"])
    policy = DEFAULT_BUDGET_POLICY
    store: BudgetStore = (RedisBudgetStore.from_url(redis_url, prefix=prefix) if kind == "redis"
                          else LocalBudgetStore(path))
    key = f"fixedfloat:{Secret(provider['api_key']).fingerprint}"
    booked = (await store.usage(key, policy)).used
    await store.aclose()

    assert sum(r["quotes"] for r in results) == PROCESSES * QUOTES
    # The provider never had to say "too many", so it never blocked the key.
    assert stats["rate_limited"] == 0 and stats["blocks"] == 0
    assert stats["units"] <= policy.allowed() == 187 < 250
    # Every unit the provider charged was booked in the store first (one key for all four).
    assert stats["units"] <= booked <= policy.allowed()
    # The budget was used, not just refused: one firm answer per unit, but for `ccies`.
    firm = sum(r["firm"] for r in results)
    assert 150 <= firm <= stats["units"]
    assert sum(r["budget_exhausted"] for r in results) > 0  # the rest was refused by us
    assert sum(r["rate_limited"] for r in results) == 0


async def test_control_one_memory_budget_per_process_does_overrun() -> None:
    """Without the shared store the same load draws refusals: the test above is not vacuous."""
    async with Sandbox(seed=1, frozen=True) as sb:
        provider = sb.providers["fixedfloat"]
        await _fleet(provider, store="memory")
        stats = await _stats(provider["base_url"])
    assert stats["rate_limited"] > 0 and stats["blocks"] >= 1
