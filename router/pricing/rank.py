"""Ranking routes: by what the user ends up with after every fee.

Sell side (``amount`` is what the user sends): more ``amount_out`` is better.
Buy side (``amount`` is what the user receives): less ``amount_in`` is better.
Ties: locked before firm before indicative (a price the provider holds beats one it may move),
fewer legs, then provider names (a stable, reproducible order). A firm quote past its
``expires_at`` is never presented as firm or locked: it is downgraded to indicative.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal

import msgspec

from router.model import Route, Side

__all__ = ["rank_routes", "rank_key", "without_expired"]


def rank_key(route: Route, side: Side) -> tuple[Decimal, int, int, tuple[str, ...]]:
    primary = -route.amount_out if side == "sell" else route.amount_in
    certainty = 0 if route.locked else 1 if route.kind == "firm" else 2
    return (primary, certainty, len(route.legs), route.providers)


def without_expired(route: Route, now: float) -> Route:
    if route.kind == "firm" and route.expires_at is not None and route.expires_at <= now:
        legs = tuple(msgspec.structs.replace(leg, locked=False) if leg.locked else leg
                     for leg in route.legs)
        return msgspec.structs.replace(route, kind="indicative", locked=False, legs=legs)
    return route


def rank_routes(routes: Iterable[Route], side: Side, *, now: float | None = None) -> tuple[Route, ...]:
    """Best first."""
    t = time.time() if now is None else now
    fresh = [without_expired(r, t) for r in routes]
    fresh.sort(key=lambda r: rank_key(r, side))
    return tuple(fresh)
