"""Fault injection for the sandbox's emulators: profiles as data, one shared middleware.

A fault profile (:class:`FaultProfile`) gives each fault kind (:mod:`.kinds`) a probability per
request, optionally per provider, plus the faults' knobs (:class:`FaultParams`). Shipped profiles
are TOML files in :mod:`bench.faults.profiles`: ``none``, ``flaky``, ``slow``, ``liar``,
``storm``, ``skew``, ``expired``, ``chaos`` (:func:`fault_names`).

Each emulator builds one :class:`FaultInjector` with its provider's :class:`FaultHooks`, puts
``injector.middleware`` last in its middleware chain (after the latency middleware, sharing
``injector.sleeper``), calls :func:`install_faults` (``GET``/``POST /_sandbox/faults``) and adds
``injector.stats_extra()`` to its ``GET /_sandbox/stats`` answer and ``injector.reset()`` to
``POST /_sandbox/reset``.

:func:`resolve_faults` takes what a caller passes: None (off), a shipped name, plain data (an
inline profile) or a :class:`FaultProfile`; an unknown name is :class:`UnknownProfile` listing the
shipped ones, a malformed profile :class:`FaultProfileError` (both ValueErrors).
"""

from __future__ import annotations

from ..profiledata import UnknownProfile
from .catalog import fault_names, load_faults, resolve_faults
from .control import FAULTS_KEY, FAULTS_PATH, install_faults
from .injector import FaultHooks, FaultInjector
from .kinds import BODY_KINDS, KINDS, PROVIDER_KINDS
from .mutate import ABSURD_VALUES, garble, mutate
from .profile import FaultParams, FaultProfile, FaultProfileError, ProviderFaults

__all__ = [
    "ABSURD_VALUES",
    "BODY_KINDS",
    "FAULTS_KEY",
    "FAULTS_PATH",
    "KINDS",
    "PROVIDER_KINDS",
    "FaultHooks",
    "FaultInjector",
    "FaultParams",
    "FaultProfile",
    "FaultProfileError",
    "ProviderFaults",
    "UnknownProfile",
    "fault_names",
    "garble",
    "install_faults",
    "load_faults",
    "mutate",
    "resolve_faults",
]
