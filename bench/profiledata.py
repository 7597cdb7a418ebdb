"""Named profiles shipped as TOML package data (latency profiles, fault profiles).

A profile family is a package holding ``<name>.toml`` files (``bench.latency.profiles``,
``bench.faults.profiles``): :func:`profile_names` lists them, :func:`read_profile` parses one,
and an unknown name is :class:`UnknownProfile` naming the allowed ones. :data:`PROVIDERS` is the
set of emulator names a profile may single out (the sandbox's :data:`~bench.sandbox.EMULATORS`).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any, Final

__all__ = ["PROVIDERS", "UnknownProfile", "profile_names", "read_profile"]

PROVIDERS: Final = ("fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay")


class UnknownProfile(ValueError):
    """A profile name that is not shipped; ``family`` is ``"faults"`` or ``"latency"``."""

    def __init__(self, family: str, name: str, allowed: tuple[str, ...]) -> None:
        self.family = family
        self.name = name
        self.allowed = allowed
        super().__init__(f"unknown {family} profile {name!r} (allowed: {', '.join(allowed)})")


def profile_names(package: str, first: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Names of the ``*.toml`` files in ``package``: ``first`` (those present) then the rest
    sorted."""
    found = {entry.name[:-5] for entry in resources.files(package).iterdir()
             if entry.name.endswith(".toml") and entry.is_file()}
    head = tuple(n for n in first if n in found)
    return head + tuple(sorted(found - set(head)))


def read_profile(package: str, family: str, name: str,
                 first: tuple[str, ...] = ()) -> dict[str, Any]:
    """The parsed ``<name>.toml`` of ``package``; :class:`UnknownProfile` when not shipped."""
    names = profile_names(package, first)
    if name not in names:
        raise UnknownProfile(family, name, names)
    text = resources.files(package).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
