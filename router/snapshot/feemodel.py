"""The fee and limit model: what no provider API states, shipped as TOML and overridable.

Defaults live in ``router/data/fees.toml``; a user's ``[fees]`` table (same layout) is merged over
them key by key. Decoded with msgspec into typed structs: amounts are exact Decimals, and a bad
value raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

import msgspec

from router.assets import Asset
from router.errors import ConfigError

__all__ = ["FeeModel", "ProviderTerms", "load_fee_model"]


class ProviderTerms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    payout_included: bool = True
    margin: Decimal | None = None
    min_usd: Decimal | None = None
    max_usd: Decimal | None = None


class FeeModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    transfer: dict[str, Decimal] = {}
    providers: dict[str, ProviderTerms] = {}

    def terms(self, provider: str) -> ProviderTerms:
        return self.providers.get(provider) or ProviderTerms()

    @property
    def payout_excluded(self) -> frozenset[str]:
        """Providers whose quotes leave the payout network fee to the user (account balances)."""
        return frozenset(n for n, t in self.providers.items() if not t.payout_included)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _defaults() -> dict[str, Any]:
    raw = resources.files("router.data").joinpath("fees.toml").read_bytes()
    return msgspec.toml.decode(raw)  # type: ignore[no-any-return]


def _convert(value: Any, type_: Any, where: str) -> Any:
    try:
        return msgspec.convert(value, type_, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        problem, _, at = text.partition(" - at `$")
        if at.startswith("."):
            where = f"{where}.{at[1:].rstrip('`')}"
        raise ConfigError(where, problem, "see router/data/fees.toml for the layout") from None


def load_fee_model(overrides: Mapping[str, Any] | None = None) -> FeeModel:
    """The shipped model with ``overrides`` (a user's ``[fees]`` table) merged over it."""
    data = _merge(_defaults(), overrides or {})
    unknown = set(data) - {"transfer", "providers"}
    if unknown:
        raise ConfigError(f"fees.{sorted(unknown)[0]}", "unknown key", "transfer, providers")
    transfer: dict[str, Decimal] = {}
    for key, value in _convert(data.get("transfer", {}), dict, "fees.transfer").items():
        amount = _convert(value, Decimal, f"fees.transfer.{key}")
        if not amount.is_finite() or amount < 0:
            raise ConfigError(f"fees.transfer.{key}", f"{amount} is not a fee", "a decimal >= 0")
        coin, _, network = str(key).partition("@")
        transfer[Asset.of(coin, network or None).id] = amount  # "BTC" is "BTC@BTC"
    providers: dict[str, ProviderTerms] = {}
    for name, raw in _convert(data.get("providers", {}), dict, "fees.providers").items():
        terms = _convert(raw, ProviderTerms, f"fees.providers.{name}")
        if terms.margin is not None and not (0 <= terms.margin < 1):
            raise ConfigError(f"fees.providers.{name}.margin", f"{terms.margin} is out of range",
                              "a fraction 0 <= margin < 1")
        providers[str(name)] = terms
    return FeeModel(transfer=transfer, providers=providers)
