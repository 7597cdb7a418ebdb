"""The `smoke` scenario, as a user runs it (`bestrate bench`): every workload in a tiny form, every
report file written, figures present and sane. Timings are reported, never asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("smoke")
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--scenario", "smoke",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return out, json.loads((out / "results.json").read_text()), proc.stdout


def test_results_name_the_run(smoke: tuple[Path, dict[str, Any], str]) -> None:
    _, res, _ = smoke
    assert res["scenario"]["name"] == "smoke" and res["seed"] == 1 and res["mode"] == "sandbox"
    assert set(res["scenario"]["workloads"]) == {"latency", "concurrency", "batch", "faults", "engine",
                                                 "parse"}
    m = res["machine"]
    assert m["cpus"] >= 1 and m["python"] and m["versions"]["msgspec"] and m["versions"]["aiohttp"]
    assert res["wall_s"] > 0 and res["started_at"]
    assert set(res["workload_s"]) == set(res["scenario"]["workloads"])


def test_latency_figures(smoke: tuple[Path, dict[str, Any], str]) -> None:
    _, res, _ = smoke
    lat = res["latency"]
    q, o = lat["bestrate"]["quote_ms"], lat["bestrate"]["overhead_over_slowest_call_ms"]
    assert q["n"] == 12 and q["p50"] <= q["p95"] <= q["p99"] <= q["max"]
    assert q["min"] >= res["scenario"]["sandbox"]["latency_ms"]  # every quote waited for a provider
    assert 0 <= o["p50"] <= q["p50"] and lat["bestrate"]["no_route"] == 0
    assert lat["provider_call_ms"] and all(s["min"] >= 5 for s in lat["provider_call_ms"].values())
    for name in ("sequential", "parallel"):
        b = lat["baselines"][name]
        assert b["quote_ms"]["n"] == 6 and b["calls_per_quote"] >= 1
        assert b["ratio_to_bestrate"]["p50"] > 0
    ff = lat["baselines"]["fixedfloatapi"]  # the PyPI client, redirected to the sandbox
    assert ff["failed"] == 0 and ff["price_ms"]["n"] == 6 and ff["price_ms"]["min"] >= 5
    assert ff["ratio_p50_to_bestrate_ff"] > 0 and lat["fixedfloat_alone"]["quote_ms"]["n"] == 6


def test_concurrency_coalesces_identical_quotes(smoke: tuple[Path, dict[str, Any], str]) -> None:
    _, res, _ = smoke
    conc = res["concurrency"]
    runs = {r["mode"]: r for r in conc["runs"]}
    assert set(runs) == {"distinct", "identical"}
    for r in runs.values():
        assert r["callers"] == 50 and r["quotes_per_s"] > 0 and r["quote_ms"]["n"] == 50
        assert r["answered"] > 0
    same = runs["identical"]
    # 50 concurrent identical quotes cost every provider exactly what one quote costs
    assert same["coalesced"] is True and same["provider_calls"] == conc["one_quote_calls"]
    assert same["cache"]["shared"] + same["cache"]["hits"] >= 49 * same["cache"]["misses"]
    assert runs["distinct"]["calls_per_quote"] > same["calls_per_quote"]
    naive = {(b["client"], b["mode"]): b for b in conc["baselines"]}
    assert naive[("parallel", "identical")]["calls_per_quote"] >= 1  # no coalescing there
    assert naive[("parallel", "identical")]["ratio_to_bestrate"]["calls_per_quote"] > 5


def test_batch_and_faults_figures(smoke: tuple[Path, dict[str, Any], str]) -> None:
    _, res, _ = smoke
    b = res["batch"]
    assert b["queries"] == 300 and b["bestrate"]["answered"] > 0
    assert sum(b["bestrate"]["regret_hist"]) == b["bestrate"]["scored"] > 0
    assert all(st["rate_limited"] == 0 and st["blocks"] == 0 for st in res["emulators"].values())
    f = res["faults"]
    assert f["profile"] == "flaky" and f["quotes"] == 12
    assert 0 <= f["best_healthy_within_deadline"] <= 1 and 0 <= f["within_deadline"] <= 1
    assert 0 <= f["baselines"]["parallel"]["best_healthy_within_deadline"] <= 1
    assert res["parse"]["items"] == 512 and res["parse"]["parse_ms"]["p50"] > 0
    samples = res["budget_samples"]
    assert {p[0] for p in samples["phases"]} == {"latency", "concurrency", "batch", "faults"}
    assert samples["rows"] and all(len(r) == 6 for r in samples["rows"])
    # the baselines' spending is told apart from bestrate's
    assert {"bestrate", "sequential client", "naive parallel client"} <= {r[5] for r in samples["rows"]}


def test_report_tables_and_headline(smoke: tuple[Path, dict[str, Any], str]) -> None:
    out, _, stdout = smoke
    report = (out / "report.md").read_text()
    for heading in ("## Headline", "## Embedded quote latency", "## Concurrency", "## Batch",
                    "### Providers compared on the batch", "## Faults", "## Engine CPU",
                    "## Rates-file parse", "## Budget use over time"):
        assert heading in report
    assert "| figure | bestrate | the baselines, and how bestrate compares | target |" in report
    assert "| bestrate |" in report and "bestrate bench --scenario smoke" in report
    assert "| sequential client | distinct | 50 |" in report
    # the headline table goes to the terminal
    assert "| figure | bestrate |" in stdout and "overhead over the slowest provider call" in stdout
    assert "provider calls for 50 identical quotes" in stdout


def test_report_says_every_comparison_in_words_with_verdicts(
        smoke: tuple[Path, dict[str, Any], str]) -> None:
    out, _, stdout = smoke
    report = (out / "report.md").read_text()
    assert "{'" not in report and "': " not in report and "[" + "'" not in report  # no raw structures
    assert not re.search(r"\d(\.\d+)?x\)", report)  # no bare "(3.07x)" ratios left
    words = re.compile(r"bestrate [\d,.]+× (faster|slower|higher|lower|fewer calls|more calls|more "
                       r"often|less often|more|fewer)|about the same")
    head = [line for line in stdout.splitlines() if line.startswith("| ") and "figure" not in line]
    compared = [line for line in head if "client:" in line or "fixedfloatapi:" in line]
    assert compared and all(words.search(line) for line in compared), compared
    for line in head:
        target = line.split("|")[1:-1][-1].strip()  # the last cell: the target and its verdict
        if target:
            assert target.endswith(("met", "**missed**", "not measured")), line
    assert "fewer calls" in stdout  # 50 identical quotes coalesce
    assert "<= 2× the floor:" in stdout and ">= 500 quotes/s:" in stdout


def test_provider_comparison_in_the_batch(smoke: tuple[Path, dict[str, Any], str]) -> None:
    out, res, _ = smoke
    cmp = res["batch"]["by_provider"]
    assert cmp["queries"] == res["batch"]["distinct"] and cmp["scored"] > 0
    assert set(cmp["providers"]) == {"fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay"}
    for p in cmp["providers"].values():
        assert 0 <= p["win_share"] <= 1 and p["served"] >= p["answered"]
        if p["answered"]:
            assert p["gap_bp"]["median"] is not None and p["gap_bp"]["median"] <= p["gap_bp"]["p95"]
            assert p["gap_bp"]["median"] >= 0  # the best route is at least as good as each alone
    wins = sum(p["wins"] for p in cmp["providers"].values())
    assert wins + cmp["mixed_route_best"] >= cmp["scored"]  # every query won by someone (or a mix)
    assert set(cmp["classes"]) == {"fiat on-ramp", "stablecoin", "major", "alt"}
    report = (out / "report.md").read_text()
    assert "| provider | win share | gap to best median, bp |" in report
    assert "| pair class | queries | wins most | win shares |" in report


def test_summary_and_readme_block_from_the_run(smoke: tuple[Path, dict[str, Any], str],
                                               tmp_path: Path) -> None:
    import shutil

    from bench.harness import load_scenarios
    from bench.summary import BEGIN, END, check_block, main

    out, _, _ = smoke
    shutil.copytree(out, tmp_path / "runs" / "smoke")  # as `make bench` lays it out
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n\n{BEGIN}\nstale\n{END}\n\nafter\n")
    assert main(["--out", str(tmp_path / "runs"), "--scenarios", "smoke", "--update-readme",
                 str(readme)]) == 0
    text = readme.read_text()
    assert "stale" not in text and text.startswith("# x\n\nbefore\n\n") and text.endswith("after\n")
    assert check_block(text, list(load_scenarios())) == []
    assert "| smoke | overhead over the slowest provider call p50 / p99, ms |" in text
    assert "targets met." in text


def test_charts_are_png_files(smoke: tuple[Path, dict[str, Any], str]) -> None:
    out, res, _ = smoke
    assert sorted(res["charts"]) == ["budget.png", "cpu.png", "latency.png", "providers.png",
                                     "regret.png"]
    for name in res["charts"]:
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, name
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width >= 600 and height >= 300, name
        assert f"]({name})" in (out / "report.md").read_text()


def test_bench_lists_scenarios_and_rejects_unknown(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--list"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for name in ("smoke", "latency", "latency-all", "latency-heavy", "concurrency", "batch",
                 "faults", "providers"):
        assert f"\n{name} " in "\n" + proc.stdout
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--scenario", "nope",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--scenario" in proc.stderr
