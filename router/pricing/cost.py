"""What a route costs, in one number: basis points below the mid-market value of what is sent.

The yardstick is the asset graph's reference values (:func:`router.snapshot.graph.reference_values`):
every coin valued in USDT from the providers' bulk prices, each provider's margin added back, the
median of what the edges touching a coin say. A route's ``usd_in`` and ``usd_out`` are its amounts
at those values (USDT taken at par with the US dollar), ``usd_fees`` its itemised fees (every
leg's fees, transfers between providers and the payout) valued the same way, and ``cost_bp`` is
``(usd_in - usd_out) / usd_in`` in basis points: everything the route loses against the market,
fees, spreads and margins included. Each figure is ``None`` when a coin it needs has no reference
value (no provider prices it in bulk data, e.g. a coin only an on-ramp lists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

import msgspec

from router.model import Fee, Route

__all__ = ["route_cost", "with_costs"]

_BP: Final = Decimal(10000)
_CENT: Final = Decimal("0.01")


def _coin(asset: str) -> str:
    return asset.partition("@")[0]


def _usd(amount: Decimal, asset: str, values: Mapping[str, Decimal]) -> Decimal | None:
    value = values.get(_coin(asset))
    return None if value is None else amount * value


def _fees(route: Route) -> Iterable[Fee]:
    for leg in route.legs:
        if leg.transfer_fee is not None:
            yield leg.transfer_fee
        yield from leg.fees
    if route.payout_fee is not None:
        yield route.payout_fee


def route_cost(route: Route, values: Mapping[str, Decimal]) -> Route:
    """``route`` with ``cost_bp``, ``usd_in``, ``usd_out`` and ``usd_fees`` from ``values``
    (coin -> value in USDT); a figure whose coin has no value stays ``None``. USD figures are
    rounded to the cent, ``cost_bp`` to a hundredth of a basis point."""
    usd_in = _usd(route.amount_in, route.asset_in, values)
    usd_out = _usd(route.amount_out, route.asset_out, values)
    cost = None
    if usd_in is not None and usd_out is not None and usd_in > 0:
        cost = ((usd_in - usd_out) / usd_in * _BP).quantize(_CENT)
    total: Decimal | None = Decimal(0)
    for fee in _fees(route):
        part = _usd(fee.amount, fee.asset, values)
        if part is None:
            total = None
            break
        total += part  # type: ignore[operator]
    return msgspec.structs.replace(
        route, cost_bp=cost,
        usd_in=usd_in.quantize(_CENT) if usd_in is not None else None,
        usd_out=usd_out.quantize(_CENT) if usd_out is not None else None,
        usd_fees=total.quantize(_CENT) if total is not None else None)


def with_costs(routes: Iterable[Route], values: Mapping[str, Decimal] | None) -> tuple[Route, ...]:
    """Every route of ``routes`` with its cost (unchanged when there are no ``values``)."""
    if not values:
        return tuple(routes)
    return tuple(route_cost(r, values) for r in routes)
