"""GatePay convert's trading terms in the world: conversions between coins in a Gate Pay account.

Gate Pay converts coin balances inside the account, so assets are plain coins without networks
(:data:`COINS`; canonical ids ``BTC``, ``USDT``, ``GT``...) and no network fee ever applies.

* Fee: 0.2 % (``fees.percent["convert"]``), folded into the quoted price like the spread.
* Spread: the profile's size-dependent spread on majors (steep: large conversions are dear) (:data:`MAJORS`); any pair with an alt pays
  :data:`ALT_SPREAD_FACTOR` times that (:func:`pair_spread`). So Gate Pay is tight on majors, dearer
  on alts.
* Pairs: a pair is offered when at least one side is a hub (:data:`HUBS`: USDT, USDC, BTC, ETH, GT);
  alt-to-alt conversions go through a hub (:func:`pair_supported`).
* Limits, per pair and static (from the seeded base prices, not the live walk): a high minimum
  ``min_usd`` (about $50), and a maximum ``min(max_usd, liquidity of either coin)``
  (:func:`pair_max_usd`), where ``reserves`` holds each coin's conversion liquidity in coin units:
  millions of dollars on majors, tens of thousands on alts (hence low maximums on alts).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from .profiles import FeeSchedule, ProviderProfile

if TYPE_CHECKING:
    from .market import World

__all__ = [
    "ALT_SPREAD_FACTOR",
    "COINS",
    "FEE_PRODUCT",
    "HUBS",
    "MAJORS",
    "build_gatepay",
    "pair_max_usd",
    "pair_spread",
    "pair_supported",
]

#: Coins Gate Pay converts, in the order its currency list shows them.
COINS: Final[tuple[str, ...]] = ("USDT", "GT", "ETH", "BTC", "LTC", "SOL", "DOGE", "USDC", "TRX",
                                 "XRP", "BNB", "TON", "ADA")
MAJORS: Final = frozenset({"BTC", "ETH", "USDT", "USDC"})
HUBS: Final = frozenset({"USDT", "USDC", "BTC", "ETH", "GT"})
ALT_SPREAD_FACTOR: Final = Decimal(8)
FEE_PRODUCT: Final = "convert"

_ZERO: Final = Decimal(0)


def build_gatepay(world: World) -> ProviderProfile:
    """Gate Pay convert: 13 coins, 0.2 % fee, tight majors spread, ~$50 minimum, low alt maximums.

    Seeded: base spread 3-8 bp, minimum $45-60, maximum $400k-600k, liquidity per coin ($2M-5M on
    majors, $30k-60k on GT, $8k-25k on other alts) converted to coin units at the base price.
    """
    rng = world.rng("profile", "gatepay")
    reserves: dict[str, Decimal] = {}
    for coin in COINS:
        if coin in MAJORS:
            usd = Decimal(rng.randint(2_000, 5_000)) * 1000
        elif coin == "GT":
            usd = Decimal(rng.randint(30, 60)) * 1000
        else:
            usd = Decimal(rng.randint(8, 25)) * 1000
        reserves[coin] = (usd / world.base_usd(coin)).quantize(Decimal("0.00000001"),
                                                               rounding=ROUND_DOWN)
    spread_base = Decimal(rng.randint(3, 8)).scaleb(-4)
    return ProviderProfile(
        name="gatepay",
        assets=COINS,
        fees=FeeSchedule(MappingProxyType({FEE_PRODUCT: Decimal("0.002")}),
                         network_fee_markup=_ZERO),
        spread_base=spread_base,
        spread_slope=Decimal("0.03"),
        depth_usd=Decimal(200_000),
        spread_cap=Decimal("0.03"),
        min_usd=Decimal(rng.randint(45, 60)),
        max_usd=Decimal(rng.randint(400, 600)) * 1000,
        reserves=MappingProxyType(reserves),
    )


def pair_supported(sell: str, buy: str) -> bool:
    """Does Gate Pay convert ``sell`` into ``buy`` directly (distinct coins, one of them a hub)?"""
    return (sell != buy and sell in COINS and buy in COINS
            and (sell in HUBS or buy in HUBS))


def pair_spread(profile: ProviderProfile, sell: str, buy: str, size_usd: Decimal) -> Decimal:
    """Spread fraction for converting ``size_usd`` worth of ``sell`` into ``buy``."""
    spread = profile.spread(size_usd)
    if sell in MAJORS and buy in MAJORS:
        return spread
    return min(spread * ALT_SPREAD_FACTOR, profile.spread_cap * ALT_SPREAD_FACTOR)


def pair_max_usd(profile: ProviderProfile, world: World, sell: str, buy: str) -> Decimal:
    """Largest conversion in USD: the profile maximum, capped by either coin's liquidity."""
    return min(profile.max_usd,
               profile.reserve(sell) * world.base_usd(sell),
               profile.reserve(buy) * world.base_usd(buy))
