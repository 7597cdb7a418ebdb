"""Configuration: TOML file, environment overrides, typed errors, secrets kept secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.registry import build_source, field_specs
from router.errors import ConfigError
from router.face.config import InsecureConfigWarning, load_config
from router.secret import Secret

SPECS = field_specs()


def _write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "bestrate.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_file_then_env_env_wins(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[router]
deadline = 2.5
[providers.fixedfloat]
api_key = "file-key"
api_secret = "file-secret"
base_url = "https://example.test/"
budget_limit = 100
""")
    cfg = load_config(path, SPECS, env={"BESTRATE_FIXEDFLOAT_API_KEY": "env-key",
                                        "BESTRATE_FIXEDFLOAT_BUDGET_LIMIT": "120"})
    ff = cfg.providers["fixedfloat"]
    assert isinstance(ff["api_key"], Secret) and ff["api_key"].reveal() == "env-key"
    assert ff["api_secret"].reveal() == "file-secret"
    assert ff["base_url"] == "https://example.test"
    assert ff["budget_limit"] == 120
    assert cfg.router["deadline"] == 2.5
    assert cfg.configured("fixedfloat", SPECS)
    assert "file-secret" not in repr(cfg) and "env-key" not in repr(cfg)


def test_missing_file_is_fine_unless_required(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "absent.toml", SPECS, env={})
    assert not cfg.configured("fixedfloat", SPECS)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml", SPECS, env={}, required=True)
    assert info.value.field == "--config"


@pytest.mark.parametrize("text,field", [
    ("[providers.fixedfloat]\nbudget_limit = 'many'\n", "providers.fixedfloat.budget_limit"),
    ("[providers.fixedfloat]\nbudget_limit = -5\n", "providers.fixedfloat.budget_limit"),
    ("[providers.fixedfloat]\ncolour = 'red'\n", "providers.fixedfloat.colour"),
    ("[providers.nobody]\n", "providers.nobody"),
    ("[routerr]\n", "routerr"),
    ("[providers.fixedfloat]\nbase_url = 'ff.io'\n", "providers.fixedfloat.base_url"),
    ("[providers.fixedfloat]\napi_key = 5\n", "providers.fixedfloat.api_key"),
    ("[router]\ndeadline = true\n", "router.deadline"),
])
def test_malformed_values_name_the_key(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text), SPECS, env={})
    assert info.value.field == field and info.value.allowed


def test_not_toml_is_a_config_error_without_the_content(tmp_path: Path) -> None:
    path = _write(tmp_path, "api_secret = 'hunter2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, SPECS, env={})
    assert "hunter2" not in str(info.value)


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, SPECS, env={"BESTRATE_FIXEDFLOAT_BUDGET_WINDOW": "soon"})
    assert info.value.field == "BESTRATE_FIXEDFLOAT_BUDGET_WINDOW"


def test_world_readable_file_with_secrets_warns(tmp_path: Path) -> None:
    path = _write(tmp_path, "[providers.fixedfloat]\napi_key='k'\napi_secret='s'\n", mode=0o644)
    with pytest.warns(InsecureConfigWarning):
        load_config(path, SPECS, env={})


def test_budget_overrides_reach_the_policy_and_are_checked() -> None:
    values = {"api_key": Secret("k"), "api_secret": Secret("s"), "budget_limit": 100}
    source = build_source("fixedfloat", values)
    assert source.name == "fixedfloat"
    with pytest.raises(ConfigError) as info:
        build_source("fixedfloat", {**values, "budget_limit": 0})
    assert info.value.field.startswith("providers.fixedfloat.budget_")
    with pytest.raises(ConfigError) as info:
        build_source("fixedfloat", {"api_key": Secret("k")})
    assert info.value.field == "providers.fixedfloat.api_secret"


def test_secret_never_shows() -> None:
    s = Secret("hunter2")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and "hunter2" not in f"{s}"
    assert s.reveal() == "hunter2" and s == Secret("hunter2") and s != Secret("other")
    import msgspec

    with pytest.raises(TypeError):
        msgspec.json.encode({"k": s})
