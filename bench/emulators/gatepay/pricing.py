"""Gate Pay convert pricing from the world: pair limits and firm previews (pure, no state).

For ``sell -> buy`` at world time ``t``:

* ``mid = cross(sell, buy, t)`` (units of ``buy`` per ``sell``); the effective rate is
  ``mid * (1 - fee - pair_spread(size_usd))`` with the 0.2 % fee and the size-dependent spread
  of :mod:`bench.world.profile_gatepay`; ``size_usd`` is the USD value of the amount the request
  names.
* A ``sellAmount`` request is cut down to the sell precision and gets ``buyAmount = sell * rate``
  rounded down; a ``buyAmount`` request is cut down to the buy precision and costs
  ``sellAmount = buy / rate`` rounded up. Precision: the coin's decimals, at most 8.
* ``price`` (and ``rate``) follow market convention, as both doc examples do (GT->USDT and
  USDT->GT both quote about 22 USDT per GT): units of the pair's *quote* coin per unit of its
  *base* coin, the quote coin being the one first in :data:`QUOTE_PRIORITY`. 10 significant
  digits. The order's ``rate`` is the same figure from the final amounts, 16 significant digits.
* Limits are static per seed: ``min_usd`` and :func:`pair_max_usd` over the seeded base prices,
  shown in both coins with 2 significant digits (minimum rounded up, maximum down).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
)
from typing import Final

from ...world import ProviderProfile, World
from ...world.profile_gatepay import (
    COINS,
    FEE_PRODUCT,
    pair_max_usd,
    pair_spread,
    pair_supported,
)

__all__ = ["QUOTE_PRIORITY", "PairLimits", "Preview", "Pricer", "fmt", "significant"]

_CTX: Final = Context(prec=34, rounding=ROUND_HALF_EVEN)
#: Which coin of a pair is the quote currency of its price: the one listed first.
QUOTE_PRIORITY: Final[tuple[str, ...]] = ("USDT", "USDC", "BTC", "ETH", "BNB", "SOL", "LTC", "GT",
                                          "TON", "XRP", "ADA", "DOGE", "TRX")
_PRICE_DIGITS: Final = 10
_RATE_DIGITS: Final = 16
_LIMIT_DIGITS: Final = 2
_ZERO: Final = Decimal(0)


def significant(d: Decimal, digits: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``d`` rounded to ``digits`` significant digits."""
    if d == 0:
        return _ZERO
    return d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=rounding,
                      context=_CTX)


def fmt(d: Decimal) -> str:
    """Plain decimal string, no exponent, no trailing zeros (``0.04466796``, ``1``, ``500000``)."""
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def _quantize(d: Decimal, places: int, rounding: str) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=_CTX)


@dataclass(frozen=True, slots=True)
class PairLimits:
    """One ``/v1/pay/convert/pair`` row's figures, in each side's own units."""

    sell_min: Decimal
    sell_max: Decimal
    buy_min: Decimal
    buy_max: Decimal


@dataclass(frozen=True, slots=True)
class Preview:
    """A priced preview. ``mid`` is the world's cross rate it was priced at (buy per sell)."""

    sell: str
    buy: str
    sell_amount: Decimal
    buy_amount: Decimal
    price: Decimal
    mid: Decimal


class Pricer:
    """Prices Gate Pay conversions from a world and Gate Pay's profile."""

    def __init__(self, world: World, profile: ProviderProfile) -> None:
        self.world = world
        self.profile = profile

    @staticmethod
    def currencies() -> tuple[str, ...]:
        return COINS

    @staticmethod
    def supported(sell: str, buy: str) -> bool:
        return pair_supported(sell, buy)

    def precision(self, coin: str) -> int:
        """Decimals Gate Pay shows for ``coin``: its own, at most 8 (6 for USDT, USDC, TRX...)."""
        return min(self.world.coins[coin].decimals, 8)

    def pairs(self, currency: str, side: str | None) -> list[tuple[str, str]]:
        """``(sell, buy)`` pairs where ``currency`` is sold (``side="sell"``), bought (``"buy"``),
        or either (``None``), in currency-list order."""
        out: list[tuple[str, str]] = []
        if side in (None, "sell"):
            out.extend((currency, c) for c in COINS if pair_supported(currency, c))
        if side in (None, "buy"):
            out.extend((c, currency) for c in COINS if pair_supported(c, currency))
        return out

    def limits(self, sell: str, buy: str) -> PairLimits:
        w, prof = self.world, self.profile
        lo_usd, hi_usd = prof.min_usd, pair_max_usd(prof, w, sell, buy)

        def side(coin: str) -> tuple[Decimal, Decimal]:
            p, base = self.precision(coin), w.base_usd(coin)
            lo = significant(_CTX.divide(lo_usd, base), _LIMIT_DIGITS, ROUND_CEILING)
            hi = significant(_CTX.divide(hi_usd, base), _LIMIT_DIGITS, ROUND_FLOOR)
            return _quantize(lo, p, ROUND_CEILING), _quantize(hi, p, ROUND_DOWN)

        (s_lo, s_hi), (b_lo, b_hi) = side(sell), side(buy)
        return PairLimits(s_lo, s_hi, b_lo, b_hi)

    def effective_rate(self, sell: str, buy: str, size_usd: Decimal, at: float) -> Decimal:
        """Units of ``buy`` per ``sell`` after the fee and the spread for ``size_usd``."""
        haircut = (self.profile.fees.percent_for(FEE_PRODUCT)
                   + pair_spread(self.profile, sell, buy, size_usd))
        return _CTX.multiply(self.world.cross(sell, buy, at), 1 - haircut)

    def cut(self, coin: str, amount: Decimal) -> Decimal:
        """``amount`` cut down to ``coin``'s precision."""
        return _quantize(amount, self.precision(coin), ROUND_DOWN)

    def preview(self, sell: str, buy: str, *, sell_amount: Decimal | None = None,
                buy_amount: Decimal | None = None, at: float) -> Preview:
        """Price a conversion naming exactly one of ``sell_amount`` / ``buy_amount`` (already cut
        to precision and positive)."""
        w = self.world
        mid = w.cross(sell, buy, at)
        if sell_amount is not None:
            rate = self.effective_rate(sell, buy, sell_amount * w.usd(sell, at), at)
            buy_amount = _quantize(sell_amount * rate, self.precision(buy), ROUND_DOWN)
        elif buy_amount is not None:
            rate = self.effective_rate(sell, buy, buy_amount * w.usd(buy, at), at)
            sell_amount = _quantize(_CTX.divide(buy_amount, rate), self.precision(sell),
                                    ROUND_CEILING)
        else:
            raise ValueError("one of sell_amount / buy_amount is required")
        price = self.market_price(sell, buy, rate, _PRICE_DIGITS)
        return Preview(sell, buy, sell_amount, buy_amount, price, mid)

    @staticmethod
    def market_price(sell: str, buy: str, buy_per_sell: Decimal, digits: int) -> Decimal:
        """``buy_per_sell`` in market convention (quote coin per base coin), ``digits`` digits."""
        if buy_per_sell <= 0:
            return _ZERO
        if QUOTE_PRIORITY.index(buy) < QUOTE_PRIORITY.index(sell):  # buy is the quote coin
            return significant(buy_per_sell, digits)
        return significant(_CTX.divide(1, buy_per_sell), digits)

    @classmethod
    def order_rate(cls, sell: str, buy: str, sell_amount: Decimal, buy_amount: Decimal) -> Decimal:
        """The order object's ``rate``: the final amounts' ratio in market convention."""
        if sell_amount <= 0:
            return _ZERO
        rate = cls.market_price(sell, buy, _CTX.divide(buy_amount, sell_amount), _RATE_DIGITS)
        return Decimal(fmt(rate))  # no trailing zeros: the JSON number reads 22.40142365527614
