"""Edges: a provider's conversion as a linear price model the route search can evaluate fast.

An :class:`Edge` prices ``asset_in`` → ``asset_out`` without I/O::

    sell (amount in):   out = floor((amount - fee_in) * rate - fee_out)
    buy  (amount out):  in  = ceil((amount + fee_out) / rate + fee_in)

``rate`` is net of the provider's percent fee ``margin``; ``fee_out`` is a fixed fee in out units
(typically the payout network fee), ``fee_in`` a fixed fee in in units. Limits ``min_in``/``max_in``
are in in units, ``max_out`` (a reserve) in out units. ``rate`` is ``None`` when the provider publishes
limits but no prices; the router then estimates one from reference prices and the fee model and
marks the edge ``estimated``. ``learnt``: the price comes from the provider's own earlier firm
answers, not its bulk data; it prices routes like any other but is left out of the reference mids
(:func:`router.snapshot.graph.reference_values`), so what a source learns never moves the yardstick
every other edge is judged and estimated by (and costs the snapshot a patch, not a rebuild).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

import msgspec

from router.errors import AmountOutOfRange
from router.model import Fee, Market, Quote, Side

__all__ = ["Edge", "check_limits", "edge_fees", "edge_quote", "price_backward", "price_forward"]

_CTX: Final = Context(prec=40)
_ZERO: Final = Decimal(0)


class Edge(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    market: Market
    rate: Decimal | None
    margin: Decimal = _ZERO
    fee_in: Decimal = _ZERO
    fee_out: Decimal = _ZERO
    min_in: Decimal | None = None
    max_in: Decimal | None = None
    max_out: Decimal | None = None
    quantum_in: Decimal = Decimal("1e-8")
    quantum_out: Decimal = Decimal("1e-8")
    observed_at: float | None = None
    estimated: bool = False
    learnt: bool = False

    @property
    def provider(self) -> str:
        return self.market.provider


def _limit(edge: Edge, below: bool, limit: Decimal, asset: str) -> AmountOutOfRange:
    word = "minimum" if below else "maximum"
    return AmountOutOfRange(edge.market.provider, f"{word} {limit} {asset}", below_min=below,
                            limit=limit, asset=asset)


def _unpriceable(edge: Edge, exc: ArithmeticError) -> AmountOutOfRange:
    """An edge whose figures break exact arithmetic (a zero or absurd rate, a quantum far from
    the result): no amount can be priced through it."""
    return AmountOutOfRange(edge.market.provider, f"figures cannot price this amount "
                            f"({type(exc).__name__})", below_min=False)


def price_forward(edge: Edge, amount: Decimal) -> Decimal:
    """What ``amount`` in gives out; :class:`AmountOutOfRange` outside the edge's limits.

    The edge must be priced (``rate`` not ``None``)."""
    assert edge.rate is not None, "price_forward on an unpriced edge"
    if edge.min_in is not None and amount < edge.min_in:
        raise _limit(edge, True, edge.min_in, edge.market.asset_in)
    if edge.max_in is not None and amount > edge.max_in:
        raise _limit(edge, False, edge.max_in, edge.market.asset_in)
    try:
        out = _CTX.subtract(_CTX.multiply(_CTX.subtract(amount, edge.fee_in), edge.rate),
                            edge.fee_out)
        out = out.quantize(edge.quantum_out, rounding=ROUND_FLOOR, context=_CTX)
    except ArithmeticError as exc:
        raise _unpriceable(edge, exc) from None
    if out <= 0:
        raise _limit(edge, True, edge.min_in or _min_for_fees(edge), edge.market.asset_in)
    if edge.max_out is not None and out > edge.max_out:
        raise _limit(edge, False, edge.max_out, edge.market.asset_out)
    return out


def price_backward(edge: Edge, amount: Decimal) -> Decimal:
    """What must go in to get ``amount`` out; :class:`AmountOutOfRange` outside the limits."""
    assert edge.rate is not None, "price_backward on an unpriced edge"
    if edge.max_out is not None and amount > edge.max_out:
        raise _limit(edge, False, edge.max_out, edge.market.asset_out)
    try:
        needed = _CTX.add(_CTX.divide(_CTX.add(amount, edge.fee_out), edge.rate), edge.fee_in)
        needed = needed.quantize(edge.quantum_in, rounding=ROUND_CEILING, context=_CTX)
    except ArithmeticError as exc:
        raise _unpriceable(edge, exc) from None
    if edge.min_in is not None and needed < edge.min_in:
        raise _limit(edge, True, edge.min_in, edge.market.asset_in)
    if edge.max_in is not None and needed > edge.max_in:
        raise _limit(edge, False, edge.max_in, edge.market.asset_in)
    return needed


def _min_for_fees(edge: Edge) -> Decimal:
    """The smallest input that covers the fixed fees (a minimum the provider did not state)."""
    assert edge.rate is not None
    try:
        need = _CTX.add(_CTX.divide(edge.fee_out, edge.rate), edge.fee_in)
        return need.quantize(edge.quantum_in, rounding=ROUND_CEILING, context=_CTX)
    except ArithmeticError as exc:
        raise _unpriceable(edge, exc) from None


def edge_fees(edge: Edge, amount_in: Decimal, amount_out: Decimal) -> tuple[Fee, ...]:
    """Itemise the fees of one priced edge: the margin (provider), fixed fees (network/provider)."""
    m = edge.market
    items: list[Fee] = []
    if edge.margin:
        try:
            gross = _CTX.add(amount_out, edge.fee_out)
            share = _CTX.divide(_CTX.multiply(gross, edge.margin), 1 - edge.margin)
            items.append(Fee("provider", share.quantize(edge.quantum_out, rounding=ROUND_HALF_EVEN,
                                                        context=_CTX), m.asset_out))
        except ArithmeticError:
            pass  # a margin that cannot be itemised (validation keeps such edges out anyway)
    if edge.fee_in:
        items.append(Fee("provider", edge.fee_in, m.asset_in))
    if edge.fee_out:
        items.append(Fee("network", edge.fee_out, m.asset_out))
    return tuple(items)


def edge_quote(edge: Edge, amount: Decimal, side: Side) -> Quote:
    """An indicative :class:`Quote` for ``amount`` on ``edge`` (sell: amount in; buy: amount out)."""
    if side == "sell":
        amount_in, amount_out = amount, price_forward(edge, amount)
    else:
        amount_in, amount_out = price_backward(edge, amount), amount
    m = edge.market
    return Quote(
        provider=m.provider, asset_in=m.asset_in, asset_out=m.asset_out, amount_in=amount_in,
        amount_out=amount_out, rate_type=m.rate_type, kind="indicative",
        fees=edge_fees(edge, amount_in, amount_out), limit_min=edge.min_in, limit_max=edge.max_in,
        observed_at=edge.observed_at,
    )


def check_limits(edge: Edge, amount: Decimal, side: Side) -> None:
    """For an unpriced edge: raise :class:`AmountOutOfRange` if its limits exclude ``amount``
    (sell side: ``amount`` is in ``asset_in`` units; buy side: ``max_out`` only)."""
    if side == "sell":
        if edge.min_in is not None and amount < edge.min_in:
            raise _limit(edge, True, edge.min_in, edge.market.asset_in)
        if edge.max_in is not None and amount > edge.max_in:
            raise _limit(edge, False, edge.max_in, edge.market.asset_in)
    elif edge.max_out is not None and amount > edge.max_out:
        raise _limit(edge, False, edge.max_out, edge.market.asset_out)
