"""1BitPay's trading terms in the world: a C2C OTC desk buying and selling USDT (TRC20) for fiat.

1BitPay quotes one ``buyRate`` and one ``sellRate`` per fiat (fiat per USDT), independent of the
amount: the user buys USDT at ``mid * (1 + markup)`` and sells at ``mid * (1 - markdown)``, where
``markup = percent["buy:<FIAT>"] + spread_base`` and ``markdown = percent["sell:<FIAT>"] +
spread_base``. So ``spread_slope`` is 0: a large order pays the same rate as a small one, which
makes 1BitPay cheap for small fiat ramps and beaten by fee-based on-ramps on large ones. The desk is
tightest on CNY (its home market) and wider on USD, EUR and RUB.

Limits are in fiat units (:data:`MIN_LEGAL`, about 100 CNY worth per order); no maximum is
documented, so ``max_usd`` is informational only.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from .profiles import FeeSchedule, ProviderProfile

if TYPE_CHECKING:
    from .market import World

__all__ = ["CRYPTO_ASSET", "FIATS", "MIN_LEGAL", "build_onebitpay"]

CRYPTO_ASSET: Final = "USDT@TRC20"
FIATS: Final[tuple[str, ...]] = ("CNY", "USD", "EUR", "RUB")

#: Minimum order volume per fiat, in whole fiat units (about 100 CNY worth, rounded).
MIN_LEGAL: Final[Mapping[str, Decimal]] = MappingProxyType({
    "CNY": Decimal(100), "USD": Decimal(15), "EUR": Decimal(14), "RUB": Decimal(1300),
})

# Seeded markup range per fiat, in basis points (both sides drawn independently).
_MARKUP_BP: Final[Mapping[str, tuple[int, int]]] = MappingProxyType({
    "CNY": (50, 120), "USD": (110, 220), "EUR": (120, 240), "RUB": (150, 320),
})


def build_onebitpay(world: World) -> ProviderProfile:
    """1BitPay: CNY, USD, EUR, RUB against USDT on TRC20; amount-independent two-sided rates."""
    rng = world.rng("profile", "onebitpay")
    percent: dict[str, Decimal] = {}
    for fiat in FIATS:
        lo, hi = _MARKUP_BP[fiat]
        percent[f"buy:{fiat}"] = Decimal(rng.randint(lo, hi)).scaleb(-4)
        percent[f"sell:{fiat}"] = Decimal(rng.randint(lo, hi)).scaleb(-4)
    spread_base = Decimal(rng.randint(5, 20)).scaleb(-4)
    min_usd = (MIN_LEGAL["CNY"] * world.base_usd("CNY")).quantize(Decimal("0.01"))
    return ProviderProfile(
        name="onebitpay",
        assets=(CRYPTO_ASSET, *FIATS),
        fees=FeeSchedule(MappingProxyType(percent), network_fee_markup=Decimal(0)),
        spread_base=spread_base,
        spread_slope=Decimal(0),
        depth_usd=Decimal(1),
        spread_cap=spread_base,
        min_usd=min_usd,
        max_usd=Decimal(200_000),
    )
