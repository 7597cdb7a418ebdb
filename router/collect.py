"""What one quote call gathers while sources answer: routes per market, and why others are out.

The collector is filled incrementally, so when the deadline strikes whatever has arrived
(indicative prices, some firm quotes) is ranked and the rest is reported as ``timeout``.
"""

from __future__ import annotations

from decimal import Decimal

from .errors import AmountOutOfRange, BudgetExhausted, ProviderError, RateLimited
from .model import Leg, Market, Quote, Route, Unavailable

__all__ = ["Collector", "unavailable_from_error"]


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
    if isinstance(exc, (RateLimited, BudgetExhausted)) and exc.retry_after is not None:
        retry_after = round(exc.retry_after, 3)
    return Unavailable(provider=provider, reason=exc.reason, detail=detail, limit=limit,
                       asset=asset, retry_after=retry_after)


def route_of(quote: Quote) -> Route:
    return Route(
        legs=(Leg.from_quote(quote),),
        amount_in=quote.amount_in,
        amount_out=quote.amount_out,
        kind=quote.kind,
        expires_at=quote.expires_at,
        observed_at=quote.observed_at,
    )


class Collector:
    """Per-call accumulator. Not shared between calls; no locking needed on one loop."""

    __slots__ = ("_quotes", "_unavailable", "_pending", "_seen")

    def __init__(self) -> None:
        self._quotes: dict[Market, Quote] = {}
        self._unavailable: list[Unavailable] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._pending: dict[str, set[Market]] = {}

    def add(self, market: Market, quote: Quote) -> None:
        """Record a quote for ``market``; a firm quote replaces an indicative one."""
        old = self._quotes.get(market)
        if old is None or quote.kind == "firm" or old.kind != "firm":
            self._quotes[market] = quote

    def drop(self, market: Market) -> None:
        self._quotes.pop(market, None)

    def drop_beyond(self, provider: str, exc: AmountOutOfRange) -> None:
        """A firm answer revealed ``provider``'s limit: drop its other *indicative* prices that the
        same limit rules out (same coin in the limit's units, e.g. other networks of the pair)."""
        if exc.limit is None or exc.asset is None:
            return
        coin = exc.asset.partition("@")[0]
        for market, quote in list(self._quotes.items()):
            if market.provider != provider or quote.kind == "firm":
                continue
            if quote.asset_in.partition("@")[0] == coin:
                amount = quote.amount_in
            elif quote.asset_out.partition("@")[0] == coin:
                amount = quote.amount_out
            else:
                continue
            if (exc.below_min and amount < exc.limit) or (not exc.below_min and amount > exc.limit):
                del self._quotes[market]

    def drop_provider(self, provider: str) -> None:
        for market in [m for m in self._quotes if m.provider == provider]:
            del self._quotes[market]

    def note(self, entry: Unavailable) -> None:
        key = (entry.provider, entry.reason, entry.detail)
        if key not in self._seen:
            self._seen.add(key)
            self._unavailable.append(entry)

    def fail(self, provider: str, exc: ProviderError, market: Market | None = None) -> None:
        self.note(unavailable_from_error(provider, exc, market))

    def start(self, provider: str, market: Market) -> None:
        self._pending.setdefault(provider, set()).add(market)

    def finish(self, provider: str, market: Market) -> None:
        self._pending.get(provider, set()).discard(market)

    def pending(self, provider: str) -> set[Market]:
        return self._pending.get(provider, set())

    def has_routes(self, provider: str) -> bool:
        return any(m.provider == provider for m in self._quotes)

    def routes(self) -> list[Route]:
        return [route_of(q) for q in self._quotes.values()]

    def unavailable(self) -> tuple[Unavailable, ...]:
        return tuple(self._unavailable)
