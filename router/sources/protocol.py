"""The protocol a quote source (one provider adapter) implements, and what the router hands it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from router.model import Market, Quote, Side
from router.snapshot.edges import Edge

if TYPE_CHECKING:  # pragma: no cover
    import aiohttp

    from router.budgets import BudgetRegistry
    from router.sources.bulkstore import BulkStore

__all__ = ["QuoteSource", "SourceContext"]


@dataclass(frozen=True, slots=True)
class SourceContext:
    """Shared resources the router lends every source for its lifetime. ``bulk``, when given,
    keeps a source's bulk data (lists, rates exports) on disk between runs."""

    session: aiohttp.ClientSession
    budgets: BudgetRegistry
    bulk: BulkStore | None = None


@runtime_checkable
class QuoteSource(Protocol):
    """One provider, seen by the engine: everything the router reads from a source is declared
    here (``name``, ``firm_quotes`` and the methods below), so a third-party source can be
    checked against it (``class MySource(QuoteSource)`` or structurally, by mypy).

    Lifecycle: ``open(ctx)`` once (the router does it in ``__aenter__``), then any number of
    concurrent calls, then ``aclose()`` (idempotent). Calls after close raise ``RuntimeError``.

    Errors: every method raises only :class:`router.errors.ProviderError` subclasses for provider
    trouble (the router turns them into ``unavailable`` entries); ``asyncio.CancelledError``
    passes through.
    """

    @property
    def name(self) -> str:
        """Stable provider id used in results and configuration (``fixedfloat``)."""
        ...

    #: Does :meth:`firm` give firm quotes? A source that sets it to False only ever answers
    #: ``indicative`` and the router never calls ``firm`` (1BitPay, whose API has no firm
    #: quote). A class that subclasses this protocol inherits True.
    firm_quotes: bool = True

    async def open(self, ctx: SourceContext) -> None: ...

    async def aclose(self) -> None: ...

    async def markets(self) -> Sequence[Market]:
        """Every conversion the provider offers, with canonical asset ids (cached by the source)."""
        ...

    async def edges(self) -> Sequence[Edge]:
        """Every market as an :class:`Edge`: a linear price model plus limits, from bulk data.

        ``rate=None`` where the provider publishes limits but no prices. Costs no budget, or very
        little (refreshes are cached by the source). While the underlying data is unchanged,
        return the *same* sequence object: the router caches its asset graph on identity.
        """
        ...

    async def indicative(self, market: Market, amount: Decimal, side: Side) -> Quote | None:
        """Price ``market`` from bulk data at no budget cost; ``None`` when there is no such data.

        Raises :class:`AmountOutOfRange` when the bulk data's limits exclude ``amount``.
        """
        ...

    async def firm(self, market: Market, amount: Decimal, side: Side) -> Quote:
        """Ask the provider for a firm quote of exactly ``amount`` (spends budget)."""
        ...
