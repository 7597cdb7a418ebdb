"""Every provider adapter, its configuration fields, and how to build its source.

The composition root (``router.cli``) uses this table; the engine never imports adapters.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.budgets import BudgetPolicy
from router.errors import ConfigError
from router.face.config import Field
from router.secret import Secret
from router.sources.protocol import QuoteSource

__all__ = ["PROVIDERS", "ProviderSpec", "available", "build_source", "field_specs", "sandbox_values"]


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider: its config fields and where its source class lives.

    ``credentials`` are the constructor's positional arguments, in order; the module
    ``adapters.<package>`` exports ``source_class`` and ``adapters.<package>.constants`` exports
    ``DEFAULT_BUDGET_POLICY``. Imports happen only when a source is built.
    """

    name: str
    package: str
    source_class: str
    credentials: tuple[str, ...]
    fields: Mapping[str, Field]

    def default_policy(self) -> BudgetPolicy:
        constants = importlib.import_module(f"adapters.{self.package}.constants")
        policy: BudgetPolicy = constants.DEFAULT_BUDGET_POLICY
        return policy

    def factory(self, values: dict[str, Any], policy: BudgetPolicy) -> QuoteSource:
        module = importlib.import_module(f"adapters.{self.package}")
        cls: Callable[..., QuoteSource] = getattr(module, self.source_class)
        kwargs: dict[str, Any] = {"budget_policy": policy}
        for optional in ("base_url", "rates_base_url"):
            if values.get(optional) and optional in self.fields:
                kwargs[optional] = values[optional]
        return cls(*(values[c] for c in self.credentials), **kwargs)


def _spec(name: str, cls: str, creds: Mapping[str, str], *, extra: tuple[str, ...] = ()) -> ProviderSpec:
    fields: dict[str, Field] = {c: Field(kind, credential=True) for c, kind in creds.items()}  # type: ignore[arg-type]
    fields["base_url"] = Field("url")
    for e in extra:
        fields[e] = Field("url")
    return ProviderSpec(name, name, cls, tuple(creds), fields)


PROVIDERS: dict[str, ProviderSpec] = {
    s.name: s
    for s in (
        _spec("fixedfloat", "FixedFloatSource", {"api_key": "secret", "api_secret": "secret"},
              extra=("rates_base_url",)),
        _spec("gatepay", "GatePaySource", {"client_id": "str", "api_secret": "secret"}),
        _spec("flypay", "FlyPaySource", {"api_key": "secret", "api_secret": "secret"}),
        _spec("onebitpay", "OneBitPaySource",
              {"merchant_no": "str", "api_key": "secret", "api_secret": "secret"}),
        _spec("fatpay", "FaTPaySource", {"partner_id": "str", "private_key_pem": "secret"}),
    )
}


def available() -> tuple[str, ...]:
    """Providers whose adapter package is installed (all of them in a complete checkout)."""
    return tuple(n for n, s in PROVIDERS.items()
                 if importlib.util.find_spec(f"adapters.{s.package}") is not None)


def field_specs() -> dict[str, Mapping[str, Field]]:
    return {name: spec.fields for name, spec in PROVIDERS.items()}


def _policy(spec: ProviderSpec, values: Mapping[str, Any]) -> BudgetPolicy:
    base = spec.default_policy()
    changes = {k[len("budget_"):]: values[k] for k in
               ("budget_limit", "budget_window", "budget_margin", "budget_reserve") if k in values}
    if not changes:
        return base
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    fields.update(changes)
    try:
        return BudgetPolicy(**fields)
    except ConfigError as exc:
        raise ConfigError(f"providers.{spec.name}.budget_{exc.field}", exc.problem, exc.allowed) from None


def build_source(name: str, values: Mapping[str, Any]) -> QuoteSource:
    """Build provider ``name``'s source from validated config ``values``."""
    spec = PROVIDERS[name]
    for fname, f in spec.fields.items():
        if f.credential and not values.get(fname):
            raise ConfigError(f"providers.{name}.{fname}", "missing", "set it in the file or "
                              f"BESTRATE_{name.upper()}_{fname.upper()}")
    return spec.factory(dict(values), _policy(spec, values))


def sandbox_values(name: str, entry: Mapping[str, str]) -> dict[str, Any]:
    """Config values for ``name`` from one entry of the sandbox's ``providers`` JSON."""
    spec = PROVIDERS[name]
    out: dict[str, Any] = {}
    for fname, value in entry.items():
        f = spec.fields.get(fname)
        if f is None:
            continue
        out[fname] = Secret(value) if f.kind == "secret" else value
    return out
