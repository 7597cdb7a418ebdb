"""The `bestrate` command as a user runs it: subprocesses, real sandbox, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bench.sandbox import Sandbox


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "router.cli", *args],
        cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=timeout,
    )


def _check_contract(doc: dict) -> None:  # type: ignore[type-arg]
    assert set(doc) >= {"request", "routes", "unavailable", "elapsed_ms", "mode"}
    for route in doc["routes"]:
        assert set(route) >= {"amount_in", "amount_out", "kind", "legs"}
        assert route["kind"] in ("firm", "indicative")
        Decimal(route["amount_in"]), Decimal(route["amount_out"])  # strings, exact
        assert isinstance(route["amount_in"], str) and isinstance(route["amount_out"], str)
        for leg in route["legs"]:
            assert set(leg) >= {"provider", "asset_in", "asset_out", "amount_in", "amount_out",
                                "fees", "rate_type", "quote_id"}
            assert leg["rate_type"] in ("fixed", "float")
            for fee in leg["fees"]:
                assert set(fee) == {"kind", "amount", "asset"} and isinstance(fee["amount"], str)
    for u in doc["unavailable"]:
        assert set(u) >= {"provider", "reason", "detail"}


def test_quote_json_on_embedded_sandbox(tmp_path: Path) -> None:
    proc = run_cli("quote", "BTC", "USDT", "0.5", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    _check_contract(doc)
    assert doc["mode"] == "sandbox"
    assert "sandbox" in proc.stderr
    assert doc["request"] == {"sell": "BTC", "buy": "USDT", "amount": "0.5", "side": "sell",
                              "rate_type": "any", "max_hops": 2}
    assert doc["routes"], doc
    providers = {r["legs"][0]["provider"] for r in doc["routes"]}
    assert {"fixedfloat", "gatepay"} <= providers  # every provider serving the pair is compared
    for r in doc["routes"]:
        assert r["legs"][-1]["asset_out"].startswith("USDT") and r["legs"][0]["asset_in"].startswith("BTC")
        for prev, leg in zip(r["legs"], r["legs"][1:]):  # legs chain exactly
            fee = Decimal(leg["transfer_fee"]["amount"]) if leg["transfer_fee"] else Decimal(0)
            assert Decimal(leg["amount_in"]) <= Decimal(prev["amount_out"]) - fee
    outs = [Decimal(r["amount_out"]) for r in doc["routes"]]
    assert outs == sorted(outs, reverse=True)


def test_quote_receive_side_ranks_by_least_sent(tmp_path: Path) -> None:
    proc = run_cli("quote", "BTC", "USDT@TRC20", "1000", "--receive", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    _check_contract(doc)
    ins = [Decimal(r["amount_in"]) for r in doc["routes"]]
    assert ins == sorted(ins) and ins
    assert all(Decimal(r["amount_out"]) >= Decimal("1000") for r in doc["routes"])


def test_quote_table_is_explained(tmp_path: Path) -> None:
    proc = run_cli("quote", "ETH", "BTC", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "fixedfloat" in out and "fees:" in out and out.startswith("you send 2 ETH")


@pytest.mark.parametrize("args,needle", [
    (("quote", "BTC", "NOPE", "1"), "buy"),
    (("quote", "USDT@TRC2O", "BTC", "100"), "sell: unknown network 'TRC2O' for USDT"),
    (("quote", "ETH@FOO", "BTC", "1"), "ETH@ERC20 (Ethereum)"),
    (("quote", "BTC", "USDT", "-inf"), "amount: '-inf' is not a plain decimal number"),
    (("quote", "BTC", "USDT", "1_000"), "amount"),
    (("quote", "BTC", "USDT"), "required: amount"),  # argparse's own errors: one line too
    (("quote", "BTC", "USDT", "-3"), "amount"),
    (("quote", "BTC", "USDT", "nan"), "amount"),
    (("quote", "BTC", "USDT", "0.000000001"), "amount"),
    (("quote", "BTC", "USDT", "1", "--type", "best"), "rate_type"),
    (("quote", "BTC", "USDT", "1", "--max-hops", "x"), "--max-hops"),
    (("quote", "BTC", "USDT", "1", "--deadline", "0"), "--deadline"),
])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_malformed_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bestrate.toml").write_text("[providers.fixedfloat]\nbudget_limit = 'lots'\n")
    proc = run_cli("quote", "BTC", "USDT", "1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "providers.fixedfloat.budget_limit" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "bestrate.toml").write_text("[providers.nobody]\napi_key = 'x'\n")
    proc = run_cli("quote", "BTC", "USDT", "1", cwd=tmp_path)
    assert proc.returncode == 2 and "providers.nobody" in proc.stderr


def test_env_overrides_and_bad_env_named(tmp_path: Path) -> None:
    proc = run_cli("quote", "BTC", "USDT", "1", cwd=tmp_path,
                   env=_env(BESTRATE_FIXEDFLOAT_BASE_URL="ftp://nowhere"))
    assert proc.returncode == 2 and "BESTRATE_FIXEDFLOAT_BASE_URL" in proc.stderr


async def test_credentials_switch_to_live_mode(tmp_path: Path) -> None:
    async with Sandbox(seed=3, frozen=True) as sb:
        ff = sb.providers["fixedfloat"]
        env = _env(BESTRATE_FIXEDFLOAT_API_KEY=ff["api_key"], BESTRATE_FIXEDFLOAT_API_SECRET=ff["api_secret"],
                   BESTRATE_FIXEDFLOAT_BASE_URL=ff["base_url"])
        import asyncio

        proc = await asyncio.to_thread(run_cli, "quote", "LTC", "BTC", "3", "--json", cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["mode"] == "live" and "sandbox" not in proc.stderr
        assert doc["routes"][0]["legs"][0]["provider"] == "fixedfloat"
        # secrets never reach any output
        assert ff["api_secret"] not in proc.stdout + proc.stderr
        assert ff["api_key"] not in proc.stdout + proc.stderr
        # a wrong secret is reported, not raised
        env["BESTRATE_FIXEDFLOAT_API_SECRET"] = "wrong"
        proc = await asyncio.to_thread(run_cli, "quote", "LTC", "BTC", "3", "--json", cwd=tmp_path, env=env)
        doc = json.loads(proc.stdout)
        assert proc.returncode == 1 and doc["routes"] == []
        assert {u["reason"] for u in doc["unavailable"]} == {"auth_failed"}


def test_redis_budget_store_from_the_environment(tmp_path: Path, redis_url: str) -> None:
    import redis

    env = _env(BESTRATE_BUDGETS_STORE=redis_url)
    proc = run_cli("quote", "BTC", "USDT", "0.5", "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() for k in client.keys("{bestrate:fixedfloat:*")]
    finally:
        client.close()
    assert any(k.endswith(":log") for k in keys), keys  # the units were booked in Redis
    bad = run_cli("quote", "BTC", "USDT", "0.5", cwd=tmp_path, env=_env(BESTRATE_BUDGETS_STORE="mysql://x"))
    assert bad.returncode == 2 and "budgets.store" in bad.stderr
