"""The engine's domain model: msgspec structs, exact ``Decimal`` money.

Adapters convert their wire structs into these; the router never sees a wire type.
Asset fields hold canonical id strings (see :mod:`router.assets`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

__all__ = [
    "Amount",
    "Fee",
    "FeeKind",
    "Leg",
    "Market",
    "Quote",
    "QuoteKind",
    "QuoteRequest",
    "RateType",
    "RateTypeFilter",
    "Reason",
    "Route",
    "RouteSet",
    "Side",
    "Unavailable",
]

Side = Literal["sell", "buy"]
RateType = Literal["fixed", "float"]
RateTypeFilter = Literal["any", "fixed", "float"]
#: An amount as a caller may give it: exact values only (a ``float`` is refused at run time).
Amount = Decimal | int | str
QuoteKind = Literal["firm", "indicative"]
FeeKind = Literal["provider", "network", "spread"]

#: The reasons ``Unavailable.reason`` may carry.
Reason = Literal[
    "limit_min",
    "limit_max",
    "unsupported_pair",
    "timeout",
    "provider_error",
    "rate_limited",
    "budget_exhausted",
    "signature_invalid",
    "auth_failed",
    "provider_unhealthy",
    "not_ranked",
]


class QuoteRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A validated request (build it with :func:`router.request.parse.make_request`)."""

    sell: str
    buy: str
    amount: Decimal
    side: Side = "sell"
    rate_type: RateTypeFilter = "any"
    max_hops: int = 2
    providers: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()


class Fee(msgspec.Struct, frozen=True, gc=False):
    """One itemised fee: what kind, how much, in which asset."""

    kind: FeeKind
    amount: Decimal
    asset: str


class Market(msgspec.Struct, frozen=True, gc=False):
    """A conversion a provider offers: ``asset_in`` → ``asset_out`` at ``rate_type``.

    ``ref`` is the provider's own handle for the pair (e.g. FixedFloat codes ``BTC/USDTTRC``).
    """

    provider: str
    asset_in: str
    asset_out: str
    rate_type: RateType
    ref: str = ""


class Quote(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """What a source answers for one market and amount: one priced conversion."""

    provider: str
    asset_in: str
    asset_out: str
    amount_in: Decimal
    amount_out: Decimal
    rate_type: RateType
    kind: QuoteKind
    fees: tuple[Fee, ...] = ()
    quote_id: str | None = None
    expires_at: float | None = None  # unix seconds
    limit_min: Decimal | None = None  # in asset_in units
    limit_max: Decimal | None = None  # in asset_in units
    observed_at: float | None = None  # unix seconds the price data dates from

    @property
    def locked(self) -> bool:
        """Did the provider commit to this price: a firm answer with a quote id to act on and an
        expiry (a GatePay preview)? A floating rate, an estimate (FlyPay's ``estimated_amount``)
        or a fixed-rate price with no id to hold it by is priced for this amount but not held."""
        return self.kind == "firm" and self.quote_id is not None and self.expires_at is not None


class Leg(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One conversion of a route. ``transfer_fee`` is what moving this leg's input from the
    previous leg's provider cost (a network fee): ``amount_in = previous amount_out - fee``."""

    provider: str
    asset_in: str
    asset_out: str
    amount_in: Decimal
    amount_out: Decimal
    fees: tuple[Fee, ...] = ()
    rate_type: RateType = "float"
    quote_id: str | None = None
    kind: QuoteKind = "indicative"
    transfer_fee: Fee | None = None
    expires_at: float | None = None
    locked: bool = False  # the provider holds this price until ``expires_at`` (``Quote.locked``)

    @classmethod
    def from_quote(cls, q: Quote, transfer_fee: Fee | None = None) -> Leg:
        return cls(
            provider=q.provider,
            asset_in=q.asset_in,
            asset_out=q.asset_out,
            amount_in=q.amount_in,
            amount_out=q.amount_out,
            fees=q.fees,
            rate_type=q.rate_type,
            quote_id=q.quote_id,
            kind=q.kind,
            transfer_fee=transfer_fee,
            expires_at=q.expires_at,
            locked=q.locked,
        )


class Route(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A way to turn ``amount_in`` of the first leg's input into ``amount_out`` of the last leg's
    output. ``payout_fee`` is the network fee of delivering the output to the user's wallet when
    the last provider holds it in an account (its quote does not include the payout):
    ``amount_out = last leg's amount_out - payout_fee``. ``locked``: every leg's price is held by
    its provider until ``expires_at`` (each with a quote id); a firm route that is not locked was
    priced for this amount but may move before it is acted on.

    What it costs (:mod:`router.pricing.cost`): ``cost_bp``, how far (basis points) what it
    delivers falls below the mid-market value of what is sent, every fee included; ``usd_in``,
    ``usd_out`` and ``usd_fees``, the USD values of what goes in, what comes out and the itemised
    fees. Each is ``None`` when the reference has no value for an asset it needs."""

    legs: tuple[Leg, ...]
    amount_in: Decimal
    amount_out: Decimal
    kind: QuoteKind
    expires_at: float | None = None
    observed_at: float | None = None
    payout_fee: Fee | None = None
    locked: bool = False
    cost_bp: Decimal | None = None
    usd_in: Decimal | None = None
    usd_out: Decimal | None = None
    usd_fees: Decimal | None = None

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(leg.provider for leg in self.legs)

    @property
    def asset_in(self) -> str:
        return self.legs[0].asset_in

    @property
    def asset_out(self) -> str:
        """What reaches the user's wallet: the payout's chain when the last provider holds the
        output in an account (``USDT`` paid out as ``USDT@BSC``), else the last leg's output."""
        return self.payout_fee.asset if self.payout_fee is not None else self.legs[-1].asset_out

    @property
    def rate(self) -> Decimal:
        """What one unit in buys (``amount_out / amount_in``)."""
        return self.amount_out / self.amount_in

    def to_dict(self) -> dict[str, Any]:
        """This route as in the ``--json`` contract: plain types, amounts as decimal strings
        (``json.dumps(route.to_dict())``)."""
        from router.face.render import route_to_dict

        return route_to_dict(self)

    def to_json(self) -> bytes:
        """:meth:`to_dict` as compact JSON (UTF-8 bytes)."""
        return msgspec.json.encode(self.to_dict())


class Unavailable(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """A provider or route left out, with a machine-readable ``reason``.

    For ``limit_min``/``limit_max``, ``limit`` is the provider's figure in ``asset`` units.
    """

    provider: str
    reason: str
    detail: str = ""
    limit: Decimal | None = None
    asset: str | None = None
    retry_after: float | None = None


class RouteSet(msgspec.Struct, frozen=True, kw_only=True):
    request: QuoteRequest
    routes: tuple[Route, ...]
    unavailable: tuple[Unavailable, ...]
    elapsed_ms: float

    @property
    def best(self) -> Route | None:
        return self.routes[0] if self.routes else None

    def to_dict(self, mode: str | None = None) -> dict[str, Any]:
        """The answer as in the ``--json`` contract (``request``, ``routes``, ``unavailable``,
        ``elapsed_ms``; ``mode`` only when given): plain types, amounts as decimal strings, so
        ``json.dumps(rs.to_dict())`` (or ``orjson.dumps``) works."""
        from router.face.render import routeset_to_dict

        return routeset_to_dict(self, mode)

    def to_json(self, mode: str | None = None) -> bytes:
        """:meth:`to_dict` as compact JSON (UTF-8 bytes), the bytes ``--json`` prints."""
        from router.face.render import routeset_to_json

        return routeset_to_json(self, mode)
