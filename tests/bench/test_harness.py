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
    xs, ys = _budget_rates(rows, 1.0)["bestrate"]["ff"]
    assert xs == [0.0, 1.0, 2.0] and ys == [10.0, 10.0, 4.0]  # the new sandbox starts from 0
    # units between two samples belong to the client of the later one: baselines apart
    rows = [(0.0, "a", "ff", 0, 0, "bestrate"), (1.0, "a", "ff", 10, 0, "bestrate"),
            (2.0, "a", "ff", 30, 0, "sequential client"), (3.0, "a", "ff", 31, 0, "bestrate")]
    split = _budget_rates(rows, 1.0)
    assert split["bestrate"]["ff"] == ([0.0, 1.0, 2.0], [10.0, 0.0, 1.0])
    assert split["sequential client"]["ff"] == ([1.0], [20.0])
    import random

    rng = random.Random(5)
    t, units, rows = 0.0, 0, []
    for _ in range(500):  # awkward float times: every unit lands in some bucket, and it ends
        t += rng.choice([0.1, 0.25, 0.3, 1 / 3, 0.7, 1e-9])
        units += rng.randrange(0, 50)
        rows.append((t, "x", "p", units, 0))
    width = 0.1
    _, ys = _budget_rates(rows, width)["bestrate"]["p"]
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
    cmp = live["by_provider"]  # which provider is best for what
    assert set(cmp["providers"]) == set(providers) and cmp["scored"] > 0
    assert {"fiat on-ramp", "stablecoin", "major", "alt"} == set(cmp["classes"])
    assert all(cmp["classes"][c]["winners"] for c in cmp["classes"])  # a pair of each class
    for name, p in cmp["providers"].items():
        assert p["units"] == live["units_spent"][name] and p["error_rate"] in (0, None)
    assert "| provider | win share |" in proc.stdout and "| pair class |" in proc.stdout
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


def test_comparisons_are_said_in_words_from_bestrates_side() -> None:
    from bench.report import compare

    assert compare(39.0, 10.0, "time") == "bestrate 3.9× slower"
    assert compare(10.0, 39.0, "time") == "bestrate 3.9× faster"
    assert compare(1.0, 2.1, "calls") == "bestrate 2.1× fewer calls"
    assert compare(100.0, 500.0, "rate") == "bestrate 5.0× lower"
    assert compare(0.9, 0.3, "share") == "bestrate 3.0× more often"
    assert compare(0.45, 67.0, "bp") == "bestrate 149× lower"
    assert compare(10.0, 10.3, "time") == "about the same"
    assert compare(0.0, 5.0, "bp") == "bestrate lower" and compare(None, 5.0, "time") == ""


def test_provider_comparison_scores_each_provider_against_the_best_route() -> None:
    from bench.providercmp import Answer, Sample, compare, outcome_of, pair_class

    assert [pair_class(*p) for p in (("EUR", "BTC"), ("BTC", "USDT@TRC20"), ("ETH", "BTC"),
                                     ("LTC", "XMR"), ("USDT", "CNY"))] == [
        "fiat on-ramp", "stablecoin", "major", "alt", "fiat on-ramp"]
    assert outcome_of(["timeout", "provider_error"]) == "timeout"
    assert outcome_of(["rate_limited"]) == "error" and outcome_of(["unsupported_pair"]) == "no offer"
    d = Decimal
    samples = [
        Sample("BTC", "USDT", {"a": Answer("answered", d(100), 12.5, 10.0),
                               "b": Answer("answered", d(99), None, 20.0)}),
        Sample("BTC", "USDT", {"a": Answer("timeout", ms=900.0),
                               "b": Answer("answered", d(50), None, 30.0)}),
        Sample("LTC", "XMR", {"a": Answer("answered", d(10), None, 5.0),
                              "b": Answer("no offer", ms=1.0)}, together=d(11)),
    ]
    cmp = compare(samples, ["a", "b"], {"a": 7, "b": 3})
    a, b = cmp["providers"]["a"], cmp["providers"]["b"]
    assert cmp["scored"] == 3 and cmp["mixed_route_best"] == 1
    assert (a["wins"], b["wins"]) == (1, 1) and a["win_share"] == round(1 / 3, 4)
    assert b["gap_bp"]["median"] == 0.0 and b["gap_bp"]["p95"] == 100.0  # 99 against 100
    assert a["gap_bp"]["p95"] == pytest.approx(909.09, abs=0.01)  # 10 against the mixed 11
    assert a["timeout_rate"] == round(1 / 3, 4) and a["error_rate"] == 0
    assert b["served"] == 2 and b["timeout_rate"] == 0  # no offer is not a failure
    assert a["cost_bp_median"] == 12.5 and b["cost_bp_median"] is None
    assert a["latency_ms"]["p99"] == 900.0 and a["units"] == 7
    assert cmp["classes"]["stablecoin"]["winners"] == ["a", "b"]  # one query each: tied
    assert cmp["classes"]["alt"]["winners"] == [] and cmp["classes"]["alt"]["queries"] == 1


def test_readme_benchmark_section_is_the_generators_format() -> None:
    """The README's summary block is what `python -m bench.summary` writes (the figures vary from
    run to run; their format does not): markers, stamp line, header, a verdict per target."""
    from bench.summary import check_block

    text = (ROOT / "README.md").read_text()
    assert check_block(text, list(load_scenarios())) == []


def test_summary_block_checker_finds_a_hand_edited_block() -> None:
    from bench.summary import BEGIN, END, HEADER, check_block

    head = "| " + " | ".join(HEADER) + " |\n|" + "---|" * len(HEADER)
    good = (f"{BEGIN}\nLast run: now\n\n{head}\n| smoke | f | 1 | - | < 2 | met |\n{END}")
    assert check_block(good, ["smoke"]) == []
    assert check_block(good.replace("| met |", "| ok |"), ["smoke"])
    assert check_block(good.replace("| < 2 | met |", "| - | met |"), ["smoke"])
    assert check_block(good.replace("| smoke |", "| nope |"), ["smoke"])
    assert check_block(good.replace("Last run: now", "figures"), ["smoke"])
    assert check_block(good.replace(END, ""), ["smoke"])
