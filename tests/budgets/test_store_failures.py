"""A failing budget store is named as the store's failure: never blamed on a provider, never
counted by its breaker, and the router recovers as soon as the store answers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import Router
from router.budgets import BudgetPolicy, BudgetRegistry, LocalBudgetStore, MemoryBudgetStore
from router.budgets.policy import BudgetUsage, Decision
from router.errors import BudgetStoreUnavailable
from router.sources.health import counts_as_failure
from tests.system.test_cli import _env, run_cli


class FlakyStore:
    """A memory store that fails (as a lost connection would) while ``down`` is set."""

    def __init__(self) -> None:
        self.inner = MemoryBudgetStore()
        self.down = False

    async def try_acquire(self, key: str, cost: int, policy: BudgetPolicy, *,
                          reserved: bool = False) -> Decision:
        if self.down:
            raise ConnectionError("redis://:hunter2@10.0.0.1:6379 refused")
        return await self.inner.try_acquire(key, cost, policy, reserved=reserved)

    async def penalize(self, key: str, policy: BudgetPolicy,
                       retry_after: float | None = None) -> float:
        return await self.inner.penalize(key, policy, retry_after)

    async def usage(self, key: str, policy: BudgetPolicy) -> BudgetUsage:
        return await self.inner.usage(key, policy)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_outage_is_the_stores_and_the_router_recovers() -> None:
    store = FlakyStore()
    async with Sandbox(seed=2, frozen=True) as sb:
        sources = [build_source(n, {**sandbox_values(n, e), "budget_limit": 1000})
                   for n, e in sb.providers.items() if n == "fixedfloat"]
        async with Router(sources, budgets=store, cache=False) as r:
            await r.warm()
            store.down = True
            for amount in ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"):  # past the threshold
                rs = await r.quote("BTC", "ETH", amount)
                reasons = {u.reason for u in rs.unavailable}
                assert "budget_store_unavailable" in reasons, rs.unavailable
                assert not reasons & {"provider_error", "timeout", "provider_unhealthy"}
                entry = next(u for u in rs.unavailable if u.reason == "budget_store_unavailable")
                assert "hunter2" not in entry.detail and "ConnectionError" in entry.detail
                assert all(route.kind == "indicative" for route in rs.routes)  # no call was made
            store.down = False
            rs = await r.quote("BTC", "ETH", "0.8")  # at once: no breaker was opened
            assert rs.best is not None and rs.best.kind == "firm"
            assert not {u.reason for u in rs.unavailable} & {"budget_store_unavailable",
                                                            "provider_unhealthy"}


async def test_a_local_store_that_cannot_open_its_file_refuses_as_the_store(
        tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    registry = BudgetRegistry(LocalBudgetStore(blocked / "budgets.sqlite3"))  # under a file
    budget = registry.get("fixedfloat", "fp", BudgetPolicy(limit=10))
    with pytest.raises(BudgetStoreUnavailable) as info:
        await budget.acquire(1)
    assert info.value.reason == "budget_store_unavailable" and info.value.provider == "fixedfloat"
    assert counts_as_failure(info.value) is None  # neutral for the provider's breaker
    await registry.aclose()


def test_cli_names_a_store_it_cannot_reach(tmp_path: Path) -> None:
    for url in ("redis://:hunter2@127.0.0.1:1/0", "redis://127.0.0.1:99999/0", "mysql://x"):
        proc = run_cli("quote", "BTC", "USDT", "0.5", cwd=tmp_path,
                       env=_env(BESTRATE_BUDGETS_STORE=url))
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, proc.stderr
        assert "budgets.store" in lines[-1] and "Traceback" not in proc.stderr
        assert "hunter2" not in proc.stderr + proc.stdout
    blocked = tmp_path / "file"
    blocked.write_text("")
    proc = run_cli("quote", "BTC", "USDT", "0.5", cwd=tmp_path,
                   env=_env(BESTRATE_BUDGETS_STORE="local", BESTRATE_CACHE_DIR=str(blocked / "x")))
    assert proc.returncode == 2 and "budgets.store" in proc.stderr, proc.stderr
    assert "cannot reach the local store" in proc.stderr


def test_cli_local_store_is_shared_by_runs(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = _env(BESTRATE_BUDGETS_STORE="local", BESTRATE_CACHE_DIR=str(cache))
    for _ in range(2):
        proc = run_cli("quote", "BTC", "USDT", "0.5", "--json", cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
    db = sqlite3.connect(cache / "budgets.sqlite3")
    try:
        keys = {k for (k,) in db.execute("SELECT DISTINCT key FROM grants")}
        units = db.execute("SELECT SUM(cost) FROM grants").fetchone()[0]
    finally:
        db.close()
    assert any(k.startswith("fixedfloat:") for k in keys) and units > 2  # both runs booked here
