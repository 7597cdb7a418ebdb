"""What one quote call gathers while sources answer: routes, and why others are out.

The collector is filled incrementally, so when the deadline strikes whatever has arrived
(indicative prices, some firm quotes) is ranked and the rest is reported as ``timeout``.
Routes are keyed by the markets they go through, so a firm answer replaces the indicative
estimate of the same route.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from router.assets import Asset
from router.errors import (
    AmountOutOfRange,
    AuthError,
    MalformedResponse,
    ProviderError,
    ProviderUnhealthy,
    RateLimited,
    SignatureInvalid,
    UnsupportedPair,
)
from router.model import Fee, Leg, Market, Quote, QuoteRequest, Route, Unavailable

__all__ = ["MARKET_OUT", "UNTRUSTED", "Collector", "payout_fee_of", "record_failure", "route_of",
           "unavailable_from_error"]

#: Errors after which nothing from that provider is trusted for this call.
UNTRUSTED = (SignatureInvalid, MalformedResponse, AuthError)
#: Errors that rule out one market (that amount cannot go through it).
MARKET_OUT = (AmountOutOfRange, UnsupportedPair)


def record_failure(col: Collector, provider: str, exc: ProviderError, market: Market) -> None:
    """What a failed firm quote for ``market`` means, the same for a quote and a batch: a market
    that cannot take the amount is dropped (and, past a limit, the provider's other markets
    beyond it), an untrusted provider is dropped whole, and a transient failure leaves the
    indicative price in place, labelled; the reason is noted in every case."""
    if isinstance(exc, MARKET_OUT):
        col.drop(market)
        col.fail(provider, exc, market)
        if isinstance(exc, AmountOutOfRange):
            col.drop_beyond(provider, exc)
        return
    if isinstance(exc, UNTRUSTED):
        col.drop_provider(provider)
    col.fail(provider, exc, market)


def payout_fee_of(quote: Quote) -> Decimal | None:
    """The network fee a firm answer charges to deliver its output (what bulk data may leave
    out), or None."""
    for f in quote.fees:
        if f.kind == "network" and f.asset == quote.asset_out:
            return f.amount
    return None

RouteKey = tuple[Market, ...]


def unavailable_from_error(provider: str, exc: ProviderError, market: Market | None = None) -> Unavailable:
    """Map an error to its ``unavailable`` entry (reason from the class, never the message)."""
    where = f"{market.asset_in}->{market.asset_out} {market.rate_type}" if market else ""
    detail = "; ".join(b for b in (where, exc.detail) if b)
    limit: Decimal | None = None
    asset: str | None = None
    retry_after: float | None = None
    if isinstance(exc, AmountOutOfRange):
        limit, asset = exc.limit, exc.asset
        if limit is not None:
            bound = "minimum" if exc.below_min else "maximum"
            detail = "; ".join(b for b in (where, f"{bound} {limit:f} {asset or ''}".strip()) if b)
    if isinstance(exc, (RateLimited, ProviderUnhealthy)) and exc.retry_after is not None:
        retry_after = round(exc.retry_after, 3)
    return Unavailable(provider=provider, reason=exc.reason, detail=detail, limit=limit,
                       asset=asset, retry_after=retry_after)


def route_of(quote: Quote, payout: Fee | None = None) -> Route:
    return Route(
        legs=(Leg.from_quote(quote),),
        amount_in=quote.amount_in,
        amount_out=quote.amount_out - (payout.amount if payout is not None else 0),
        kind=quote.kind,
        expires_at=quote.expires_at,
        observed_at=quote.observed_at,
        payout_fee=payout,
        locked=quote.locked,
    )


class Collector:
    """Per-call accumulator. Not shared between calls; no locking needed on one loop."""

    __slots__ = ("_routes", "_unavailable", "_pending", "_seen")

    def __init__(self) -> None:
        self._routes: dict[RouteKey, Route] = {}
        self._unavailable: list[Unavailable] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._pending: dict[str, set[object]] = {}

    def add(self, market: Market, quote: Quote, payout: Fee | None = None) -> None:
        """Record a one-leg quote for ``market``; a firm quote replaces an indicative one."""
        self.add_route((market,), route_of(quote, payout))

    def add_route(self, key: RouteKey, route: Route) -> None:
        old = self._routes.get(key)
        if old is None or route.kind == "firm" or old.kind != "firm":
            self._routes[key] = route

    def drop(self, market: Market) -> None:
        self._routes.pop((market,), None)

    def drop_key(self, key: RouteKey) -> None:
        self._routes.pop(key, None)

    def drop_beyond(self, provider: str, exc: AmountOutOfRange) -> None:
        """A firm answer revealed ``provider``'s limit: drop its other *indicative* one-leg prices
        that the same limit rules out (same coin in the limit's units, e.g. other networks)."""
        if exc.limit is None or exc.asset is None:
            return
        coin = exc.asset.partition("@")[0]
        for key, route in list(self._routes.items()):
            if len(key) != 1 or key[0].provider != provider or route.kind == "firm":
                continue
            leg = route.legs[0]
            if leg.asset_in.partition("@")[0] == coin:
                amount = leg.amount_in
            elif leg.asset_out.partition("@")[0] == coin:
                amount = leg.amount_out
            else:
                continue
            if (exc.below_min and amount < exc.limit) or (not exc.below_min and amount > exc.limit):
                del self._routes[key]

    def drop_provider(self, provider: str) -> None:
        for key in [k for k in self._routes if any(m.provider == provider for m in k)]:
            del self._routes[key]

    def same_asset(self, sell: Asset, buy: Asset) -> bool:
        """Note (and say) when ``sell`` and ``buy`` are one asset: an answer, not an error."""
        if sell.coin == buy.coin and (sell.network is None or buy.network is None
                                      or sell.network == buy.network):
            self.note(Unavailable(provider="*", reason="unsupported_pair",
                                  detail="sell and buy are the same asset"))
            return True
        return False

    def unserved(self, names: Iterable[str], involved: set[str], req: QuoteRequest) -> None:
        """``unsupported_pair`` for each of ``names`` that no route involves and that has no
        other reason noted already."""
        noted = {u.provider for u in self._unavailable}
        for name in names:
            if name not in involved and name not in noted:
                self.note(Unavailable(provider=name, reason="unsupported_pair",
                                      detail=f"{req.sell}->{req.buy}"))

    def note(self, entry: Unavailable) -> None:
        key = (entry.provider, entry.reason, entry.detail)
        if key not in self._seen:
            self._seen.add(key)
            self._unavailable.append(entry)

    def entry(self, provider: str, exc: ProviderError, market: Market | None = None) -> Unavailable:
        return unavailable_from_error(provider, exc, market)

    def fail(self, provider: str, exc: ProviderError, market: Market | None = None) -> None:
        self.note(unavailable_from_error(provider, exc, market))

    def start(self, provider: str, token: object) -> None:
        self._pending.setdefault(provider, set()).add(token)

    def finish(self, provider: str, token: object) -> None:
        self._pending.get(provider, set()).discard(token)

    def pending(self, provider: str) -> set[object]:
        return self._pending.get(provider, set())

    def pending_providers(self) -> list[str]:
        return [p for p, tokens in self._pending.items() if tokens]

    def has_routes(self, provider: str) -> bool:
        return any(m.provider == provider for k in self._routes for m in k)

    def routes(self) -> list[Route]:
        return list(self._routes.values())

    def unavailable(self) -> tuple[Unavailable, ...]:
        return tuple(self._unavailable)
