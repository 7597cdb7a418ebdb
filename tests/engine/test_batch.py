"""Batches: input order, coalescing, budgets spent where they matter, the CLI, the harness run."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from router import BatchStats, InvalidRequest, Router
from tests.support.fakes import FakeSource
from tests.system.test_cli import run_cli

D = Decimal


async def test_results_in_input_order_and_identical_queries_coalesced() -> None:
    a = FakeSource("a", [("BTC", "USDT@TRC20")], D("60000"), firm_delay=0.01)
    b = FakeSource("b", [("BTC", "USDT@TRC20")], D("60010"), firm_factor=D("0.999"))
    queries = [{"sell": "BTC", "buy": "USDT", "amount": amt} for amt in ("1", "2", "1", "1", "2")]
    stats = BatchStats()
    async with Router([a, b]) as r:
        out = [(req, rs) async for req, rs in r.quote_many(queries, stats=stats)]
    assert [str(req.amount) for req, _ in out] == ["1", "2", "1", "1", "2"]
    assert stats.queries == 5 and stats.distinct == 2
    # contested (the two are within the band): both firm-quoted, once per distinct query
    assert a.firm_calls == 2 and b.firm_calls == 2
    for req, rs in out:
        assert rs.best is not None and rs.best.kind == "firm"
        assert rs.best.amount_in == req.amount


async def test_dry_budget_leaves_answers_indicative_and_says_so() -> None:
    a = FakeSource("a", [("BTC", "USDT@TRC20")], D("60000"))
    queries = [{"sell": "BTC", "buy": "USDT", "amount": str(i)} for i in range(1, 21)]
    from router.budgets import BudgetPolicy, BudgetRegistry

    registry = BudgetRegistry()
    budget = registry.get("a", "k", BudgetPolicy(limit=5, margin=0.0))

    async def firm(market, amount, side):  # type: ignore[no-untyped-def]
        await budget.acquire(1)
        return await FakeSource.firm(a, market, amount, side)

    a.firm = firm  # type: ignore[method-assign]
    stats = BatchStats()
    async with Router([a], budgets=registry) as r:
        out = [rs async for _, rs in r.quote_many(queries, stats=stats)]
    kinds = [rs.best.kind for rs in out if rs.best is not None]
    assert len(kinds) == 20 and kinds.count("firm") == 5  # the budget, no more
    assert "a" in stats.dry
    # the biggest notionals got the firm quotes
    assert all(rs.best.kind == "firm" for rs in out[-5:] if rs.best is not None)
    starved = [rs for rs in out if rs.best is not None and rs.best.kind == "indicative"]
    assert all(any(u.reason == "budget_exhausted" for u in rs.unavailable) for rs in starved)


async def test_bad_request_is_named_before_anything_runs() -> None:
    a = FakeSource("a", [("BTC", "USDT@TRC20")], D("60000"))
    async with Router([a]) as r:
        with pytest.raises(InvalidRequest) as info:
            r.quote_many([{"sell": "BTC", "buy": "USDT", "amount": "1"},
                          {"sell": "BTC", "buy": "USDT", "amount": "-1"}])
        with pytest.raises(InvalidRequest) as missing:
            r.quote_many([{"sell": "BTC", "amount": "1"}])
    assert info.value.field == "requests[1].amount" and a.firm_calls == 0
    assert missing.value.field == "requests[0].buy"


async def test_sandbox_batch_never_overruns_a_provider() -> None:
    queries = [{"sell": s, "buy": b, "amount": amt}
               for s, b in (("BTC", "USDT"), ("ETH", "BTC"), ("USD", "USDT"), ("LTC", "USDT"))
               for amt in ("0.01", "0.1", "1", "3")] * 30
    async with Sandbox(seed=4, frozen=True) as sb:
        sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
        async with Router(sources) as r:
            out = [rs async for _, rs in r.quote_many(queries)]
        async with aiohttp.ClientSession() as s:
            for name, block in sb.providers.items():
                async with s.get(block["base_url"] + "/_sandbox/stats") as resp:
                    st = await resp.json()
                assert st["rate_limited"] == 0 and st["blocks"] == 0, (name, st)
    assert len(out) == len(queries)
    assert sum(rs.best is not None for rs in out) >= len(queries) // 2  # tiny USD amounts: none


def test_batch_cli_csv_and_json_lines(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text("sell,buy,amount,side\nBTC,USDT,0.5,sell\nNOPE,USDT,1,\n"
                                    "ETH,BTC,2,\nBTC,USDT,0.5,sell\nUSDT,BTC,0.01,buy\n")
    proc = run_cli("batch", "q.csv", "--out", "out.jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [x["line"] for x in lines] == [2, 3, 4, 5, 6]
    assert lines[1]["error"]["field"] == "sell"
    assert lines[0]["routes"] and lines[0]["routes"] == lines[3]["routes"]  # coalesced
    assert lines[4]["request"]["side"] == "buy"
    assert D(lines[4]["routes"][0]["amount_out"]) >= D("0.01")
    assert "budget units spent" in proc.stderr and "queries 5 (1 invalid, 3 distinct)" in proc.stderr
    (tmp_path / "q.jsonl").write_text('{"sell": "BTC", "buy": "USDT", "amount": "0.1"}\n'
                                      'not json\n{"sell": "ETH", "buy": "BTC", "amount": 1}\n')
    proc = run_cli("batch", "q.jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [("error" in x) for x in out] == [False, True, False]
    proc = run_cli("batch", "missing.csv", cwd=tmp_path)
    assert proc.returncode == 2 and "FILE" in proc.stderr and "Traceback" not in proc.stderr


def test_batch_smoke_scenario_reports(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--scenario", "batch-smoke",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    batch = results["batch"]
    assert batch["queries"] == 300 and batch["distinct"] == 40
    ours, naive = batch["bestrate"], batch["indicative_only"]
    assert ours["answered"] == naive["answered"] > 0
    assert ours["firm_answers"] > 0 and naive["firm_answers"] == 0
    assert ours["regret_bp"]["p95"] <= naive["regret_bp"]["p95"]
    for st in results["emulators"].values():
        assert st["rate_limited"] == 0 and st["blocks"] == 0
    assert "| bestrate |" in (tmp_path / "report.md").read_text()
