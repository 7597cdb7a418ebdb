"""The harness's parts: scenarios as data, the measuring helpers, the sandbox process, and the
live provider comparison (run against a sandbox through the environment, as a user would point
it at live base URLs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from bench.batchbench import REGRET_BINS, _histogram
from bench.harness import load_scenarios, sandbox_process
from bench.measure import emulator_stats, percentile, stats_delta, summary
from bench.scenario import Scenario
from bench.workloads.common import distinct_requests, ratio
from router.request.parse import make_request

ROOT = Path(__file__).resolve().parents[2]


def test_every_scenario_decodes_with_a_description() -> None:
    scenarios = load_scenarios()
    assert {"smoke", "latency", "latency-all", "latency-heavy", "concurrency", "batch",
            "batch-smoke", "faults", "providers"} <= set(scenarios)
    for name, sc in scenarios.items():
        assert sc.name == name and sc.description and sc.workloads
        for sell, buy, amount in (*sc.latency.pairs, *sc.faults.pairs, *sc.live.pairs):
            make_request(sell, buy, amount)  # every pair is a valid request
    assert scenarios["latency-heavy"].sandbox.latency_profile == "heavy"
    assert scenarios["faults"].faults.profile == "chaos"
    assert scenarios["concurrency"].concurrency.callers == (100, 1000)


def test_scenario_typos_and_unfrozen_comparisons_are_errors() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `calss`"):
        msgspec.toml.decode(b'name = "x"\ndescription = "y"\n[latency]\ncalss = 3\n', type=Scenario)
    with pytest.raises(msgspec.ValidationError, match="frozen"):
        msgspec.toml.decode(b'name = "x"\ndescription = "y"\nfrozen = false\nworkloads = ["faults"]\n',
                            type=Scenario)


def test_percentiles_summaries_and_ratios() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99 and percentile(values, 100) == 100
    s = summary(values)
    assert (s["p50"], s["p95"], s["min"], s["max"], s["n"]) == (50, 95, 1, 100, 100)
    assert summary([]) == {"n": 0}
    assert ratio(30.0, 10.0) == 3.0 and ratio(None, 1.0) is None and ratio(1.0, 0) is None


def test_stats_delta_counts_fault_kinds() -> None:
    before = {"ff": {"requests": 10, "units": 4, "faults": {"stall": 1}}}
    after = {"ff": {"requests": 15, "units": 6, "faults": {"stall": 1, "reset": 2}}}
    assert stats_delta(after, before) == {"ff": {"requests": 5, "units": 2, "faults": {"reset": 2}}}


def test_regret_histogram_bins() -> None:
    counts = _histogram([0.0, -0.1, 0.05, 0.1, 0.5, 3.0, 50.0, 100.0, 1000.0])
    assert len(counts) == len(REGRET_BINS) + 1 and counts == [2, 2, 1, 1, 2, 1]


def test_distinct_requests_are_distinct_and_valid() -> None:
    reqs = distinct_requests(700, seed=3)
    assert len(set(reqs)) == 700
    for sell, buy, amount in reqs[::7]:
        assert make_request(sell, buy, amount).amount == Decimal(amount)


def test_budget_rates_spread_each_delta_over_its_interval() -> None:
    from bench.charts import _budget_rates

    rows = [(0.0, "a", "ff", 0, 0), (1.0, "a", "ff", 10, 0), (1.5, "a", "ff", 20, 0),
            (2.0, "b", "ff", 0, 0), (3.0, "b", "ff", 4, 0)]
    xs, ys = _budget_rates(rows, 1.0)["ff"]
    assert xs == [0.0, 1.0, 2.0] and ys == [10.0, 10.0, 4.0]  # the new sandbox starts from 0
    import random

    rng = random.Random(5)
    t, units, rows = 0.0, 0, []
    for _ in range(500):  # awkward float times: every unit lands in some bucket, and it ends
        t += rng.choice([0.1, 0.25, 0.3, 1 / 3, 0.7, 1e-9])
        units += rng.randrange(0, 50)
        rows.append((t, "x", "p", units, 0))
    width = 0.1
    _, ys = _budget_rates(rows, width)["p"]
    assert sum(ys) * width == pytest.approx(units - rows[0][3])


def test_sandbox_process_names_a_bad_profile() -> None:
    sc = load_scenarios()["smoke"]
    with pytest.raises(RuntimeError, match="sandbox process exited.*nope"):
        with sandbox_process(sc, latency_profile="nope"):
            pass  # pragma: no cover


def _bench(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          timeout=120, env={**env, "PYTHONPATH": str(ROOT)}, cwd=cwd)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}


def test_live_without_credentials_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = _bench("--live", "--scenario", "providers", "--out", str(tmp_path / "o"),
                  env=_clean_env(), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--live" in lines[0] and "BESTRATE_FIXEDFLOAT_API_KEY" in lines[0]
    assert proc.stdout == "" and not (tmp_path / "o" / "results.json").exists()
    proc = _bench("--live", "--scenario", "smoke", env=_clean_env(), cwd=tmp_path)
    assert proc.returncode == 2 and "providers" in proc.stderr


def test_live_run_stays_inside_the_printed_caps(tmp_path: Path) -> None:
    sc = load_scenarios()["providers"]
    with sandbox_process(sc, no_limits=False, latency_ms=0) as providers:
        env = _clean_env()
        for name, block in providers.items():
            for field, value in block.items():
                env[f"BESTRATE_{name.upper()}_{field.upper()}"] = value
        proc = _bench("--live", "--scenario", "providers", "--out", str(tmp_path / "o"),
                      env=env, cwd=tmp_path)
        after = emulator_stats(providers)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("bestrate bench (live): hard cap of budget units") and "fixedfloat " in first
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["mode"] == "live" and res["scenario"]["workloads"] == ["providers"]
    live = res["providers"]
    assert set(live["caps"]) == set(providers) and live["within_caps"] is True
    for name, cap in live["caps"].items():
        assert f"{name} {cap}" in first
        assert live["units_spent"][name] <= cap
        assert after[name]["units"] <= cap, (name, after[name])  # what the provider itself counted
        assert after[name]["rate_limited"] == 0
    rows = live["comparison"]
    assert {r["provider"] for r in rows} == {*providers, "*"}
    best = [r for r in rows if r["provider"] == "*" and r["pair"] == "BTC->USDT"]
    assert best and best[0]["best"] is not None and Decimal(best[0]["best"]["amount_out"]) > 0
    assert "| provider | units spent | of which warm-up | hard cap |" in proc.stdout
    assert "secret" not in proc.stdout.lower() or all(
        v not in proc.stdout for b in providers.values() for k, v in b.items() if k != "base_url")


def test_progress_bar_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.measure import Progress

    bar = Progress(4, "work", enabled=True)
    for _ in range(4):
        bar.step()
    err = capsys.readouterr().err
    assert "work" in err and "4/4" in err and err.endswith("\n") and "#" * 30 in err
    quiet = Progress(4, "work")  # stderr is not a terminal under pytest
    quiet.step()
    quiet.finish()
    assert capsys.readouterr().err == ""
