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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from router.errors import ConfigError, InvalidRequest
from router.secret import Secret

__all__ = ["BUDGET_FIELDS", "MAX_CONFIG_BYTES", "OTHER_VARIABLES", "Config", "Field",
           "InsecureConfigWarning", "UnknownVariableWarning", "is_loopback", "load_config"]

Kind = Literal["str", "secret", "url", "int", "float", "bool"]


class InsecureConfigWarning(UserWarning):
    """The config file holding secrets can be read by other users."""


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind = "str"
    credential: bool = False  # part of what makes a provider "configured"
    #: for a number, a check of its own instead of ``>= 0``: ``check(value, where)`` returns the
    #: value or raises :class:`ConfigError`
    check: Callable[[object, str], Any] | None = None


def _deadline(value: object, where: str) -> float:
    from router.request.parse import parse_deadline

    try:
        seconds = parse_deadline(value, where)
    except InvalidRequest as exc:
        raise ConfigError(exc.field, exc.problem, exc.allowed) from None
    assert seconds is not None
    return seconds


BUDGET_FIELDS: dict[str, Field] = {
    "budget_limit": Field("int"),
    "budget_window": Field("float"),
    "budget_margin": Field("float"),
    "budget_reserve": Field("int"),
    "enabled": Field("bool"),
}

_ROUTER_FIELDS: dict[str, Field] = {"deadline": Field("float", check=_deadline),
                                     "firm_per_source": Field("int")}
_BUDGETS_FIELDS: dict[str, Field] = {"store": Field("str"), "prefix": Field("str")}

#: ``BESTRATE_*`` variables read elsewhere than a config section (any other unknown name is
#: warned about: a typo such as ``BESTRATE_FIXEDFLOAT_APIKEY`` would otherwise go unnoticed).
OTHER_VARIABLES = frozenset({
    "BESTRATE_SANDBOX_SEED",  # the embedded sandbox's seed
    "BESTRATE_CACHE_DIR",  # the local budget store and bulk data
    "BESTRATE_LOG",  # the command's log level
    "BESTRATE_REQUIRE_REDIS",  # the test suite: fail rather than skip the Redis tests
})


class UnknownVariableWarning(UserWarning):
    """A ``BESTRATE_*`` environment variable that no setting reads."""


@dataclass(frozen=True, slots=True)
class Config:
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    router: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    #: the ``[fees]`` table as written (checked at load: :func:`router.snapshot.feemodel.load_fee_model`)
    fees: dict[str, Any] = field(default_factory=dict)
    #: ``BESTRATE_SANDBOX_SEED`` (0 when unset)
    sandbox_seed: int = 0

    def enabled(self, provider: str) -> bool:
        """Not switched off with ``enabled = false`` (live and on the sandbox alike)."""
        return bool(self.providers.get(provider, {}).get("enabled", True))

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
    if spec.check is not None:
        return spec.check(value, where)
    number: int | float
    try:
        if kind == "int":
            # 250.7 is not 250: a fraction (or "250.0") where a whole number is meant is refused
            if not isinstance(value, (int, str)) or (isinstance(value, str)
                                                      and not value.strip().isdigit()):
                raise ValueError(value)
            number = int(value)
        else:
            number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(where, f"{value!r} is not a{'n integer' if kind == 'int' else ' number'}",
                          "a whole number >= 0" if kind == "int" else "a number >= 0") from None
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


#: The most a config file may hold: a TOML file of a few providers is a few kilobytes.
MAX_CONFIG_BYTES = 1 << 20


def _read_file(path: Path) -> dict[str, Any]:
    where, allowed = "--config", "a readable TOML file (a regular file, at most 1 MiB)"
    try:
        # O_NONBLOCK: opening a FIFO nobody writes to must not hang; it is refused just below
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(where, f"cannot read {path}: {exc.strerror}", allowed) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(where, f"{path} is not a regular file", allowed)
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(where, f"{path} is {info.st_size} bytes", allowed)
        with os.fdopen(os.dup(fd), "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(where, f"cannot read {path}: {exc.strerror}", allowed) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(where, f"{path} is over {MAX_CONFIG_BYTES} bytes", allowed)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # the message names a line and column, never a value
        raise ConfigError(str(path), f"not valid TOML ({exc})", "TOML, see README") from None
    if info.st_mode & (stat.S_IRGRP | stat.S_IROTH) and "providers" in data:
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
    unknown = set(data) - {"router", "budgets", "providers", "fees"}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown section",
                          "router, budgets, providers, fees")
    providers_raw = data.get("providers", {})
    if not isinstance(providers_raw, dict):
        raise ConfigError("providers", "expected a table", "[providers.<name>]")
    providers: dict[str, dict[str, Any]] = {}
    for name in providers_raw:
        if name not in specs:
            raise ConfigError(f"providers.{name}", "unknown provider", ", ".join(sorted(specs)))
    known_vars = set(OTHER_VARIABLES)
    for name, fields in specs.items():
        allowed = {**fields, **BUDGET_FIELDS}
        values = _section(providers_raw, name, allowed, f"providers.{name}")
        for fname, spec in allowed.items():
            var = f"BESTRATE_{name.upper()}_{fname.upper()}"
            known_vars.add(var)
            if var in env and env[var] != "":
                values[fname] = _convert(env[var], spec, var)
        _check_credentials(name, fields, values)
        providers[name] = values
    router = _section(data, "router", _ROUTER_FIELDS, "router")
    budgets = _section(data, "budgets", _BUDGETS_FIELDS, "budgets")
    for section, fields_, target in (("ROUTER", _ROUTER_FIELDS, router),
                                     ("BUDGETS", _BUDGETS_FIELDS, budgets)):
        for fname, spec in fields_.items():
            var = f"BESTRATE_{section}_{fname.upper()}"
            known_vars.add(var)
            if env.get(var):
                target[fname] = _convert(env[var], spec, var)
    fees = data.get("fees", {})
    if not isinstance(fees, dict):
        raise ConfigError("fees", "expected a table", "[fees.transfer], [fees.providers.<name>]")
    if fees:
        from router.snapshot.feemodel import load_fee_model

        load_fee_model(fees)  # every bad value is refused now, naming its key
    seed = _convert(env.get("BESTRATE_SANDBOX_SEED") or "0", Field("int"), "BESTRATE_SANDBOX_SEED")
    for var in sorted(v for v in env if v.startswith("BESTRATE_") and v not in known_vars):
        warnings.warn(f"{var} is not a bestrate setting; ignored", UnknownVariableWarning,
                      stacklevel=2)
    return Config(providers=providers, router=router, budgets=budgets, path=file_path, fees=fees,
                  sandbox_seed=seed)


def _check_credentials(name: str, fields: Mapping[str, Field], values: Mapping[str, Any]) -> None:
    """Some of a provider's credentials without the others is a mistake, not "no credentials"
    (which would quietly quote on the sandbox): refused, naming the first one missing. A
    provider switched off (``enabled = false``) may keep a partial set."""
    creds = [n for n, f in fields.items() if f.credential]
    given = [n for n in creds if values.get(n)]
    if not given or len(given) == len(creds) or values.get("enabled", True) is False:
        return
    missing = next(n for n in creds if not values.get(n))
    raise ConfigError(f"providers.{name}.{missing}", f"missing while {', '.join(given)} is set",
                      f"every one of {', '.join(creds)} (in the file or "
                      f"BESTRATE_{name.upper()}_{missing.upper()}), or none")
