"""Run a coroutine on uvloop when it is installed (as the ``bestrate`` command does), else on
asyncio's default loop; :data:`LOOP` names the one used, for the report."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LOOP", "run"]

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is optional on some platforms
    uvloop = None  # type: ignore[assignment]

LOOP = "uvloop" if uvloop is not None else "asyncio"


def run(coro: Coroutine[Any, Any, T]) -> T:
    if uvloop is not None:
        return uvloop.run(coro)
    return asyncio.run(coro)  # pragma: no cover
