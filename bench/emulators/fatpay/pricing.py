"""FaTPay pricing from the world: payment-option limits and firm on-ramp quotes.

For ``amount`` of fiat ``F`` buying token ``T`` at world time ``t``:

* ``unitPrice = cross(T, F, t) * (1 + spread(amount in USD))``, 8 significant digits, rounded up
  (the spread is the profile's size-dependent one: a large ticket pays a higher unit price);
* ``gasFee = network_fee(T) * markup * cross(T, F, t)`` and ``platformFee = amount * percent +
  fixed_usd / usd(F, t)``, each rounded up to the fiat precision (2); ``totalFee`` is their sum;
* ``cryptoCurrencyAmount = (amount - totalFee) / unitPrice`` rounded down to the token precision.

Limits per fiat and payment option are in fiat units: the profile's USD limits times the option's
factors (:data:`~bench.world.profile_fatpay.PAYMENT_LIMIT_FACTORS`) at the fiat's seeded base
price, rounded to two significant digits (minimum up, maximum down), so they do not drift.
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
from ...world.profile_fatpay import FATPAY_PRODUCT, PAYMENT_LIMIT_FACTORS
from .catalog import FIAT_PRECISION, PAYMENT_METHODS, FPToken
from .errors import ApiError

__all__ = ["OptionLimits", "PriceQuote", "Pricer", "quantize_down", "quantize_up"]

_CTX: Final = Context(prec=34, rounding=ROUND_HALF_EVEN)
_PRICE_DIGITS: Final = 8


def quantize_down(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=_CTX)


def quantize_up(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING, context=_CTX)


def _significant(d: Decimal, digits: int, rounding: str) -> Decimal:
    if d == 0:
        return Decimal(0)
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=rounding, context=_CTX)
    return Decimal(int(q)) if q == q.to_integral_value() else q


@dataclass(frozen=True, slots=True)
class OptionLimits:
    """A payment option's limits for one fiat, in that fiat's units."""

    name: str
    min: Decimal
    max: Decimal

    def accepts(self, amount: Decimal) -> bool:
        return self.min <= amount <= self.max


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A priced ``onramp/price`` request; ``options`` are the payment options that take it."""

    fiat: str
    amount: Decimal
    token: FPToken
    crypto_amount: Decimal
    unit_price: Decimal
    gas_fee: Decimal
    platform_fee: Decimal
    options: tuple[OptionLimits, ...]

    @property
    def total_fee(self) -> Decimal:
        return self.gas_fee + self.platform_fee


class Pricer:
    """Prices FaTPay requests from a world and FaTPay's profile (pure, no state but a cache)."""

    def __init__(self, world: World, profile: ProviderProfile) -> None:
        self.world = world
        self.profile = profile
        self._limits: dict[str, tuple[OptionLimits, ...]] = {}

    def limits(self, fiat: str) -> tuple[OptionLimits, ...]:
        """Every payment option of ``fiat`` with its limits (stable: priced at the base rate)."""
        hit = self._limits.get(fiat)
        if hit is None:
            base = self.world.base_usd(fiat)
            hit = self._limits[fiat] = tuple(
                OptionLimits(name,
                             _significant(_CTX.divide(self.profile.min_usd * lo, base), 2,
                                          ROUND_CEILING),
                             _significant(_CTX.divide(self.profile.max_usd * hi, base), 2,
                                          ROUND_FLOOR))
                for name, (lo, hi) in PAYMENT_LIMIT_FACTORS.items() if name in PAYMENT_METHODS)
        return hit

    def unit_price(self, token: FPToken, fiat: str, size_usd: Decimal, at: float) -> Decimal:
        """Fiat per token for a ticket worth ``size_usd``: mid plus spread, 8 digits, up."""
        mid = self.world.cross(token.asset, fiat, at)
        return _significant(_CTX.multiply(mid, 1 + self.profile.spread(size_usd)),
                            _PRICE_DIGITS, ROUND_CEILING)

    def gas_fee(self, token: FPToken, fiat: str, at: float) -> Decimal:
        fee = self.world.network_fee(token.asset) * self.profile.fees.network_fee_markup
        return quantize_up(_CTX.multiply(fee, self.world.cross(token.asset, fiat, at)),
                           FIAT_PRECISION)

    def platform_fee(self, amount: Decimal, fiat: str, at: float) -> Decimal:
        fees = self.profile.fees
        fixed = _CTX.divide(fees.fixed_usd, self.world.usd(fiat, at))
        return quantize_up(amount * fees.percent_for(FATPAY_PRODUCT) + fixed, FIAT_PRECISION)

    def select_options(self, fiat: str, amount: Decimal,
                       payment: str | None) -> tuple[OptionLimits, ...]:
        """The options that take ``amount`` (just ``payment`` if given), else a 10002 naming
        the limit broken."""
        options = self.limits(fiat)
        if payment is not None:
            chosen = [o for o in options if o.name == payment]
            if not chosen:
                raise ApiError.params(f"payment {payment} is not supported for {fiat}")
            options = tuple(chosen)
        fitting = tuple(o for o in options if o.accepts(amount))
        if fitting:
            return fitting
        lowest = min(options, key=lambda o: o.min)
        if amount < lowest.min:
            raise ApiError.params(f"currencyAmount is below the minimum: minAmount "
                                  f"{lowest.min} {fiat} ({lowest.name})")
        highest = max(options, key=lambda o: o.max)
        raise ApiError.params(f"currencyAmount is above the maximum: maxAmount "
                              f"{highest.max} {fiat} ({highest.name})")

    def quote(self, fiat: str, amount: Decimal, token: FPToken, at: float,
              payment: str | None = None) -> PriceQuote:
        """Price ``amount`` of ``fiat`` for ``token`` (raises :class:`ApiError` 10002)."""
        options = self.select_options(fiat, amount, payment)
        size_usd = amount * self.world.usd(fiat, at)
        price = self.unit_price(token, fiat, size_usd, at)
        gas = self.gas_fee(token, fiat, at)
        platform = self.platform_fee(amount, fiat, at)
        net = amount - gas - platform
        crypto = quantize_down(_CTX.divide(net, price), token.precision) if net > 0 else Decimal(0)
        if crypto <= 0:
            raise ApiError.params(f"currencyAmount does not cover the fees: totalFee "
                                  f"{gas + platform} {fiat}")
        return PriceQuote(fiat, amount, token, crypto, price, gas, platform, options)
