"""``Router.from_config``: the command's rules, from Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from router import Router
from router.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bestrate.toml"
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


async def test_no_credentials_quotes_on_the_sandbox_with_the_configured_router(tmp_path: Path) -> None:
    path = _write(tmp_path, "[router]\ndeadline = 2.5\n[providers.fixedfloat]\nbudget_limit = 100\n")
    async with Router.from_config(path, env={}) as r:
        assert set(r.providers) == {"fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay"}
        assert r._deadline == 2.5  # the file's [router] deadline
        rs = await r.quote("BTC", "USDT", "0.5")
    assert rs.best is not None and rs.best.amount_out > 0


async def test_a_path_given_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        async with Router.from_config(tmp_path / "absent.toml", env={}):
            pass  # pragma: no cover
    assert info.value.field == "--config"


async def test_enabled_false_holds_on_the_sandbox_too() -> None:
    async with Router.from_config(None, env={"BESTRATE_FIXEDFLOAT_ENABLED": "false"}) as r:
        assert "fixedfloat" not in r.providers and "gatepay" in r.providers


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}
    return subprocess.run([sys.executable, "-m", "router.cli", *args], cwd=tmp_path,
                          env={**base, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args,env,field", [
    (("--config", "/dev/zero"), {}, "--config"),
    ((), {"BESTRATE_ROUTER_DEADLINE": "0"}, "BESTRATE_ROUTER_DEADLINE"),
    ((), {"BESTRATE_ROUTER_DEADLINE": "1e9"}, "BESTRATE_ROUTER_DEADLINE"),
    ((), {"BESTRATE_FIXEDFLOAT_API_KEY": "k"}, "providers.fixedfloat.api_secret"),
])
def test_the_command_refuses_bad_configuration_naming_the_field(
        tmp_path: Path, args: tuple[str, ...], env: dict[str, str], field: str) -> None:
    proc = _cli(tmp_path, "quote", "BTC", "USDT", "0.5", *args, **env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bestrate: error: {field}: "), proc.stderr


def test_the_command_warns_about_an_unknown_variable_and_goes_on(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "quote", "BTC", "USDT", "0.5", "--json", BESTRATE_FIXEDFLOAT_APIKEY="k")
    assert proc.returncode == 0, proc.stderr
    assert ("bestrate: warning: BESTRATE_FIXEDFLOAT_APIKEY is not a bestrate setting; ignored"
            in proc.stderr.splitlines())
    assert json.loads(proc.stdout)["mode"] == "sandbox"
