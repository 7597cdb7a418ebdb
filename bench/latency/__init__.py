"""Latency profiles for the sandbox: how long each emulator takes to answer.

Shipped profiles are TOML files in :mod:`bench.latency.profiles` (``fixed``, ``normal``,
``heavy``, ``mixed``); :func:`load_latency` reads one by name, :func:`resolve_latency` turns what a
caller passes (a number of milliseconds, a numeric string, a profile name, plain data, a
:class:`LatencyProfile`, or None) into a profile or None (no delay). The common latency middleware
(:func:`bench.emulators.common.latency_middleware`) applies it with a timer, never to
``/_sandbox/*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..profiledata import PROVIDERS as _PROVIDERS
from ..profiledata import UnknownProfile, profile_names, read_profile
from .model import (
    Distribution,
    Fixed,
    Heavy,
    LatencyModel,
    LatencyProfile,
    Normal,
    profile_from_data,
    sample_ms,
)

__all__ = [
    "Distribution",
    "Fixed",
    "Heavy",
    "LatencyModel",
    "LatencyProfile",
    "Normal",
    "UnknownProfile",
    "latency_names",
    "load_latency",
    "profile_from_data",
    "resolve_latency",
    "sample_ms",
]

_PACKAGE: Final = "bench.latency.profiles"
_FIRST: Final = ("fixed", "normal", "heavy")


def latency_names() -> tuple[str, ...]:
    """The shipped latency profile names."""
    return profile_names(_PACKAGE, _FIRST)


def load_latency(name: str) -> LatencyProfile:
    """The shipped profile ``name``; :class:`UnknownProfile` (a ValueError) lists the others."""
    profile = profile_from_data(read_profile(_PACKAGE, "latency", name, _FIRST), name)
    unknown = set(profile.providers) - set(_PROVIDERS)
    if unknown:
        raise ValueError(f"latency profile {name!r}: unknown providers {sorted(unknown)}")
    return profile


def resolve_latency(value: object) -> LatencyProfile | None:
    """A profile from ``value``: None or 0 -> None (no delay); a number or numeric string ->
    a fixed delay of that many ms; a name -> the shipped profile; a mapping -> an inline profile."""
    if value is None or isinstance(value, LatencyProfile):
        return value
    if isinstance(value, bool):
        raise TypeError("latency must be a number of ms, a profile name or a profile")
    if isinstance(value, (int, float)):
        return _fixed(float(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            ms = float(text)
        except ValueError:
            return load_latency(text)
        return _fixed(ms)
    if isinstance(value, Mapping):
        return profile_from_data(value)
    raise TypeError("latency must be a number of ms, a profile name or a profile")


def _fixed(ms: float) -> LatencyProfile | None:
    if ms != ms or ms < 0:
        raise ValueError("latency must be a non-negative number of ms")
    return LatencyProfile(default=Fixed(ms), name=f"{ms:g}ms") if ms else None
