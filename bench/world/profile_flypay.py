"""FlyPay's trading terms in the world: a payment gateway that also exchanges between balances.

FlyPay charges a percent fee plus a small fixed fee per exchange and quotes a tight spread for small
tickets that widens fast with size (a shallow book): it beats FixedFloat on small and medium
amounts (lower minimum, lower fee, tighter base spread) and loses on large ones (steep
``spread_slope`` over a small ``depth_usd``, lower maximum).

``fees.percent`` keys (fractions): ``exchange`` for pairs between majors (BTC, ETH, USDT, USDC),
``exchange_alt`` when either side is another coin, ``payin`` for accepting a payment, ``payout`` for
paying one out. ``fees.fixed_usd`` is the fixed exchange fee; ``network_fee_markup`` scales the
world's withdrawal fee into the payout ``amount_fee``. ``max_usd`` is for pairs between majors;
pairs with an alt get a quarter of it (:data:`ALT_MAX_SHARE`).
"""

from __future__ import annotations

import random
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from .profiles import FeeSchedule, ProviderProfile

if TYPE_CHECKING:
    from .market import World

__all__ = ["ALT_MAX_SHARE", "FLYPAY_ASSETS", "FLYPAY_MAJORS", "build_flypay"]

#: Canonical ids of what FlyPay lists (crypto on its payways, plus RUB by card).
FLYPAY_ASSETS: Final[tuple[str, ...]] = (
    "BTC", "ETH", "LTC", "TRX", "DOGE", "XRP", "SOL", "TON", "BNB",
    "USDT@TRC20", "USDT@ERC20", "USDT@BSC", "USDC@ERC20", "USDC@BSC", "USDC@SOL", "RUB",
)
#: Coins FlyPay exchanges against every other coin (alt-to-alt pairs are not offered).
FLYPAY_MAJORS: Final = frozenset({"BTC", "ETH", "USDT", "USDC"})
ALT_MAX_SHARE: Final = Decimal("0.25")


def _randdec(rng: random.Random, lo: int, hi: int, scale: int = 0) -> Decimal:
    return Decimal(rng.randint(lo, hi)).scaleb(-scale)


def build_flypay(world: World) -> ProviderProfile:
    """FlyPay: 0.20-0.35% exchange fee (+0.05% on alts), $0.30-0.80 fixed fee, $4-8 minimum,
    $40k-80k maximum, 3-8 bp base spread growing 2% per $100k of size (capped at 4%)."""
    rng = world.rng("profile", "flypay")
    exchange = _randdec(rng, 20, 35, 4)
    return ProviderProfile(
        name="flypay",
        assets=FLYPAY_ASSETS,
        fees=FeeSchedule(
            MappingProxyType({
                "exchange": exchange,
                "exchange_alt": exchange + Decimal("0.0005"),
                "payin": _randdec(rng, 2, 5, 3),
                "payout": Decimal(0),
            }),
            fixed_usd=_randdec(rng, 30, 80, 2),
            network_fee_markup=_randdec(rng, 100, 150, 2),
        ),
        spread_base=_randdec(rng, 3, 8, 4),
        spread_slope=Decimal("0.02"),
        depth_usd=Decimal(100_000),
        spread_cap=Decimal("0.04"),
        min_usd=_randdec(rng, 400, 800, 2),
        max_usd=_randdec(rng, 40, 80) * 1000,
    )
