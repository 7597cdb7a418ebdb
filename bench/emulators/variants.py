"""Doc ambiguities as sandbox variants: where a provider's doc allows two readings, each is a value.

Each emulator declares its ambiguities as :class:`Variant` specs (``VARIANTS`` in its package). A
caller picks values per emulator (``create_app(..., variants={"rates_path": "split"})``) or for the
whole sandbox (``Sandbox(variants={"fixedfloat.rates_path": "split"})``). With a value chosen, the
emulator is **strict**: it accepts only that reading (or answers only in that layout). With none it
keeps its lenient default, which accepts every reading (for a request-side ambiguity) or answers in
the layout it always had (for an answer-side one); :attr:`Variant.default` says which.

:class:`VariantChoice` is the validated choice one emulator runs with; ``GET /_sandbox/variants``
serves :meth:`VariantChoice.describe`. Unknown names or values are a :class:`ValueError` naming the
``provider.name`` key and the allowed values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["Variant", "VariantChoice", "split_keys"]


@dataclass(frozen=True, slots=True)
class Variant:
    """One ambiguity: its ``name``, the readings it allows (``values``), what it is about
    (``summary``, citing the doc), and what the emulator does with no value chosen (``default``)."""

    name: str
    values: tuple[str, ...]
    summary: str
    default: str = "lenient: accepts every reading"

    def __post_init__(self) -> None:
        if len(self.values) < 2 or len(set(self.values)) != len(self.values):
            raise ValueError(f"variant {self.name}: needs two or more distinct values")


class VariantChoice:
    """The values one emulator was given, checked against its specs (None = lenient default)."""

    def __init__(self, provider: str, specs: Iterable[Variant],
                 chosen: Mapping[str, str] | None = None) -> None:
        self.provider = provider
        self.specs: Mapping[str, Variant] = MappingProxyType({v.name: v for v in specs})
        active: dict[str, str] = {}
        for name, value in (chosen or {}).items():
            spec = self.specs.get(name)
            if spec is None:
                allowed = ", ".join(f"{provider}.{n}" for n in self.specs) or "none"
                raise ValueError(f"unknown variant {provider}.{name}: {provider} has {allowed}")
            if value not in spec.values:
                raise ValueError(f"variant {provider}.{name} must be one of "
                                 f"{', '.join(spec.values)} (got {value!r})")
            active[name] = value
        self._active: Mapping[str, str] = MappingProxyType(active)

    def active(self, name: str) -> str | None:
        """The chosen value of ``name``, or None when the emulator runs its lenient default."""
        if name not in self.specs:
            raise KeyError(name)
        return self._active.get(name)

    def accepts(self, name: str, value: str) -> bool:
        """Is the reading ``value`` of ``name`` accepted? (Always, unless another was chosen.)"""
        active = self.active(name)
        return active is None or active == value

    def describe(self) -> dict[str, Any]:
        """What ``GET /_sandbox/variants`` answers: every variant, its values and the active one."""
        return {"provider": self.provider, "variants": {
            name: {"values": list(spec.values), "active": self._active.get(name),
                   "default": spec.default, "summary": spec.summary}
            for name, spec in self.specs.items()}}


def split_keys(variants: Mapping[str, str], providers: Mapping[str, Iterable[Variant]]
               ) -> dict[str, dict[str, str]]:
    """``{"provider.name": value}`` -> ``{provider: {name: value}}``, every key and value checked
    (an unknown provider, name or value is a ValueError naming the key and what is allowed)."""
    out: dict[str, dict[str, str]] = {}
    for key, value in variants.items():
        provider, dot, name = str(key).partition(".")
        if not dot or provider not in providers:
            raise ValueError(f"variant key {key!r} must be PROVIDER.NAME with PROVIDER one of "
                             f"{', '.join(providers)}")
        out.setdefault(provider, {})[name] = str(value)
    for provider, chosen in out.items():
        VariantChoice(provider, providers[provider], chosen)  # raises on a bad name or value
    return out
