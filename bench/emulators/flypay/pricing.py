"""FlyPay pricing from the world: exchange terms, firm estimates, payin/payout terms.

Exchange of ``amount`` of ``from`` (the request's amount, cut to ``from``'s precision) at world
time t:

* ``fee = amount * percent_fee / 100 + amount_fee`` in ``from`` units (``currency_fee`` is always
  ``currency_from``), rounded up to ``from``'s precision;
* ``rate = cross(from, to, t) * (1 - spread(size_usd))``, 8 significant digits, rounded down, where
  ``size_usd`` is the USD value of ``amount`` (the profile's size-dependent spread);
* ``amount_to = (amount - fee) * rate``, rounded down to ``to``'s precision.

``payways`` publishes per pair the nominal ``exchange_rate``: the same formula at size 0, priced at
the start of the current world minute (a snapshot refreshed each minute), so it differs from a firm
estimate by the drift since then and by the size spread. Fees and limits are fixed figures derived
from the seeded base prices (they do not drift); limits are in ``from`` units, two significant
digits (min rounded up, max down). Pairs: every two crypto currencies of which at least one is a
major (btc, eth, usdt, usdc); no alt-to-alt pairs, nothing with fiat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

from ...world import ProviderProfile, World
from ...world.profile_flypay import ALT_MAX_SHARE, FLYPAY_MAJORS
from .currencies import CURRENCIES, FPCurrency, FPPayway
from .params import UNPROCESSABLE, ApiError

__all__ = ["Estimate", "PairTerms", "Pricer", "WayTerms", "down", "plain", "up"]

_CTX: Final = Context(prec=34, rounding=ROUND_HALF_EVEN)
_RATE_DIGITS: Final = 8
_NICE_DIGITS: Final = 2
_HUNDRED: Final = Decimal(100)
_ZERO: Final = Decimal(0)
# Fiat (card) terms are the gateway's own, not derived from a network fee.
_FIAT_PAYIN_PERCENT: Final = Decimal("2.5")
_FIAT_PAYOUT_PERCENT: Final = Decimal("2")
_FIAT_PAYOUT_FEE_USD: Final = Decimal("0.5")


def down(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=_CTX)


def up(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING, context=_CTX)


def _sig(d: Decimal, digits: int, rounding: str, places: int = 34) -> Decimal:
    """``d`` cut to ``digits`` significant digits (never finer than ``places`` decimals)."""
    if d == 0:
        return _ZERO
    exp = max(d.adjusted() - digits + 1, -places)
    return d.quantize(Decimal(1).scaleb(exp), rounding=rounding, context=_CTX)


def plain(d: Decimal) -> Decimal:
    """``d`` without trailing zeros, integers kept integral (so JSON shows ``15000``, ``0.5``)."""
    if d == d.to_integral_value():
        return d.quantize(Decimal(1), context=_CTX)
    return d.normalize(_CTX)


@dataclass(frozen=True, slots=True)
class WayTerms:
    """Fees and limits of one payin or payout payway, in the currency's units."""

    min_amount: Decimal
    max_amount: Decimal
    percent_fee: Decimal  # percent, e.g. 0.3 = 0.3 %
    amount_fee: Decimal
    append_fee: bool

    def fee(self, amount: Decimal, places: int) -> Decimal:
        return up(amount * self.percent_fee / _HUNDRED + self.amount_fee, places)


@dataclass(frozen=True, slots=True)
class PairTerms:
    """One entry of the ``exchange`` section, minus its (time-dependent) rate."""

    src: FPCurrency
    dst: FPCurrency
    min_amount: Decimal
    max_amount: Decimal
    percent_fee: Decimal  # percent
    amount_fee: Decimal  # in src units

    @property
    def key(self) -> str:
        return f"{self.src.code}_{self.dst.code}"

    def fee(self, amount: Decimal) -> Decimal:
        return up(amount * self.percent_fee / _HUNDRED + self.amount_fee, self.src.precision)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A priced exchange: what goes in, what comes out, the fee (in ``src``) and the rate used."""

    pair: PairTerms
    amount_from: Decimal
    amount_to: Decimal
    fee: Decimal
    rate: Decimal


class Pricer:
    """Prices FlyPay operations from a world and FlyPay's profile (pure: no state but caches)."""

    def __init__(self, world: World, profile: ProviderProfile) -> None:
        self.world = world
        self.profile = profile
        self.currencies: Mapping[str, FPCurrency] = {
            c.code: c for c in CURRENCIES.values()
            if any(profile.supports(p.asset) for p in c.payways)}
        self.pairs: Mapping[str, PairTerms] = {
            t.key: t for t in (self._pair(a, b) for a in self.currencies.values()
                               for b in self.currencies.values() if self._offered(a, b))}

    # --- exchange -------------------------------------------------------------------------------
    def rate(self, pair: PairTerms, size_usd: Decimal, at: float) -> Decimal:
        """Units of ``dst`` per ``src`` for a trade worth ``size_usd`` at world time ``at``."""
        mid = self.world.cross(pair.src.coin, pair.dst.coin, at)
        return _sig(_CTX.multiply(mid, 1 - self.profile.spread(size_usd)), _RATE_DIGITS,
                    ROUND_DOWN)

    def estimate(self, src: str, dst: str, amount: Decimal, at: float) -> Estimate:
        """The firm exchange of ``amount`` of ``src``; ``ApiError`` (422) if not possible."""
        pair = self.pair(src, dst)
        amount_from = down(amount, pair.src.precision)
        if amount_from < pair.min_amount:
            raise ApiError(UNPROCESSABLE, f"The amount must be at least {plain(pair.min_amount)} "
                                          f"{pair.src.code}.")
        if amount_from > pair.max_amount:
            raise ApiError(UNPROCESSABLE, f"The amount may not be greater than "
                                          f"{plain(pair.max_amount)} {pair.src.code}.")
        rate = self.rate(pair, amount_from * self.world.usd(pair.src.coin, at), at)
        fee = pair.fee(amount_from)
        amount_to = max(down((amount_from - fee) * rate, pair.dst.precision), _ZERO)
        return Estimate(pair, amount_from, amount_to, fee, rate)

    def pair(self, src: str, dst: str) -> PairTerms:
        """The terms of ``src_dst``; ``ApiError`` (422) for unknown currencies or pairs."""
        for name, code in (("currency_from", src), ("currency_to", dst)):
            if code not in self.currencies:
                raise ApiError(UNPROCESSABLE, f"The selected {name} is invalid.")
        pair = self.pairs.get(f"{src}_{dst}")
        if pair is None:
            raise ApiError(UNPROCESSABLE, f"Exchange {src}_{dst} is not available.")
        return pair

    # --- payin / payout -------------------------------------------------------------------------
    def payin_terms(self, ccy: FPCurrency, way: FPPayway) -> WayTerms:
        base = self.world.base_usd(ccy.coin)
        if not ccy.is_crypto:
            return WayTerms(self._nice_up(10 / base, ccy), self._nice_down(3000 / base, ccy),
                            _FIAT_PAYIN_PERCENT, _ZERO, False)
        prof = self.profile
        return WayTerms(self._nice_up(prof.min_usd / 2 / base, ccy),
                        self._nice_down(prof.max_usd * 2 / base, ccy),
                        plain(prof.fees.percent_for("payin") * _HUNDRED), _ZERO, False)

    def payout_terms(self, ccy: FPCurrency, way: FPPayway) -> WayTerms:
        base = self.world.base_usd(ccy.coin)
        if not ccy.is_crypto:
            return WayTerms(self._nice_up(10 / base, ccy), self._nice_down(3000 / base, ccy),
                            _FIAT_PAYOUT_PERCENT, self._nice_up(_FIAT_PAYOUT_FEE_USD / base, ccy),
                            True)
        prof = self.profile
        fee = self._nice_up(self.world.network_fee(way.asset) * prof.fees.network_fee_markup, ccy)
        lo = self._nice_up(max(prof.min_usd / base, 2 * fee), ccy)
        return WayTerms(lo, self._nice_down(prof.max_usd / base, ccy),
                        plain(prof.fees.percent_for("payout") * _HUNDRED), fee, True)

    def payout_fee(self, ccy: FPCurrency, way: FPPayway, amount: Decimal) -> Decimal:
        return self.payout_terms(ccy, way).fee(amount, ccy.precision)

    def targets(self, src: str) -> list[str]:
        """Currencies ``src`` can be exchanged into (``auto_conversation``)."""
        return [p.dst.code for p in self.pairs.values() if p.src.code == src]

    # --- internals ------------------------------------------------------------------------------
    @staticmethod
    def _offered(a: FPCurrency, b: FPCurrency) -> bool:
        return (a.code != b.code and a.is_crypto and b.is_crypto
                and (a.coin in FLYPAY_MAJORS or b.coin in FLYPAY_MAJORS))

    def _pair(self, src: FPCurrency, dst: FPCurrency) -> PairTerms:
        prof, base = self.profile, self.world.base_usd(src.coin)
        majors = src.coin in FLYPAY_MAJORS and dst.coin in FLYPAY_MAJORS
        percent = prof.fees.percent_for("exchange" if majors else "exchange_alt") * _HUNDRED
        share = Decimal(1) if majors else ALT_MAX_SHARE
        return PairTerms(src, dst, self._nice_up(prof.min_usd / base, src),
                         self._nice_down(prof.max_usd * share / base, src), plain(percent),
                         self._nice_up(prof.fees.fixed_usd / base, src))

    @staticmethod
    def _nice_up(d: Decimal, ccy: FPCurrency) -> Decimal:
        q = Decimal(1).scaleb(-ccy.precision)
        return plain(max(_sig(d, _NICE_DIGITS, ROUND_CEILING, ccy.precision), q))

    @staticmethod
    def _nice_down(d: Decimal, ccy: FPCurrency) -> Decimal:
        return plain(_sig(d, _NICE_DIGITS, ROUND_DOWN, ccy.precision))
