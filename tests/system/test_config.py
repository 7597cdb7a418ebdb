"""Configuration: TOML file, environment overrides, typed errors, secrets kept secret."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.registry import build_source, field_specs
from router.errors import ConfigError
from router.face.config import (
    MAX_CONFIG_BYTES,
    InsecureConfigWarning,
    UnknownVariableWarning,
    load_config,
)
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


# --- one schema for the file and the environment (issue 15) -------------------------------------

@pytest.mark.parametrize("text,field", [
    ("[providers.fixedfloat]\nbudget_limit = 250.7\n", "providers.fixedfloat.budget_limit"),
    ("[providers.fixedfloat]\nbudget_limit = 1.9\n", "providers.fixedfloat.budget_limit"),
    ("[providers.fixedfloat]\nbudget_reserve = 2.0\n", "providers.fixedfloat.budget_reserve"),
    ("[router]\nfirm_per_source = 2.5\n", "router.firm_per_source"),
    ("[router]\ndeadline = 0\n", "router.deadline"),
    ("[router]\ndeadline = 1e9\n", "router.deadline"),
    ("[fees.transfer]\n\"USDT@TRC20\" = \"-1\"\n", "fees.transfer.USDT@TRC20"),
    ("[fees.providers.gatepay]\nmargin = \"2\"\n", "fees.providers.gatepay.margin"),
    ("[fees]\ncolour = 1\n", "fees.colour"),
])
def test_fractions_where_integers_are_meant_and_bad_fees_are_refused(
        tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text), SPECS, env={})
    assert info.value.field == field and info.value.allowed


@pytest.mark.parametrize("value", ["0", "1e9", "-1", "nan", "soon", "100000"])
def test_env_deadline_is_refused_like_the_flag(value: str) -> None:
    from router.errors import InvalidRequest
    from router.request.parse import parse_deadline

    with pytest.raises(ConfigError) as info:
        load_config(None, SPECS, env={"BESTRATE_ROUTER_DEADLINE": value})
    assert info.value.field == "BESTRATE_ROUTER_DEADLINE"
    with pytest.raises(InvalidRequest) as flag:  # the flag refuses the same values
        parse_deadline(value, "--deadline")
    assert flag.value.field == "--deadline"


def test_whole_numbers_still_read_from_file_and_env(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "[router]\ndeadline = 2\nfirm_per_source = 3\n"), SPECS,
                      env={"BESTRATE_FIXEDFLOAT_BUDGET_LIMIT": "120"})
    assert cfg.router == {"deadline": 2.0, "firm_per_source": 3}
    assert cfg.providers["fixedfloat"]["budget_limit"] == 120
    with pytest.raises(ConfigError):
        load_config(None, SPECS, env={"BESTRATE_FIXEDFLOAT_BUDGET_LIMIT": "120.5"})


@pytest.mark.parametrize("env,field", [
    ({"BESTRATE_FIXEDFLOAT_API_KEY": "k"}, "providers.fixedfloat.api_secret"),
    ({"BESTRATE_FIXEDFLOAT_API_SECRET": "s"}, "providers.fixedfloat.api_key"),
    ({"BESTRATE_ONEBITPAY_API_KEY": "k", "BESTRATE_ONEBITPAY_API_SECRET": "s"},
     "providers.onebitpay.merchant_no"),
])
def test_a_key_without_its_secret_names_the_missing_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, SPECS, env=env)
    assert info.value.field == field
    assert "BESTRATE_" in info.value.allowed


def test_a_disabled_provider_may_keep_a_partial_key() -> None:
    cfg = load_config(None, SPECS, env={"BESTRATE_FIXEDFLOAT_API_KEY": "k",
                                        "BESTRATE_FIXEDFLOAT_ENABLED": "false"})
    assert not cfg.enabled("fixedfloat") and cfg.enabled("gatepay")


def test_unknown_bestrate_variables_are_warned_about_by_name() -> None:
    env = {"BESTRATE_FIXEDFLOAT_APIKEY": "k", "BESTRATE_SANDBOX_SEED": "3", "BESTRATE_CACHE_DIR": "/x",
           "BESTRATE_ROUTER_DEADLINE": "2", "HOME": "/root"}
    with pytest.warns(UnknownVariableWarning) as caught:
        cfg = load_config(None, SPECS, env=env)
    assert [str(w.message) for w in caught] == [
        "BESTRATE_FIXEDFLOAT_APIKEY is not a bestrate setting; ignored"]
    assert cfg.sandbox_seed == 3 and cfg.router["deadline"] == 2.0


def test_bad_sandbox_seed_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, SPECS, env={"BESTRATE_SANDBOX_SEED": "seven"})
    assert info.value.field == "BESTRATE_SANDBOX_SEED"


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "/"])
def test_special_files_are_refused(special: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(special, SPECS, env={}, required=True)
    assert info.value.field == "--config" and "regular file" in info.value.problem


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as info:
        load_config(fifo, SPECS, env={}, required=True)
    assert "regular file" in info.value.problem


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    with open(path, "wb") as f:
        f.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError) as info:
        load_config(path, SPECS, env={}, required=True)
    assert info.value.field == "--config" and str(MAX_CONFIG_BYTES + 1) in info.value.problem


def test_fees_section_reaches_the_router(tmp_path: Path) -> None:
    from router.face.build import Parts

    cfg = load_config(_write(tmp_path, '[fees.transfer]\n"USDT@TRC20" = "0.8"\n'
                                       '[fees.providers.gatepay]\nmargin = "0.005"\n'), SPECS, env={})
    fees = Parts(sources=[], mode="sandbox", budgets=None, bulk=None, cache=None,
                 config=cfg).router_options()["fees"]
    assert fees.transfer["USDT@TRC20"] == Decimal("0.8")
    assert fees.terms("gatepay").margin == Decimal("0.005")
    assert fees.transfer["BTC@BTC"] == Decimal("0.0002")  # the shipped defaults stay
