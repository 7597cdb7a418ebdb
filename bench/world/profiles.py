"""How each provider trades against the world: spreads, fees, limits, reserves and what it lists.

A :class:`ProviderProfile` is concrete data, built once per world from the world's seed by the
provider's builder in :data:`PROFILE_BUILDERS`, so the harness can compute the ground truth an
emulator answers from. Adding a provider means writing one builder and adding it to the table.

Spread model: a provider gives the mid cross rate minus its fee percent minus
``spread(size_usd) = min(spread_cap, spread_base + spread_slope * size_usd / depth_usd)``; so a quote
for ``depth_usd`` worth costs ``spread_slope`` more than a tiny one. Bulk feeds price a nominal size
(``spread_base`` only), firm quotes the real size.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .market import World

__all__ = ["PROFILE_BUILDERS", "FeeSchedule", "ProviderProfile", "build_fixedfloat"]

_EMPTY: Final[Mapping[str, Decimal]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """What a provider charges besides the spread.

    ``percent`` is keyed by product (FixedFloat: ``fixed`` / ``float`` rate types); ``fixed_usd`` is a
    flat fee per order; ``network_fee_markup`` multiplies the world's withdrawal fee the user pays.
    """

    percent: Mapping[str, Decimal]
    fixed_usd: Decimal = Decimal(0)
    network_fee_markup: Decimal = Decimal(1)

    def percent_for(self, product: str) -> Decimal:
        """The fee fraction for ``product`` (``KeyError`` if the provider has no such product)."""
        return self.percent[product]


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """One provider's trading terms in the world. Amounts in USD unless named otherwise.

    ``reserves`` maps a canonical asset id to what the provider holds, in that asset's units;
    ``recv_offline`` / ``send_offline`` are asset ids it currently will not accept / pay out.
    """

    name: str
    assets: tuple[str, ...]
    fees: FeeSchedule
    spread_base: Decimal
    spread_slope: Decimal
    depth_usd: Decimal
    spread_cap: Decimal
    min_usd: Decimal
    max_usd: Decimal
    reserves: Mapping[str, Decimal] = field(default_factory=lambda: _EMPTY)
    recv_offline: frozenset[str] = frozenset()
    send_offline: frozenset[str] = frozenset()

    def spread(self, size_usd: Decimal) -> Decimal:
        """Spread fraction for a trade worth ``size_usd`` (0 means nominal size)."""
        size = max(size_usd, Decimal(0))
        return min(self.spread_cap, self.spread_base + self.spread_slope * size / self.depth_usd)

    def supports(self, asset: str) -> bool:
        return asset in self.assets

    def can_receive(self, asset: str) -> bool:
        """Will the provider accept ``asset`` from a client right now?"""
        return asset in self.assets and asset not in self.recv_offline

    def can_send(self, asset: str) -> bool:
        """Will the provider pay ``asset`` out to a client right now?"""
        return asset in self.assets and asset not in self.send_offline

    def reserve(self, asset: str) -> Decimal:
        return self.reserves.get(asset, Decimal(0))


def _randdec(rng: random.Random, lo: int, hi: int, scale: int = 0) -> Decimal:
    """An integer drawn in [lo, hi] scaled by 10**-scale: seeded, exact, no float."""
    return Decimal(rng.randint(lo, hi)).scaleb(-scale)


_FF_MAJORS: Final = frozenset({"BTC", "ETH", "USDT@ERC20", "USDT@TRC20", "USDT@BSC", "USDC@ERC20",
                               "LTC", "SOL"})
_FF_OFFLINE_CANDIDATES: Final = ("XMR", "DOGE", "ADA", "TON", "USDC@POLYGON", "USDT@TON",
                                 "ETH@ARBITRUM")


def build_fixedfloat(world: World) -> ProviderProfile:
    """FixedFloat: every crypto asset of the world, no fiat; 1% fixed / 0.5% float service margin.

    Reserves are seeded in USD ($1M-4M for majors, $40k-400k otherwise) and converted to units at
    the seeded base price; one listed asset is not accepted and another not paid out.
    """
    rng = world.rng("profile", "fixedfloat")
    ids = tuple(a.id for a in world.assets if not a.fiat)
    reserves: dict[str, Decimal] = {}
    for aid in ids:
        usd = (_randdec(rng, 1_000, 4_000) if aid in _FF_MAJORS else _randdec(rng, 40, 400)) * 1000
        asset = world.asset(aid)
        q = Decimal(1).scaleb(-min(asset.decimals, 8))
        reserves[aid] = (usd / world.base_usd(asset.coin)).quantize(q, rounding=ROUND_DOWN)
    off_recv, off_send = rng.sample(_FF_OFFLINE_CANDIDATES, 2)
    return ProviderProfile(
        name="fixedfloat",
        assets=ids,
        fees=FeeSchedule(MappingProxyType({"fixed": Decimal("0.01"), "float": Decimal("0.005")})),
        spread_base=_randdec(rng, 5, 20, 4),
        spread_slope=Decimal("0.01"),
        depth_usd=Decimal(250_000),
        spread_cap=Decimal("0.05"),
        min_usd=_randdec(rng, 1200, 2500, 2),
        max_usd=_randdec(rng, 150, 350) * 1000,
        reserves=MappingProxyType(reserves),
        recv_offline=frozenset({off_recv}),
        send_offline=frozenset({off_send}),
    )


def _lazy(name: str) -> Callable[[World], ProviderProfile]:
    """The builder in ``bench.world.profile_<name>``, imported when first used (no import cycle)."""
    def build(world: World) -> ProviderProfile:
        module = importlib.import_module(f"bench.world.profile_{name}")
        builder: Callable[[World], ProviderProfile] = getattr(module, f"build_{name}")
        return builder(world)
    return build


PROFILE_BUILDERS: Final[Mapping[str, Callable[[World], ProviderProfile]]] = MappingProxyType({
    "fixedfloat": build_fixedfloat,
    **{name: _lazy(name) for name in ("gatepay", "flypay", "onebitpay", "fatpay")},
})
