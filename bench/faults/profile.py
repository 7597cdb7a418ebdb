"""Fault profiles: per-kind probabilities (optionally per provider) and the knobs of each fault.

Data layout (a TOML file in :mod:`bench.faults.profiles`, or the same shape as a JSON object)::

    description = "..."
    [probabilities]          # kind -> probability per request, for every provider
    http_5xx = 0.05
    [params]                 # knobs, see FaultParams (all optional)
    stall_s = 10.0
    [providers.flypay.probabilities]   # merged key by key over the profile's own
    bad_signature = 0.05
    [providers.flypay.params]
    trickle_s = 1.0

Each request of a provider draws once: the kinds are walked in :data:`~.kinds.KINDS` order and
their probabilities stacked, so at most one fault hits a request and each kind hits at its own
rate; the probabilities of one provider must therefore add up to at most 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ..profiledata import PROVIDERS
from .kinds import KINDS

__all__ = ["FaultParams", "FaultProfile", "FaultProfileError", "ProviderFaults"]

_DEFAULT = "*"


class FaultProfileError(ValueError):
    """A malformed fault profile (unknown kind, provider or knob, bad probability...)."""


class FaultParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The knobs of the faults (seconds unless said otherwise).

    ``stall_s``: how long a ``stall`` holds the answer (default 10, beyond client deadlines).
    ``trickle_s``: how long a ``trickle`` takes to deliver the whole body;
    ``trickle_chunk``: bytes per write (bigger for big bodies: at most 256 writes).
    ``status_codes``: what ``http_5xx`` draws from (500 = the provider's own error shape,
    others an HTML proxy page). ``storm_s``: length of a ``rate_limit_storm``.
    ``block_s``: first ``blocked_key`` block, doubled at each later offence of the key.
    ``skew_s``: how far ``clock_skew`` moves the emulator's wall clock (negative: behind).
    """

    stall_s: float = 10.0
    trickle_s: float = 3.0
    trickle_chunk: int = 8
    status_codes: tuple[int, ...] = (500, 502, 503)
    storm_s: float = 5.0
    block_s: float = 60.0
    skew_s: float = 120.0

    def __post_init__(self) -> None:
        if self.stall_s < 0 or self.trickle_s < 0:
            raise ValueError("stall_s and trickle_s must be >= 0")
        if self.trickle_chunk < 1:
            raise ValueError("trickle_chunk must be >= 1")
        if not self.status_codes or any(not 500 <= c <= 599 for c in self.status_codes):
            raise ValueError("status_codes must be a non-empty list of 5xx statuses")
        if self.storm_s <= 0 or self.block_s <= 0:
            raise ValueError("storm_s and block_s must be > 0")


class _Override(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    probabilities: dict[str, float] = msgspec.field(default_factory=dict)
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class _Document(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str = "inline"
    description: str = ""
    probabilities: dict[str, float] = msgspec.field(default_factory=dict)
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    providers: dict[str, _Override] = msgspec.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderFaults:
    """One provider's effective faults: ``(kind, probability)`` in draw order (zeros left out)
    and the knobs."""

    probabilities: tuple[tuple[str, float], ...]
    params: FaultParams

    def as_dict(self) -> dict[str, Any]:
        return {"probabilities": dict(self.probabilities),
                "params": msgspec.to_builtins(self.params)}


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """A validated profile: ``name``, ``description``, the data it came from, and the effective
    faults of every provider (:meth:`for_provider`)."""

    name: str
    description: str
    data: Mapping[str, Any]
    _providers: Mapping[str, ProviderFaults]

    @classmethod
    def from_data(cls, data: Mapping[str, Any], name: str | None = None) -> FaultProfile:
        """Validate plain data; :class:`FaultProfileError` says what is wrong."""
        if not isinstance(data, Mapping):
            raise FaultProfileError("a fault profile must be an object")
        doc_data = dict(data)
        if name is not None:
            doc_data["name"] = name
        try:
            doc = msgspec.convert(doc_data, _Document)
        except msgspec.ValidationError as exc:
            raise FaultProfileError(f"fault profile: {exc}") from None
        label = doc.name
        unknown = set(doc.providers) - set(PROVIDERS)
        if unknown:
            raise FaultProfileError(f"fault profile {label!r}: unknown providers "
                                    f"{', '.join(sorted(unknown))} (allowed: "
                                    f"{', '.join(PROVIDERS)})")
        resolved = {_DEFAULT: _resolve(label, "every provider", doc.probabilities, doc.params)}
        for provider in PROVIDERS:
            over = doc.providers.get(provider, _Override())
            resolved[provider] = _resolve(label, provider, {**doc.probabilities,
                                                            **over.probabilities},
                                          {**doc.params, **over.params})
        return cls(label, doc.description, msgspec.to_builtins(doc), resolved)

    def for_provider(self, provider: str) -> ProviderFaults:
        """The faults ``provider`` injects (an unknown name gets the profile-wide ones)."""
        return self._providers.get(provider) or self._providers[_DEFAULT]

    @property
    def active(self) -> bool:
        """Does any provider inject anything?"""
        return any(p.probabilities for p in self._providers.values())


def _resolve(label: str, provider: str, probabilities: Mapping[str, float],
             params: Mapping[str, Any]) -> ProviderFaults:
    where = f"fault profile {label!r} ({provider})"
    unknown = set(probabilities) - set(KINDS)
    if unknown:
        raise FaultProfileError(f"{where}: unknown fault kinds {', '.join(sorted(unknown))} "
                                f"(allowed: {', '.join(KINDS)})")
    for kind, p in probabilities.items():
        if not 0.0 <= p <= 1.0:  # NaN fails too
            raise FaultProfileError(f"{where}: probability of {kind} must be within [0, 1]")
    total = sum(probabilities.values())
    if total > 1.0 + 1e-9:
        raise FaultProfileError(f"{where}: probabilities add up to {total:g}, more than 1")
    try:
        knobs = msgspec.convert(dict(params), FaultParams)
    except msgspec.ValidationError as exc:
        raise FaultProfileError(f"{where}: params: {exc}") from None
    ordered = tuple((k, float(probabilities[k])) for k in KINDS if probabilities.get(k, 0) > 0)
    return ProviderFaults(ordered, knobs)
