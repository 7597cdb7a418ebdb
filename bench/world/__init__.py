"""The seeded market world every provider emulator prices from.

``World(seed, frozen=False, clock=time.time)`` gives USD mid prices that drift deterministically
with time, withdrawal fees per (coin, network), and each provider's :class:`ProviderProfile`
(spread, fees, limits, reserves, listed assets), all derived from the seed.
"""

from .catalog import COINS, NETWORK_ASSETS, CoinSpec, NetworkAssetSpec, asset_id
from .market import World, WorldAsset
from .profiles import PROFILE_BUILDERS, FeeSchedule, ProviderProfile

__all__ = [
    "COINS",
    "NETWORK_ASSETS",
    "PROFILE_BUILDERS",
    "CoinSpec",
    "FeeSchedule",
    "NetworkAssetSpec",
    "ProviderProfile",
    "World",
    "WorldAsset",
    "asset_id",
]
