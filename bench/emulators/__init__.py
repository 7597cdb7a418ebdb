"""Provider emulators, one subpackage per provider, laid out like moto (model, app, feeds).

Each emulator is written from its provider's docs alone (never from ``adapters/``) and prices
from the shared seeded :class:`bench.world.World`. Shared parts live in :mod:`.common`.
"""

from .common import SlidingWindowLimiter, Stats, latency_middleware

__all__ = ["SlidingWindowLimiter", "Stats", "latency_middleware"]
