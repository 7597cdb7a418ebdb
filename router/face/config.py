"""Configuration: a TOML file plus ``BESTRATE_<PROVIDER>_<FIELD>`` environment variables.

Environment wins over the file. Each provider declares its fields (:class:`Field`); values are
checked and converted here, and every problem raises :class:`ConfigError` naming the key (e.g.
``providers.fixedfloat.budget_limit`` or ``BESTRATE_FIXEDFLOAT_BUDGET_LIMIT``). Secret fields
become :class:`Secret` at once, so they cannot reach a repr or a log.

File layout::

    [router]
    deadline = 5.0            # seconds
    [budgets]
    store = "local"           # or "memory", "redis://host:port/db"
    [providers.fixedfloat]
    api_key = "..."
    api_secret = "..."
    base_url = "https://ff.io"
    budget_limit = 250

URLs must be ``https://`` (certificates are verified; nothing here can turn that off), except on
loopback (``127.0.0.0/8``, ``::1``, ``localhost``), where the sandbox serves plain ``http://``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import stat
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from router.errors import ConfigError
from router.secret import Secret

__all__ = ["BUDGET_FIELDS", "Config", "Field", "InsecureConfigWarning", "is_loopback",
           "load_config"]

Kind = Literal["str", "secret", "url", "int", "float", "bool"]


class InsecureConfigWarning(UserWarning):
    """The config file holding secrets can be read by other users."""


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind = "str"
    credential: bool = False  # part of what makes a provider "configured"


BUDGET_FIELDS: dict[str, Field] = {
    "budget_limit": Field("int"),
    "budget_window": Field("float"),
    "budget_margin": Field("float"),
    "budget_reserve": Field("int"),
    "enabled": Field("bool"),
}

_ROUTER_FIELDS: dict[str, Field] = {"deadline": Field("float"), "firm_per_source": Field("int")}
_BUDGETS_FIELDS: dict[str, Field] = {"store": Field("str"), "prefix": Field("str")}


@dataclass(frozen=True, slots=True)
class Config:
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    router: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def configured(self, provider: str, specs: Mapping[str, Mapping[str, Field]]) -> bool:
        """Does ``provider`` have every credential field set (so it can talk to the live API)?"""
        values = self.providers.get(provider, {})
        creds = [n for n, f in specs.get(provider, {}).items() if f.credential]
        return bool(creds) and all(values.get(n) for n in creds)


def _convert(value: object, spec: Field, where: str) -> Any:
    kind = spec.kind
    if kind in ("str", "secret", "url"):
        if not isinstance(value, str):
            raise ConfigError(where, f"expected a string, got {type(value).__name__}", "a string")
        text = value.strip()
        if kind == "secret":
            return Secret(text)
        if kind == "url":
            try:
                parts = urlsplit(text)
                host = parts.hostname
            except ValueError:
                raise ConfigError(where, "not a URL", "a URL like https://ff.io") from None
            if parts.scheme not in ("http", "https") or not host:
                raise ConfigError(where, "not an http(s) URL", "a URL like https://ff.io")
            if parts.scheme == "http" and not is_loopback(host):
                # credentials and quotes would cross the network in clear: TLS or loopback only
                raise ConfigError(where, "plain http is only allowed on loopback",
                                  "an https:// URL (http:// for 127.0.0.0/8, ::1, localhost)")
            return text.rstrip("/")
        return text
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0",
                                                                "false", "no", "off"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        raise ConfigError(where, "not a boolean", "true or false")
    if isinstance(value, bool):
        raise ConfigError(where, "expected a number, got a boolean", "a positive number")
    try:
        number = int(value) if kind == "int" else float(value)  # type: ignore[call-overload, arg-type]
    except (TypeError, ValueError):
        raise ConfigError(where, f"not a{'n integer' if kind == 'int' else ' number'}",
                          "a positive number") from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError(where, f"{value!r} is out of range", "a finite number >= 0")
    return number


def is_loopback(host: str) -> bool:
    """Is ``host`` this machine (``localhost``, 127.0.0.0/8, ``::1``)?"""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("--config", f"cannot read {path}: {exc.strerror}", "a readable TOML file") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # the message names a line and column, never a value
        raise ConfigError(str(path), f"not valid TOML ({exc})", "TOML, see README") from None
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH) and "providers" in data:
        warnings.warn(f"{path} is readable by other users; chmod 600 it (it may hold secrets)",
                      InsecureConfigWarning, stacklevel=3)
    return data


def _section(data: Mapping[str, Any], key: str, specs: Mapping[str, Field], where: str) -> dict[str, Any]:
    section = data.get(key, {})
    if not isinstance(section, dict):
        raise ConfigError(where, "expected a table", f"[{where}]")
    out: dict[str, Any] = {}
    for name, value in section.items():
        if name not in specs:
            raise ConfigError(f"{where}.{name}", "unknown key", ", ".join(sorted(specs)))
        out[name] = _convert(value, specs[name], f"{where}.{name}")
    return out


def load_config(
    path: str | Path | None,
    specs: Mapping[str, Mapping[str, Field]],
    env: Mapping[str, str] | None = None,
    *,
    required: bool = False,
) -> Config:
    """Read ``path`` (skipped when missing unless ``required``) and overlay ``env``."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    file_path = Path(path) if path is not None else None
    if file_path is not None and (required or file_path.exists()):
        data = _read_file(file_path)
    unknown = set(data) - {"router", "budgets", "providers"}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown section", "router, budgets, providers")
    providers_raw = data.get("providers", {})
    if not isinstance(providers_raw, dict):
        raise ConfigError("providers", "expected a table", "[providers.<name>]")
    providers: dict[str, dict[str, Any]] = {}
    for name in providers_raw:
        if name not in specs:
            raise ConfigError(f"providers.{name}", "unknown provider", ", ".join(sorted(specs)))
    for name, fields in specs.items():
        allowed = {**fields, **BUDGET_FIELDS}
        values = _section(providers_raw, name, allowed, f"providers.{name}")
        for fname, spec in allowed.items():
            var = f"BESTRATE_{name.upper()}_{fname.upper()}"
            if var in env and env[var] != "":
                values[fname] = _convert(env[var], spec, var)
        providers[name] = values
    router = _section(data, "router", _ROUTER_FIELDS, "router")
    budgets = _section(data, "budgets", _BUDGETS_FIELDS, "budgets")
    for fname, spec in _ROUTER_FIELDS.items():
        var = f"BESTRATE_ROUTER_{fname.upper()}"
        if env.get(var):
            router[fname] = _convert(env[var], spec, var)
    if env.get("BESTRATE_BUDGETS_STORE"):
        budgets["store"] = _convert(env["BESTRATE_BUDGETS_STORE"], _BUDGETS_FIELDS["store"],
                                    "BESTRATE_BUDGETS_STORE")
    return Config(providers=providers, router=router, budgets=budgets, path=file_path)
