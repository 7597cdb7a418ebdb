"""The quote's first screen and the small commands: answer first, routes numbered 1..n fitting
the terminal, the left-out list summarised, costs shown; --version, providers, assets, logging,
contradictory flags."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.system.test_cli import _env, run_cli


@pytest.mark.parametrize("columns", [80, 160])
def test_first_screen_answers_first_and_fits_the_terminal(tmp_path: Path, columns: int) -> None:
    proc = run_cli("quote", "BTC", "USDT", "0.5", cwd=tmp_path, env=_env(COLUMNS=str(columns)))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("you send 0.5 BTC") and " via " in lines[0]
    assert "locked" in " ".join(lines[:2]) and " bp" in " ".join(lines[:2])
    assert all(len(line) <= columns for line in lines), [ln for ln in lines if len(ln) > columns]
    numbers = [int(m.group(1)) for ln in lines if (m := re.match(r"^(\d+)\s{2}", ln))]
    assert numbers == list(range(1, 6))  # the top 5, numbered consecutively
    assert "showing 5 of" in proc.stdout and "--all" in proc.stdout
    rows = [ln for ln in lines if re.match(r"^\d+\s{2}", ln)]
    for row in rows:  # the amounts are whole: each a decimal number followed by its asset
        assert re.search(r"\d+(\.\d+)? [A-Z]+@?[A-Z0-9]*", row), row
    assert any(ln.startswith("left out: 2 (unsupported_pair 2)") for ln in lines)


def test_all_numbers_every_route_and_explain_lists_every_left_out(tmp_path: Path) -> None:
    every = run_cli("quote", "BTC", "USDT", "1000", "--all", cwd=tmp_path, env=_env(COLUMNS="100"))
    assert every.returncode == 1  # no route for 1000 BTC
    assert every.stdout.startswith("no route can carry this request")
    summary = [ln for ln in every.stdout.splitlines() if ln.startswith("  ")]
    explain = run_cli("quote", "BTC", "USDT", "1000", "--explain", cwd=tmp_path)
    listed = [ln for ln in explain.stdout.splitlines() if ln.startswith("  ")]
    assert len(summary) < 10 < len(listed)  # only the providers that could serve the pair
    assert {ln.split()[0] for ln in summary if not ln.startswith("    ")} >= {"fixedfloat", "flypay"}
    ok = run_cli("quote", "ETH", "BTC", "2", "--all", cwd=tmp_path, env=_env(COLUMNS="160"))
    doc = json.loads(run_cli("quote", "ETH", "BTC", "2", "--json", cwd=tmp_path).stdout)
    numbers = [int(m.group(1)) for ln in ok.stdout.splitlines() if (m := re.match(r"^(\d+)\s{2}", ln))]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 5
    assert abs(len(numbers) - len(doc["routes"])) <= 3  # quotes drift between runs


def test_costs_in_json_and_explain(tmp_path: Path) -> None:
    doc = json.loads(run_cli("quote", "ETH", "BTC", "2", "--json", cwd=tmp_path).stdout)
    priced = [r for r in doc["routes"] if r["cost_bp"] is not None]
    assert priced, doc["routes"][:1]
    for r in priced:
        cost, usd_in, usd_out = (Decimal(r[k]) for k in ("cost_bp", "usd_in", "usd_out"))
        assert isinstance(r["cost_bp"], str) and Decimal(r["usd_fees"]) >= 0
        assert abs(cost - (usd_in - usd_out) / usd_in * 10000) < Decimal("0.1")
        assert 0 < cost < 2000  # every fee included, and none of them absurd
    explain = run_cli("quote", "ETH", "BTC", "2", "--explain", cwd=tmp_path).stdout
    assert re.search(r"cost -?\d+(\.\d+)? bp \(\$[\d,]+\.\d\d in, \$[\d,]+\.\d\d out", explain)


@pytest.mark.parametrize("args,needle", [
    (("quote", "BTC", "USDT", "1", "--json", "--explain"), "--explain: not allowed with argument --json"),
    (("quote", "BTC", "USDT", "1", "--json", "--all"), "--all: not allowed with --json"),
    (("batch", "q.csv", "--full", "--routes", "3"), "--routes: not allowed with --full"),
    (("--log-level", "loud", "providers"), "--log-level: 'loud' is not a level"),
])
def test_contradictory_flags_are_bad_input(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not proc.stdout


def test_version_and_help_examples(tmp_path: Path) -> None:
    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0 and re.fullmatch(r"bestrate \d+\.\d+\.\d+\S*\n", proc.stdout)
    helped = run_cli("--help", cwd=tmp_path).stdout
    assert "examples:" in helped and "bestrate quote BTC USDT 0.5" in helped
    assert "fixedfloat, gatepay, flypay, onebitpay, fatpay" in helped
    assert "examples:" in run_cli("quote", "--help", cwd=tmp_path).stdout


def test_providers_and_assets_on_the_sandbox(tmp_path: Path) -> None:
    proc = run_cli("providers", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ("fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay"):
        assert re.search(rf"^{name}\s+sandboxed\s+\d+ coin pairs", out, re.M), out
    assert "budget 250 units / 60 s" in out  # FixedFloat's documented limit
    assets = run_cli("assets", "--provider", "onebitpay", cwd=tmp_path)
    assert assets.returncode == 0, assets.stderr
    listed = {ln.split()[0] for ln in assets.stdout.splitlines()[1:]}
    assert "USDT@TRC20" in listed and "CNY" in listed and "BTC@BTC" not in listed
    every = run_cli("assets", cwd=tmp_path).stdout
    assert "BTC@LN" in every and "fixedfloat" in every
    bad = run_cli("assets", "--provider", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "--provider" in bad.stderr and "fixedfloat" in bad.stderr


def test_log_level_from_flag_or_environment(tmp_path: Path) -> None:
    quiet = run_cli("quote", "ETH", "BTC", "2", "--json", cwd=tmp_path)
    assert "DEBUG" not in quiet.stderr
    loud = run_cli("quote", "ETH", "BTC", "2", "--json", cwd=tmp_path, env=_env(BESTRATE_LOG="debug"))
    assert loud.returncode == 0 and "bestrate: DEBUG" in loud.stderr, loud.stderr[-500:]
    flag = run_cli("--log-level", "info", "quote", "ETH", "BTC", "2", "--json", cwd=tmp_path)
    assert flag.returncode == 0 and "DEBUG" not in flag.stderr


def test_batch_default_line_is_small_and_carries_costs(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text("sell,buy,amount\nBTC,USDT,0.5\nETH,BTC,2\n")
    proc = run_cli("batch", "q.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        assert len(line.encode()) < 1536, len(line)
        doc = json.loads(line)
        assert Decimal(doc["routes"][0]["cost_bp"]) > 0 and "usd_out" in doc["routes"][0]
