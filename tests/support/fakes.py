"""A scriptable in-process QuoteSource for engine tests (no network)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from router.errors import AmountOutOfRange, ProviderError
from router.model import Fee, Market, Quote, Side
from router.snapshot.edges import Edge
from router.sources.protocol import SourceContext


class FakeSource:
    """Prices ``rate`` per unit minus a flat ``fee`` in the out asset; firm = indicative * ``firm_factor``."""

    firm_quotes = True

    def __init__(
        self,
        name: str,
        pairs: Sequence[tuple[str, str]],
        rate: Decimal,
        *,
        fee: Decimal = Decimal(0),
        firm_factor: Decimal = Decimal(1),
        minimum: Decimal | None = None,
        indicative: bool = True,
        firm_delay: float = 0.0,
        firm_error: Callable[[], ProviderError | BaseException] | None = None,
        markets_error: ProviderError | None = None,
        expires_in: float = 30.0,
        rate_types: Sequence[str] = ("float",),
        rates: Mapping[str, Decimal] | None = None,
    ) -> None:
        self._name = name
        self._markets = [Market(name, a, b, rt, f"{a}/{b}") for a, b in pairs for rt in rate_types]  # type: ignore[arg-type]
        self.rate, self.fee, self.firm_factor = rate, fee, firm_factor
        self.rates = dict(rates or {})  # asset_out -> its own rate (default ``rate``)
        self.minimum = minimum
        self.has_indicative = indicative
        self.firm_delay = firm_delay
        self.firm_error = firm_error
        self.markets_error = markets_error
        self.expires_in = expires_in
        self.firm_calls = 0
        self.opened = self.closed = False

    @property
    def name(self) -> str:
        return self._name

    async def open(self, ctx: SourceContext) -> None:
        self.opened = True

    async def aclose(self) -> None:
        self.closed = True

    async def markets(self) -> Sequence[Market]:
        if self.markets_error is not None:
            raise self.markets_error
        return self._markets

    def _price(self, market: Market, amount: Decimal, side: Side, rate: Decimal, kind: str) -> Quote:
        if side == "sell":
            if self.minimum is not None and amount < self.minimum:
                raise AmountOutOfRange(self._name, below_min=True, limit=self.minimum, asset=market.asset_in)
            amount_in, amount_out = amount, amount * rate - self.fee
        else:
            amount_in, amount_out = (amount + self.fee) / rate, amount
        return Quote(
            provider=self._name, asset_in=market.asset_in, asset_out=market.asset_out,
            amount_in=amount_in, amount_out=amount_out, rate_type=market.rate_type,
            kind=kind,  # type: ignore[arg-type]
            fees=(Fee("network", self.fee, market.asset_out),),
            expires_at=(time.time() + self.expires_in) if kind == "firm" else None,
        )

    async def edges(self) -> Sequence[Edge]:
        if self.markets_error is not None:
            raise self.markets_error
        if not hasattr(self, "_edges"):
            self._edges = [Edge(market=m, rate=self._rate(m) if self.has_indicative else None,
                                fee_out=self.fee, min_in=self.minimum) for m in self._markets]
        return self._edges

    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        if not self.has_indicative:
            return None
        return self._price(market, amount, side, self._rate(market), "indicative")

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        self.firm_calls += 1
        if self.firm_delay:
            await asyncio.sleep(self.firm_delay)
        if self.firm_error is not None:
            raise self.firm_error()
        return self._price(market, amount, side, self._rate(market) * self.firm_factor, "firm")

    def _rate(self, market: Market) -> Decimal:
        return self.rates.get(market.asset_out, self.rate)
