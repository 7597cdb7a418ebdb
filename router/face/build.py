"""From configuration to a working router: the one place the command and
:meth:`router.Router.from_config` share, so the two cannot drift.

In request order: :func:`load` reads ``bestrate.toml`` and the ``BESTRATE_*`` environment
(:mod:`router.face.config`); :func:`open_parts` then chooses the sources (live providers with
credentials, else the embedded sandbox), reaches the budget store once, and picks the bulk store
and the firm-quote cache; :meth:`Parts.router_options` is what the :class:`~router.Router` is
built with.

Imports point down (bench -> adapters -> router): the two steps that need the providers'
adapters or the embedded sandbox are :func:`router.cli.provider_specs` and
:func:`router.cli.open_sources`, in the command, the one module of ``router`` that reaches up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from router.errors import InvalidRequest
from router.face.config import Config, Field, load_config

__all__ = ["DEFAULT_PATH", "Parts", "budget_store", "bulk_store", "load",
           "open_parts", "quote_cache"]

#: The file read when no path is given (skipped when it does not exist).
DEFAULT_PATH = "bestrate.toml"

Specs = Mapping[str, Mapping[str, Field]]


def load(path: str | PathLike[str] | None = None,
         env: Mapping[str, str] | None = None) -> tuple[Config, Specs]:
    """The configuration and every provider's field specs. ``path=None`` reads
    ``./bestrate.toml`` when it exists; a path given must exist."""
    from router.cli import provider_specs  # the composition root: the one that reaches adapters

    specs = provider_specs()
    required = path is not None
    config = load_config(Path(DEFAULT_PATH if path is None else path), specs, env,
                         required=required)
    return config, specs


@dataclass(slots=True)
class Parts:
    """What a router is built from: its sources and whether they are ``live`` or ``sandbox``,
    the budget store (already reached), bulk store and firm-quote cache."""

    sources: list[Any]
    mode: str
    budgets: Any
    bulk: Any
    cache: Any
    config: Config
    extra: dict[str, Any] = field(default_factory=dict)

    def router_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~router.Router` besides the sources."""
        options: dict[str, Any] = {"budgets": self.budgets, "bulk": self.bulk,
                                   "cache": self.cache, **self.extra}
        if "deadline" in self.config.router:
            options["deadline"] = self.config.router["deadline"]
        if "firm_per_source" in self.config.router:
            options["firm_per_source"] = self.config.router["firm_per_source"]
        if self.config.fees:
            from router.snapshot.feemodel import load_fee_model

            options["fees"] = load_fee_model(self.config.fees)
        return options


def _sources(config: Config, specs: Specs, *, sandbox: bool,
             notice: Callable[[str], None]) -> contextlib.AbstractAsyncContextManager[
                 tuple[list[Any], str]]:
    from router.cli import open_sources  # the composition root: the one that reaches adapters

    return open_sources(config, specs, sandbox=sandbox, notice=notice)


_STORES = "local (a file shared by this machine), memory, or redis://host:port/db"
_REDIS = ("redis://", "rediss://", "unix://")


async def budget_store(config: Config, mode: str) -> Any:
    """The budget store the configuration selects, reached once before anything is spent: a
    store that cannot be opened is a configuration error naming ``budgets.store`` (its URL, which
    may hold a password, never shown). The default is ``local`` with live providers, and
    ``memory`` on the embedded sandbox, whose emulators start afresh, budgets and all, each run."""
    from router.budgets import LocalBudgetStore, MemoryBudgetStore, RedisBudgetStore

    choice = config.budgets.get("store") or ("local" if mode == "live" else "memory")
    store: Any
    try:
        if choice == "memory":
            store = MemoryBudgetStore()
        elif choice == "local":
            store = LocalBudgetStore()
        elif choice.startswith(_REDIS):
            store = RedisBudgetStore.from_url(choice,
                                              prefix=config.budgets.get("prefix") or "bestrate")
        else:
            raise InvalidRequest("budgets.store", "not a budget store", _STORES)
    except InvalidRequest:
        raise
    except Exception as exc:  # a URL redis-py cannot parse (a port out of range, ...)
        raise InvalidRequest("budgets.store", f"cannot use it ({type(exc).__name__})",
                             _STORES) from None
    try:
        async with asyncio.timeout(5):
            await store.check()
    except Exception as exc:  # noqa: BLE001 - unreachable, refused, unreadable: one line
        await store.aclose()
        where = f" {store.path}" if choice == "local" else ""
        raise InvalidRequest("budgets.store", f"cannot reach the {choice.split(':')[0]} store"
                             f"{where} ({type(exc).__name__})", _STORES) from None
    return store


def bulk_store(mode: str) -> Any:
    """Where bulk data (lists, rates exports) is kept between runs: ``bulk/`` in the cache
    directory (beside the local budget store) with live providers; none on the embedded
    sandbox, whose emulators start afresh on new ports each run."""
    if mode != "live":
        return None
    from router.budgets.local import default_path
    from router.sources.bulkstore import BulkStore

    return BulkStore(default_path().parent / "bulk")


def quote_cache(config: Config) -> Any:
    """With a Redis budget store, firm quotes are shared on the same server (and prefix) too;
    else ``None``: the router's in-process cache. Called once the store has been reached."""
    choice = config.budgets.get("store") or ""
    if not choice.startswith(_REDIS):
        return None
    from router.sources.sharedcache import RedisQuoteCache

    return RedisQuoteCache.from_url(choice, prefix=config.budgets.get("prefix") or "bestrate")


@contextlib.asynccontextmanager
async def open_parts(config: Config, specs: Specs, *, sandbox: bool = False,
                     notice: Callable[[str], None] = lambda _: None) -> AsyncIterator[Parts]:
    """The sources (and, on the sandbox, the emulators, for as long as the block lasts), the
    budget store, bulk store and quote cache ``config`` selects. ``notice`` is told, in one
    line, when the embedded sandbox is used and why."""
    async with _sources(config, specs, sandbox=sandbox, notice=notice) as (srcs, mode):
        bulk = bulk_store(mode)
        store = await budget_store(config, mode)
        yield Parts(sources=srcs, mode=mode, budgets=store, bulk=bulk,
                    cache=quote_cache(config), config=config)
