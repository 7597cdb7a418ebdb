"""Every provider adapter, its configuration fields, and how to build its source.

The composition root (``router.cli``) uses this table; the engine never imports adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.budgets import BudgetPolicy
from router.config import Field
from router.errors import ConfigError
from router.secret import Secret
from router.source import QuoteSource

__all__ = ["PROVIDERS", "ProviderSpec", "build_source", "field_specs", "sandbox_values"]


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str
    fields: Mapping[str, Field]
    default_policy: Callable[[], BudgetPolicy]
    factory: Callable[[dict[str, Any], BudgetPolicy], QuoteSource]


def _ff_policy() -> BudgetPolicy:
    from .fixedfloat.constants import DEFAULT_BUDGET_POLICY as BUDGET_POLICY

    return BUDGET_POLICY


def _ff_factory(values: dict[str, Any], policy: BudgetPolicy) -> QuoteSource:
    from .fixedfloat import FixedFloatSource

    kwargs: dict[str, Any] = {"budget_policy": policy}
    if values.get("base_url"):
        kwargs["base_url"] = values["base_url"]
    if values.get("rates_base_url"):
        kwargs["rates_base_url"] = values["rates_base_url"]
    return FixedFloatSource(values["api_key"], values["api_secret"], **kwargs)


PROVIDERS: dict[str, ProviderSpec] = {
    "fixedfloat": ProviderSpec(
        name="fixedfloat",
        fields={
            "api_key": Field("secret", credential=True),
            "api_secret": Field("secret", credential=True),
            "base_url": Field("url"),
            "rates_base_url": Field("url"),
        },
        default_policy=_ff_policy,
        factory=_ff_factory,
    ),
}


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
