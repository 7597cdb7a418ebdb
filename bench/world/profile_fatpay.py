"""FaTPay's trading profile: a fiat -> crypto on-ramp (card and bank transfer).

FaTPay sells ten tokens (BTC, ETH, SOL, TRX, BNB on BSC, USDT on ERC20/TRC20/BSC, USDC on
ERC20/SOL) for six fiat currencies (USD, EUR, GBP, BRL, TRY, INR). Its price is the mid rate plus a
size-dependent spread; on top it charges a gas fee (the world's network fee with a markup, in fiat)
and a platform fee (a percent plus a fixed amount, in fiat): expensive for small tickets,
competitive for large ones.

Limits: ``min_usd`` is the smallest ticket of the cheapest payment option (card) and ``max_usd`` the
largest of the widest one (bank); the emulator derives each option's own limits from them
(:data:`PAYMENT_LIMIT_FACTORS`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from .profiles import FeeSchedule, ProviderProfile

if TYPE_CHECKING:
    from .market import World

__all__ = ["FATPAY_FIATS", "FATPAY_PRODUCT", "FATPAY_TOKENS", "PAYMENT_LIMIT_FACTORS",
           "build_fatpay"]

FATPAY_FIATS: Final = ("USD", "EUR", "GBP", "BRL", "TRY", "INR")
FATPAY_TOKENS: Final = ("USDT@ERC20", "USDT@TRC20", "USDT@BSC", "USDC@ERC20", "USDC@SOL", "BTC",
                        "ETH", "SOL", "TRX", "BNB")
FATPAY_PRODUCT: Final = "onramp"
# Per payment option: (min factor of min_usd, max factor of max_usd).
PAYMENT_LIMIT_FACTORS: Final[Mapping[str, tuple[Decimal, Decimal]]] = MappingProxyType({
    "card": (Decimal(1), Decimal("0.25")),
    "bank": (Decimal("2.5"), Decimal(1)),
})


def _randdec(rng: random.Random, lo: int, hi: int, scale: int = 0) -> Decimal:
    """An integer drawn in [lo, hi] scaled by 10**-scale: seeded, exact, no float."""
    return Decimal(rng.randint(lo, hi)).scaleb(-scale)


def build_fatpay(world: World) -> ProviderProfile:
    """FaTPay: the ten tokens and six fiats above, seeded fees, spread and limits.

    Platform fee 0.6-1.0 % plus $1.50-3.00; gas fee = network fee x 1.2-1.6; spread 0.10-0.30 %
    growing by 0.5 % per $50k (capped at 2 %); tickets from $15-30 (card) to $15k-30k (bank).
    """
    rng = world.rng("profile", "fatpay")
    return ProviderProfile(
        name="fatpay",
        assets=FATPAY_TOKENS + FATPAY_FIATS,
        fees=FeeSchedule(
            percent=MappingProxyType({FATPAY_PRODUCT: _randdec(rng, 60, 100, 4)}),
            fixed_usd=_randdec(rng, 150, 300, 2),
            network_fee_markup=_randdec(rng, 12, 16, 1)),
        spread_base=_randdec(rng, 10, 30, 4),
        spread_slope=Decimal("0.005"),
        depth_usd=Decimal(50_000),
        spread_cap=Decimal("0.02"),
        min_usd=_randdec(rng, 15, 30),
        max_usd=_randdec(rng, 15, 30) * 1000,
    )
