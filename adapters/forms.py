"""A doc reading a client settles on first use: try one form, and the other once if it is refused.

Where a provider's doc allows two readings of a request (FixedFloat's empty-params signature and
amount type, 1BitPay's key order), the client cannot know which one the live provider checks.
:class:`Reading` tries the forms in order on the first call; a refusal that names the form (the
caller's ``refused`` test) moves on to the next form **once**, and the form that got an answer
is kept for every later call on that credential. Until it is known, calls wait for the one
that is finding out, so concurrent first calls cost one retry in all, not one each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from router.errors import ProviderError

__all__ = ["Reading"]

_F = TypeVar("_F")
_R = TypeVar("_R")


class Reading(Generic[_F]):
    """The forms of one ambiguous reading, first guess first; :attr:`known` once one worked."""

    __slots__ = ("_forms", "_known", "_lock")

    def __init__(self, forms: Sequence[_F]) -> None:
        if len(forms) < 2:
            raise ValueError("a reading needs at least two forms")
        self._forms = tuple(forms)
        self._known: _F | None = None
        self._lock = asyncio.Lock()

    @property
    def known(self) -> _F | None:
        """The form the provider accepted, or ``None`` before one call has succeeded."""
        return self._known

    async def call(self, send: Callable[[_F], Awaitable[_R]],
                   refused: Callable[[ProviderError], bool]) -> _R:
        """``send(form)`` in the known form; before one is known, each form in turn while
        ``refused`` says the provider refused the form (at most ``len(forms) - 1`` retries)."""
        if self._known is not None:
            return await send(self._known)
        async with self._lock:
            if self._known is None:
                last = len(self._forms) - 1
                for i, form in enumerate(self._forms):
                    try:
                        result = await send(form)
                    except ProviderError as exc:
                        if i < last and refused(exc):
                            continue
                        raise
                    self._known = form
                    return result
        known = self._known  # settled while this call waited
        assert known is not None
        return await send(known)
