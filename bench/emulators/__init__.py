"""Provider emulators, one subpackage per provider, laid out like moto (model, app, feeds).

Each emulator is written from its provider's docs alone (never from ``adapters/``) and prices
from the shared seeded :class:`bench.world.World`. Shared parts live in :mod:`.common` (the one
copy of the ``/_sandbox/*`` control routes, counting, the window limiter); where a provider's doc
allows two readings, the emulator's ``variants.py`` offers each as a variant (:mod:`.variants`).
"""

from .common import SlidingWindowLimiter, Stats, build_app, latency_middleware
from .variants import Variant, VariantChoice

__all__ = ["SlidingWindowLimiter", "Stats", "Variant", "VariantChoice", "build_app",
           "latency_middleware"]
