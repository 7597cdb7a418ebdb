"""A small run of the harness, as a user runs it: files written, figures present and sane."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_smoke_scenario_writes_its_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--scenario", "smoke",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["scenario"]["name"] == "smoke" and results["seed"] == 1
    lat = results["latency"]
    assert lat["quote_ms"]["n"] == 12
    # every quote waited for the emulator's fixed latency at least once
    assert lat["quote_ms"]["min"] >= results["scenario"]["latency_ms"]
    assert 0 <= lat["overhead_over_slowest_call_ms"]["p50"] <= lat["quote_ms"]["p50"]
    assert results["parse"]["items"] == 512 and results["parse"]["parse_ms"]["p50"] > 0
    report = (out / "report.md").read_text()
    assert "| quote latency (ms) |" in report and "bestrate bench --scenario smoke" in report
    assert "| quote latency (ms) |" in proc.stdout


def test_bench_lists_scenarios_and_rejects_unknown(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--list"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "smoke" in proc.stdout and "latency" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "router.cli", "bench", "--scenario", "nope",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--scenario" in proc.stderr
