"""The shipped fault profiles (TOML files in :mod:`bench.faults.profiles`) and how a caller's
choice becomes a :class:`~.profile.FaultProfile`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..profiledata import profile_names, read_profile
from .profile import FaultProfile

__all__ = ["fault_names", "load_faults", "resolve_faults"]

_PACKAGE: Final = "bench.faults.profiles"
_FIRST: Final = ("none", "flaky", "slow", "liar", "storm", "skew", "expired", "chaos")


def fault_names() -> tuple[str, ...]:
    """The shipped fault profile names (``none`` first)."""
    return profile_names(_PACKAGE, _FIRST)


def load_faults(name: str) -> FaultProfile:
    """The shipped profile ``name``; :class:`~bench.profiledata.UnknownProfile` lists the
    others."""
    return FaultProfile.from_data(read_profile(_PACKAGE, "faults", name, _FIRST), name)


def resolve_faults(value: object) -> FaultProfile | None:
    """None -> None (no fault injection); a name -> the shipped profile; a mapping -> an inline
    profile; a :class:`FaultProfile` as is."""
    if value is None or isinstance(value, FaultProfile):
        return value
    if isinstance(value, str):
        return load_faults(value.strip())
    if isinstance(value, Mapping):
        return FaultProfile.from_data(value)
    raise TypeError("faults must be a profile name, a profile object or None")
