"""1BitPay rates from the world: ``buyRate`` / ``sellRate`` in fiat per USDT, amount-independent.

For fiat ``F`` at world time ``t`` the desk prices at the start of the current world minute
``m = floor(t / 60) * 60`` (rates are stable within a minute, then move with the world):

* ``mid = cross(USDT, F, m)`` -- fiat units for one USDT;
* ``buyRate = mid * (1 + percent["buy:F"] + spread_base)`` rounded **up** to the fiat's rate places
  (the user pays fiat and receives USDT);
* ``sellRate = mid * (1 - percent["sell:F"] - spread_base)`` rounded **down** (the user sends USDT
  and receives fiat); so ``buyRate > sellRate`` always.

Note: the doc's response example shows ``buyRate "6.47"`` below ``sellRate "6.9"``; bestrate
takes the user's point of view (buy = the user buys USDT, at the higher rate), which we follow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from types import MappingProxyType
from typing import Final

from ...world import ProviderProfile, World
from ...world.profile_onebitpay import CRYPTO_ASSET, FIATS, MIN_LEGAL

__all__ = ["RATE_PERIOD", "RATE_PLACES", "Rates", "RatePricer"]

RATE_PERIOD: Final = 60
#: Decimal places of the published rates per fiat (the doc's CNY example has two).
RATE_PLACES: Final[Mapping[str, int]] = MappingProxyType(
    {"CNY": 2, "USD": 4, "EUR": 4, "RUB": 2})
_CTX: Final = Context(prec=34, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Rates:
    """One fiat's published rates (fiat per USDT) and the minute they were set at."""

    fiat: str
    buy: Decimal
    sell: Decimal
    at: int

    def for_order(self, order_type: int) -> Decimal:
        """The rate an order uses: 1 = buy (user buys USDT), 2 = sell (user sells USDT)."""
        return self.buy if order_type == 1 else self.sell


class RatePricer:
    """Prices 1BitPay's OTC desk from a world and 1BitPay's profile (pure, no state)."""

    def __init__(self, world: World, profile: ProviderProfile) -> None:
        self.world = world
        self.profile = profile
        self.fiats: tuple[str, ...] = tuple(f for f in FIATS if profile.supports(f))

    def rates(self, fiat: str, at: float | None = None) -> Rates:
        """The rates for ``fiat`` as of the start of the world minute containing ``at`` (now)."""
        now = self.world.now() if at is None else at
        minute = math.floor(now / RATE_PERIOD) * RATE_PERIOD
        mid = self.world.cross(CRYPTO_ASSET, fiat, minute)
        spread = self.profile.spread(Decimal(0))
        fees = self.profile.fees
        q = Decimal(1).scaleb(-RATE_PLACES[fiat])
        buy = _CTX.multiply(mid, 1 + fees.percent_for(f"buy:{fiat}") + spread)
        sell = _CTX.multiply(mid, 1 - fees.percent_for(f"sell:{fiat}") - spread)
        return Rates(fiat, buy.quantize(q, rounding=ROUND_CEILING, context=_CTX),
                     sell.quantize(q, rounding=ROUND_DOWN, context=_CTX), minute)

    @staticmethod
    def min_legal(fiat: str) -> Decimal:
        """Minimum order volume in whole ``fiat`` units."""
        return MIN_LEGAL[fiat]
