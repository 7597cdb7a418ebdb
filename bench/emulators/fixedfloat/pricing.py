"""FixedFloat pricing from the world: firm quotes for ``/api/v2/price`` and nominal feed rates.

For a pair ``src -> dst`` at world time ``t``:

* ``rate = cross(src, dst, t) * (1 - margin[type] - spread(size_usd))``, cut to 8 significant
  digits (down). ``margin`` is the service percent (1% fixed, 0.5% float); ``spread`` is the
  profile's size-dependent spread, ``size_usd`` the USD value of the requested amount (in the
  currency it is given in). The bulk feed uses ``size_usd = 0``: the nominal rate.
* The rate does **not** include the network fee: ``to.amount = from.amount * rate - fee(dst)``,
  rounded down to the ``to`` precision, as in the doc's example (its ``to.amount`` is ``from.amount
  * rate`` less about 0.0000253 BTC). Direction ``to`` inverts this and rounds the ``from`` amount up.
* Limits, in ``from`` units: ``min = (profile.min_usd + 2 * fee(dst) in USD) / usd(src)`` rounded up,
  ``max = min(profile.max_usd, 90% of the dst reserve in USD) / usd(src)`` rounded down.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

from ...world import ProviderProfile, World
from .currencies import FFCurrency

__all__ = ["Pricer", "Quote", "QuoteSide", "quantize_down", "quantize_up"]

_CTX: Final = Context(prec=34, rounding=ROUND_HALF_EVEN)
_RESERVE_SHARE: Final = Decimal("0.9")
_RATE_DIGITS: Final = 8
_ZERO: Final = Decimal(0)


def quantize_down(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=_CTX)


def quantize_up(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING, context=_CTX)


def _significant(d: Decimal, digits: int, rounding: str) -> Decimal:
    if d == 0:
        return _ZERO
    return d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=rounding,
                      context=_CTX)


@dataclass(frozen=True, slots=True)
class QuoteSide:
    """One side of a price answer, in that side's currency units."""

    ccy: FFCurrency
    precision: int
    amount: Decimal
    rate: Decimal
    min: Decimal
    max: Decimal
    usd: Decimal
    btc: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced request: both sides and the out-of-range/availability errors (maybe empty)."""

    src: QuoteSide
    dst: QuoteSide
    errors: tuple[str, ...]
    fee: Decimal


class Pricer:
    """Prices FixedFloat requests from a world and FixedFloat's profile (pure, no state)."""

    def __init__(self, world: World, profile: ProviderProfile) -> None:
        self.world = world
        self.profile = profile

    def precision(self, ccy: FFCurrency) -> int:
        """FixedFloat shows at most 8 decimals (6 for 6-decimal coins such as USDT, XRP, TRX)."""
        return min(self.world.asset(ccy.asset).decimals, 8)

    def fee(self, ccy: FFCurrency) -> Decimal:
        """Network fee charged when paying ``ccy`` out, in its units."""
        return self.world.network_fee(ccy.asset) * self.profile.fees.network_fee_markup

    def rate(self, src: FFCurrency, dst: FFCurrency, rate_type: str, size_usd: Decimal,
             at: float) -> Decimal:
        """Units of ``dst`` per ``src`` (before the network fee), 8 significant digits, down."""
        haircut = self.profile.fees.percent_for(rate_type) + self.profile.spread(size_usd)
        raw = _CTX.multiply(self.world.cross(src.asset, dst.asset, at), 1 - haircut)
        return _significant(raw, _RATE_DIGITS, ROUND_DOWN)

    def nominal_rate(self, src: FFCurrency, dst: FFCurrency, rate_type: str, at: float,
                     places: int = 12) -> Decimal:
        """Feed rate: nominal size (base spread only), ``places`` decimals, down."""
        haircut = self.profile.fees.percent_for(rate_type) + self.profile.spread(_ZERO)
        raw = _CTX.multiply(self.world.cross(src.asset, dst.asset, at), 1 - haircut)
        return quantize_down(raw, places)

    def limits(self, src: FFCurrency, dst: FFCurrency, at: float) -> tuple[Decimal, Decimal]:
        """(min, max) amount of ``src`` a client may send for ``dst``."""
        usd_src = self.world.usd(src.asset, at)
        usd_dst = self.world.usd(dst.asset, at)
        p = self.precision(src)
        lo_usd = self.profile.min_usd + 2 * self.fee(dst) * usd_dst
        hi_usd = min(self.profile.max_usd,
                     self.profile.reserve(dst.asset) * usd_dst * _RESERVE_SHARE)
        return (quantize_up(_CTX.divide(lo_usd, usd_src), p),
                quantize_down(_CTX.divide(max(hi_usd, _ZERO), usd_src), p))

    def quote(self, src: FFCurrency, dst: FFCurrency, rate_type: str, direction: str,
              amount: Decimal, at: float, *, maintenance: frozenset[str] = frozenset()) -> Quote:
        """Price ``amount`` (of ``src`` if direction is ``from``, of ``dst`` if ``to``)."""
        w = self.world
        usd_src, usd_dst = w.usd(src.asset, at), w.usd(dst.asset, at)
        p_src, p_dst = self.precision(src), self.precision(dst)
        fee = self.fee(dst)
        if direction == "from":
            src_amount = quantize_down(amount, p_src)
            rate = self.rate(src, dst, rate_type, src_amount * usd_src, at)
            dst_amount = max(quantize_down(src_amount * rate - fee, p_dst), _ZERO)
        else:
            dst_amount = quantize_down(amount, p_dst)
            rate = self.rate(src, dst, rate_type, dst_amount * usd_dst, at)
            src_amount = quantize_up(_CTX.divide(dst_amount + fee, rate), p_src)
        lo, hi = self.limits(src, dst, at)
        dst_lo = self._receive(src, dst, rate_type, lo, at)
        dst_hi = self._receive(src, dst, rate_type, hi, at)
        errors = self._errors(src, dst, src_amount, dst_amount, lo, hi, maintenance)
        inverse = _significant(_CTX.divide(1, rate), _RATE_DIGITS, ROUND_HALF_EVEN)
        usd_btc = w.usd("BTC", at)
        side_src = QuoteSide(src, p_src, src_amount, rate, lo, hi,
                             quantize_down(src_amount * usd_src, 2),
                             quantize_down(_CTX.divide(src_amount * usd_src, usd_btc), 8))
        side_dst = QuoteSide(dst, p_dst, dst_amount, inverse, dst_lo, dst_hi,
                             quantize_down(dst_amount * usd_dst, 2))
        return Quote(side_src, side_dst, errors, fee)

    def _receive(self, src: FFCurrency, dst: FFCurrency, rate_type: str, src_amount: Decimal,
                 at: float) -> Decimal:
        usd = src_amount * self.world.usd(src.asset, at)
        rate = self.rate(src, dst, rate_type, usd, at)
        return max(quantize_down(src_amount * rate - self.fee(dst), self.precision(dst)), _ZERO)

    def _errors(self, src: FFCurrency, dst: FFCurrency, src_amount: Decimal, dst_amount: Decimal,
                lo: Decimal, hi: Decimal, maintenance: frozenset[str]) -> tuple[str, ...]:
        prof = self.profile
        errors: list[str] = []
        if src.code in maintenance:
            errors.append("MAINTENANCE_FROM")
        if dst.code in maintenance:
            errors.append("MAINTENANCE_TO")
        if not prof.can_receive(src.asset):
            errors.append("OFFLINE_FROM")
        if not prof.can_send(dst.asset):
            errors.append("OFFLINE_TO")
        if src_amount < lo or dst_amount <= 0:
            errors.append("LIMIT_MIN")
        if src_amount > hi:
            errors.append("LIMIT_MAX")
        if dst_amount > prof.reserve(dst.asset):
            errors.append("RESERVE_TO")
        return tuple(errors)
