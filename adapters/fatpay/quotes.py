"""Pure pricing: ``onramp/price`` answers → :class:`router.model.Quote`, and the buy-side planner.

No I/O, no clock: the source passes times in. Arithmetic runs in a 40-digit context.

**Buy side.** FaTPay only quotes a fiat amount in. To buy ``X`` of a coin the source asks for a fiat
amount planned from what earlier answers showed (:class:`Observation`): the effective unit price
``U = (fiat - gasFee - platformFee) / crypto`` of the newest answer, its gas fee ``G``, and a
platform fee ``p * fiat + f``. With two answers at amounts far enough apart ``p`` and ``f`` are
solved for; with one, the fee is taken as all percent (``f = 0``). The fiat amount is then
``(X * (1 + guard) * U + G + f) / (1 - p)``, rounded up.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, Context, Decimal
from typing import Final, NamedTuple

from router.errors import MalformedResponse
from router.model import Fee, FeeKind, Market, Quote

from .wire import PriceData, widest_range

__all__ = [
    "FeeBook",
    "FeeFit",
    "Observation",
    "ceil_to",
    "check_price",
    "clamp",
    "fee_fit",
    "fee_model_known",
    "firm_quote",
    "plan_fiat",
    "probe",
    "quantize",
]

Bounds = tuple[Decimal | None, Decimal | None]

_CTX: Final = Context(prec=40)
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
#: The coin bought may be worth a little more than the fiat paid (rounding, a moving price), not
#: more than this share.
_VALUE_SLACK: Final = Decimal("0.02")
#: ``totalFee`` may differ from ``gasFee + platformFee`` by this share (plus two fiat quanta).
_TOTAL_SLACK: Final = Decimal("0.005")
#: A platform fee above this share of the amount is not believed when planning.
_MAX_FEE_SHARE: Final = Decimal("0.5")
#: Two answers closer than this share of the amount are too close to solve a fee model from.
_MIN_SPREAD: Final = Decimal("0.01")
#: The first fiat amount when nothing is known about the limits.
_DEFAULT_PROBE: Final = Decimal(100)


def quantize(value: Decimal, places: int, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` to ``places`` decimals (down by default)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=_CTX)


class Observation(NamedTuple):
    """What one ``price`` answer showed: ``fiat`` paid, ``crypto`` received, fees in fiat, and
    when (unix seconds; ``None`` if unknown)."""

    fiat: Decimal
    crypto: Decimal
    gas: Decimal
    platform: Decimal
    at: float | None = None

    @classmethod
    def of(cls, data: PriceData, at: float | None = None) -> Observation:
        return cls(data.currencyAmount, data.cryptoCurrencyAmount, data.gasFee, data.platformFee,
                   at)

    @property
    def unit(self) -> Decimal:
        """Fiat per coin, net of fees (the gross price if fees ate everything)."""
        net = _CTX.subtract(_CTX.subtract(self.fiat, self.gas), self.platform)
        return _CTX.divide(net if net > 0 else self.fiat, self.crypto)


def _fee_slope(points: Sequence[Observation]) -> Decimal | None:
    """The platform fee's percent part from the two answers furthest apart in amount, if they
    are far enough apart to tell."""
    if len(points) < 2:
        return None
    low = min(points, key=lambda o: o.fiat)
    high = max(points, key=lambda o: o.fiat)
    if high.fiat - low.fiat <= _CTX.multiply(high.fiat, _MIN_SPREAD):
        return None
    return _CTX.divide(high.platform - low.platform, high.fiat - low.fiat)


def fee_model_known(points: Sequence[Observation]) -> bool:
    """Do ``points`` tell the platform fee's percent and fixed parts apart?"""
    return _fee_slope(points) is not None


def plan_fiat(target: Decimal, latest: Observation, earlier: Sequence[Observation] = (),
              *, guard: Decimal = Decimal("0.0005")) -> Decimal:
    """The fiat amount expected to buy ``target`` coins (see the module docstring).

    ``latest`` gives the unit price and the gas fee; the platform fee's percent part ``p`` comes
    from the answers (``latest`` and ``earlier``) furthest apart in amount. With no such pair the
    whole fee at ``latest`` is taken as a percentage: a safe (generous) assumption when more fiat
    than ``latest.fiat`` is needed, and an optimistic one when less is, which the caller checks.
    """
    need = _CTX.add(_CTX.multiply(_CTX.multiply(target, _ONE + guard), latest.unit), latest.gas)
    fit = fee_fit((*earlier, latest))
    if fit is None:
        share = min(_CTX.divide(latest.platform, latest.fiat), _MAX_FEE_SHARE)
        return _CTX.divide(need, _ONE - share)
    return _CTX.divide(_CTX.add(need, fit.fixed), _ONE - fit.percent)


class FeeFit(NamedTuple):
    """The platform fee ``percent * fiat + fixed`` solved from answers, and the newest answer."""

    percent: Decimal
    fixed: Decimal
    latest: Observation


def fee_fit(points: Sequence[Observation]) -> FeeFit | None:
    """The platform fee's parts from ``points`` (oldest first), when two of them are far enough
    apart in amount to tell; the percent is kept within ``[0, the newest answer's fee share]``
    so the fixed part is never negative."""
    slope = _fee_slope(points)
    if slope is None:
        return None
    latest = points[-1]
    share = min(_CTX.divide(latest.platform, latest.fiat), _MAX_FEE_SHARE)
    p = min(max(slope, _ZERO), share)
    return FeeFit(p, _CTX.subtract(latest.platform, _CTX.multiply(p, latest.fiat)), latest)


def _finite(value: Decimal, name: str, provider: str, *, positive: bool) -> None:
    bad = not value.is_finite() or (value <= 0 if positive else value < 0)
    if bad:
        raise MalformedResponse(provider, f"price: {name} is {value}")


def check_price(provider: str, fiat: str, code: str, asked: Decimal, places: int,
                data: PriceData) -> None:
    """Raise :class:`MalformedResponse` for an answer that cannot be right for what we asked."""
    if data.fiatCurrency.upper() != fiat.upper():
        raise MalformedResponse(provider, f"price: fiatCurrency {data.fiatCurrency[:8]!r} is "
                                f"not {fiat!r}")
    if data.cryptoCurrencyCode.upper() != code.upper():
        raise MalformedResponse(provider, f"price: cryptoCurrencyCode "
                                f"{data.cryptoCurrencyCode[:16]!r} is not {code!r}")
    _finite(data.currencyAmount, "currencyAmount", provider, positive=True)
    _finite(data.cryptoCurrencyAmount, "cryptoCurrencyAmount", provider, positive=True)
    _finite(data.gasFee, "gasFee", provider, positive=False)
    _finite(data.platformFee, "platformFee", provider, positive=False)
    if data.totalFee is not None:
        _finite(data.totalFee, "totalFee", provider, positive=False)
    if data.cryptoCurrencyUnitPrice is not None:
        _finite(data.cryptoCurrencyUnitPrice, "cryptoCurrencyUnitPrice", provider, positive=True)
    quantum = Decimal(1).scaleb(-places)
    if abs(data.currencyAmount - asked) > quantum:
        raise MalformedResponse(provider, f"price: quoted {data.currencyAmount} where {asked} "
                                "was asked")
    fees = _CTX.add(data.gasFee, data.platformFee)
    if fees >= data.currencyAmount:
        raise MalformedResponse(provider, f"price: fees {fees} take all of "
                                f"{data.currencyAmount}")
    if data.totalFee is not None:
        slack = _CTX.add(_CTX.multiply(fees, _TOTAL_SLACK), 2 * quantum)
        if abs(data.totalFee - fees) > slack:
            raise MalformedResponse(provider, f"price: totalFee {data.totalFee} is not gasFee + "
                                    f"platformFee = {fees}")
    unit = data.cryptoCurrencyUnitPrice
    if unit is not None:
        worth = _CTX.multiply(data.cryptoCurrencyAmount, unit)
        if worth > _CTX.multiply(data.currencyAmount, _ONE + _VALUE_SLACK):
            raise MalformedResponse(provider, f"price: {data.cryptoCurrencyAmount} at {unit} "
                                    f"is worth more than the {data.currencyAmount} paid")


def firm_quote(
    market: Market,
    data: PriceData,
    *,
    observed_at: float,
    expires_at: float | None,
    bounds: tuple[Decimal | None, Decimal | None] = (None, None),
) -> Quote:
    """The firm :class:`Quote` a checked answer gives; fees itemised in fiat (``asset_in``).

    Limits come from the answer's ``paymentOptions`` when it lists any, else from ``bounds``.
    """
    low, high = widest_range(data.options) if data.options else bounds
    charged: tuple[tuple[FeeKind, Decimal], ...] = (("network", data.gasFee),
                                                    ("provider", data.platformFee))
    fees = tuple(Fee(kind, amount, market.asset_in) for kind, amount in charged if amount > 0)
    return Quote(
        provider=market.provider,
        asset_in=market.asset_in,
        asset_out=market.asset_out,
        amount_in=data.currencyAmount,
        amount_out=data.cryptoCurrencyAmount,
        rate_type=market.rate_type,
        kind="firm",
        fees=fees,
        expires_at=expires_at,
        limit_min=low,
        limit_max=high,
        observed_at=observed_at,
    )


def ceil_to(value: Decimal, places: int) -> Decimal:
    """``value`` rounded up to ``places`` decimals."""
    return quantize(value, places, ROUND_CEILING)


def probe(bounds: Bounds, places: int) -> Decimal:
    """A first fiat amount when nothing is known of a pair: the geometric middle of the limits."""
    low, high = bounds
    if low is not None and high is not None and low > 0:
        return ceil_to(_CTX.sqrt(_CTX.multiply(low, high)), places)
    if low is not None and low > 0:
        return ceil_to(low * 10, places)
    return min(_DEFAULT_PROBE, high) if high is not None else _DEFAULT_PROBE


def clamp(amount: Decimal, bounds: Bounds, places: int) -> Decimal:
    """``amount`` inside ``bounds``, rounded up to ``places`` (down at the maximum)."""
    low, high = bounds
    if high is not None and amount >= high:
        return quantize(high, places, ROUND_DOWN)
    return ceil_to(max(amount, low) if low is not None else amount, places)


class FeeBook:
    """The latest ``price`` answers per pair (a few, at distinct amounts): the planner's memory."""

    def __init__(self, keep: int = 4) -> None:
        self._keep = keep
        self._seen: dict[tuple[str, str], tuple[Observation, ...]] = {}
        self._version = 0

    @property
    def version(self) -> int:
        """Grows with every answer recorded: what was learnt may have changed."""
        return self._version

    def record(self, key: tuple[str, str], data: PriceData, at: float | None = None) -> None:
        obs = Observation.of(data, at)
        kept = tuple(o for o in self._seen.get(key, ()) if o.fiat != obs.fiat)
        self._seen[key] = (*kept[max(0, len(kept) + 1 - self._keep):], obs)
        self._version += 1

    def fit(self, key: tuple[str, str]) -> FeeFit | None:
        """``key``'s solved fee model and newest answer (:func:`fee_fit`), if known."""
        return fee_fit(self._seen.get(key, ()))

    def plan(self, key: tuple[str, str], target: Decimal, guard: Decimal,
             places: int) -> Decimal | None:
        """:func:`plan_fiat` over what ``key`` showed, rounded up; ``None`` if nothing yet."""
        seen = self._seen.get(key, ())
        if not seen:
            return None
        return ceil_to(plan_fiat(target, seen[-1], seen[:-1], guard=guard), places)

    def exact(self, key: tuple[str, str]) -> bool:
        """Are ``key``'s fee parts known (two answers far enough apart)?"""
        return fee_model_known(self._seen.get(key, ()))
