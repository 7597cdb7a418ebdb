"""Latency profiles: distributions of an emulator's answer delay, and the seeded sampler.

A :class:`LatencyProfile` has a ``default`` distribution and optional per-provider ones. Three
kinds, tagged by ``kind`` in the TOML data:

* ``fixed`` (:class:`Fixed`): always ``ms``.
* ``normal`` (:class:`Normal`): Gaussian ``mean_ms`` / ``sd_ms``, never below ``floor_ms``.
* ``heavy`` (:class:`Heavy`): a lognormal body (``median_ms``, shape ``sigma``, at least
  ``floor_ms``) plus, with probability ``stall_probability``, a stall drawn uniformly from
  ``stall_min_ms`` .. ``stall_max_ms`` (multi-second: a provider hanging on to a request).

:func:`sample_ms` draws one delay from a ``random.Random``; :class:`LatencyModel` gives request
``n`` of a provider its own generator seeded from the world seed, the provider and ``n``, so a
run repeats exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import msgspec

if TYPE_CHECKING:
    from ..world import World

__all__ = ["Distribution", "Fixed", "Heavy", "LatencyModel", "LatencyProfile", "Normal",
           "sample_ms"]


class Fixed(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind",
            tag="fixed"):
    """A constant delay of ``ms`` milliseconds."""

    ms: float

    def __post_init__(self) -> None:
        _check(self.ms >= 0, "fixed: ms must be >= 0")


class Normal(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind",
             tag="normal"):
    """Gaussian delay ``mean_ms`` +- ``sd_ms``, cut from below at ``floor_ms``."""

    mean_ms: float
    sd_ms: float
    floor_ms: float = 0.0

    def __post_init__(self) -> None:
        _check(self.mean_ms >= 0 and self.sd_ms >= 0 and self.floor_ms >= 0,
               "normal: mean_ms, sd_ms and floor_ms must be >= 0")


class Heavy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind",
            tag="heavy"):
    """Lognormal body (median ``median_ms``, shape ``sigma``) with rare stalls."""

    median_ms: float
    sigma: float
    stall_probability: float
    stall_min_ms: float = 2000.0
    stall_max_ms: float = 8000.0
    floor_ms: float = 0.0

    def __post_init__(self) -> None:
        _check(self.median_ms > 0 and self.sigma >= 0 and self.floor_ms >= 0,
               "heavy: median_ms must be > 0, sigma and floor_ms >= 0")
        _check(0 <= self.stall_probability <= 1, "heavy: stall_probability must be in [0, 1]")
        _check(0 <= self.stall_min_ms <= self.stall_max_ms,
               "heavy: need 0 <= stall_min_ms <= stall_max_ms")


Distribution = Fixed | Normal | Heavy


class LatencyProfile(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A named set of delay distributions: ``default`` and per-provider replacements."""

    default: Distribution
    providers: dict[str, Distribution] = msgspec.field(default_factory=dict)
    name: str = "inline"
    description: str = ""

    def for_provider(self, provider: str) -> Distribution:
        return self.providers.get(provider, self.default)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for reports and ``GET`` answers)."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def sample_ms(dist: Distribution, rng: random.Random) -> float:
    """One delay in milliseconds drawn from ``dist`` with ``rng``."""
    if isinstance(dist, Fixed):
        return dist.ms
    if isinstance(dist, Normal):
        return max(dist.floor_ms, rng.gauss(dist.mean_ms, dist.sd_ms))
    if rng.random() < dist.stall_probability:
        return rng.uniform(dist.stall_min_ms, dist.stall_max_ms)
    return max(dist.floor_ms, rng.lognormvariate(math.log(dist.median_ms), dist.sigma))


_LABEL: Final = "latency"


class LatencyModel:
    """The delays of one provider's requests: request ``n`` draws from its own seeded stream.

    ``delay_ms(n)`` is a pure function of (world seed, provider, n, profile).
    """

    def __init__(self, profile: LatencyProfile, world: World, provider: str) -> None:
        self.profile = profile
        self.distribution = profile.for_provider(provider)
        self._world = world
        self._provider = provider

    def delay_ms(self, n: int) -> float:
        dist = self.distribution
        if isinstance(dist, Fixed):
            return dist.ms
        return sample_ms(dist, self._world.rng(_LABEL, self._provider, n))


def profile_from_data(data: Mapping[str, Any], name: str = "inline") -> LatencyProfile:
    """Validate plain data (a TOML document or JSON object) into a :class:`LatencyProfile`."""
    doc = dict(data)
    doc.setdefault("name", name)
    try:
        return msgspec.convert(doc, LatencyProfile)
    except msgspec.ValidationError as exc:
        raise ValueError(f"latency profile {name!r}: {exc}") from None
