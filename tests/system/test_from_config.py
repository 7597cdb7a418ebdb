"""``Router.from_config``: the command's rules, from Python."""

from __future__ import annotations

import os
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
