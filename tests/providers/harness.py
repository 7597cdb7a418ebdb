"""What the provider client tests share: a canned answer, a scripted aiohttp server, a recording
budget, and the :class:`Harness` each provider fills in for ``tests/providers/test_clients.py``.

Each ``tests/providers/<p>/canned.py`` builds its fake server on :class:`ScriptedServer` and
describes its client as one ``HARNESS``: how to build it, which calls to make, and the canned
answers of every generic case (success, 5xx, 429, auth failure, malformed, slow). Helpers only, no
tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from router.budgets import BudgetRegistry
from router.errors import ProviderError
from router.sources.protocol import QuoteSource, SourceContext


@dataclass
class Canned:
    """One scripted answer."""

    body: bytes | str | dict[str, Any] | list[Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def raw(self) -> bytes:
        """The body as sent: a dict or list as JSON, a str as UTF-8."""
        body = self.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        return body.encode() if isinstance(body, str) else body


def canned(body: Any, *, status: int = 200, headers: dict[str, str] | None = None,
           delay: float = 0.0, signed: bool = True) -> Canned:
    """A :class:`Canned` for :attr:`Harness.canned`, where nothing is signed (``signed`` is
    ignored)."""
    return Canned(body, status, headers or {}, delay)


class ScriptedServer:
    """An aiohttp :class:`TestServer` on ``app``; subclasses route requests, record them in
    ``requests`` and pick the :class:`Canned` answer from ``script``. ``async with`` starts and
    closes it."""

    script: dict[str, Any]
    requests: list[Any]

    def __init__(self, app: web.Application, **server: Any) -> None:
        self.server = TestServer(app, **server)

    async def answer(self, canned: Canned) -> web.Response:
        """``canned`` as a response, after its ``delay``."""
        if canned.delay:
            await asyncio.sleep(canned.delay)
        raw = canned.raw()
        return web.Response(status=canned.status, body=raw, headers=self.headers(canned, raw),
                            content_type="application/json")

    def headers(self, canned: Canned, raw: bytes) -> dict[str, str]:
        """The response headers of ``canned`` (a provider that signs its answers adds here)."""
        return dict(canned.headers)

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/")).rstrip("/")

    async def __aenter__(self) -> Self:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()


S = TypeVar("S", bound=ScriptedServer)


def started(make: Callable[[], S]) -> Any:
    """A pytest fixture: a started ``make()`` server for the test, closed after it."""

    @pytest.fixture
    async def fake() -> AsyncIterator[S]:
        async with make() as server:
            yield server

    return fake


Q = TypeVar("Q", bound=QuoteSource)


@contextlib.asynccontextmanager
async def opened(source: Q, session: aiohttp.ClientSession) -> AsyncIterator[Q]:
    """``source`` opened on ``session`` with a budget registry of its own; both closed after."""
    registry = BudgetRegistry()
    await source.open(SourceContext(session, registry))
    try:
        yield source
    finally:
        await source.aclose()
        await registry.aclose()


class RecordingBudget:
    """Stands in for router.budgets.Budget: records acquire/penalize calls."""

    def __init__(self) -> None:
        self.acquired: list[tuple[int, bool]] = []
        self.penalties: list[float | None] = []

    async def acquire(self, cost: int = 1, *, reserved: bool = False,
                      timeout: float | None = None) -> None:
        self.acquired.append((cost, reserved))

    async def penalize(self, retry_after: float | None = None) -> float:
        self.penalties.append(retry_after)
        return 5.0


def assert_no_secret(secrets: tuple[str, ...], *things: object) -> None:
    """None of ``secrets`` shows in the ``str`` or ``repr`` of any of ``things``."""
    for thing in things:
        for text in (str(thing), repr(thing)):
            for secret in secrets:
                assert secret not in text, f"a credential shows in {type(thing).__name__}"


# -- the harness --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One client call the generic suite makes, and the fake's script key that answers it."""

    name: str
    key: str
    invoke: Callable[[Any], Awaitable[Any]]
    #: ``data`` of a valid answer.
    data: Any
    #: What one call takes from the budget: (units, from the reserve), as the constants say.
    cost: tuple[int, bool]
    #: ``data`` variants the client must refuse as MalformedResponse, by what is wrong.
    malformed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """A canned answer and the exact error class (and ``code``) it must raise."""

    id: str
    canned: Canned
    cls: type[ProviderError]
    code: int | str | None = None


@dataclass(frozen=True)
class TooMany:
    """A "too many requests" answer and the ``retry_after`` it must carry."""

    id: str
    canned: Canned
    retry_after: float | None


@dataclass(frozen=True)
class Harness:
    """One provider's client, as the generic suite drives it."""

    name: str
    #: A new, not yet started fake server (a :class:`ScriptedServer`).
    fake: Callable[[], ScriptedServer]
    #: ``client(base_url, session, budget, timeout)``: the client, built with the test's
    #: credentials.
    client: Callable[[str, aiohttp.ClientSession, Any, float], Any]
    #: ``canned(body, status=, headers=, delay=, signed=)``: the provider's :class:`Canned`;
    #: ``signed=False`` for what no provider signs (a gateway's page, a plain-text 429).
    canned: Callable[..., Canned]
    #: Wraps ``data`` in the provider's success envelope.
    ok: Callable[[Any], Any]
    calls: tuple[Call, ...]
    #: An envelope that lacks what says success or failure (its code or status).
    no_code: Any
    #: A success envelope at an HTTP status the client must not trust (3xx/4xx).
    odd_status: int
    #: The provider's envelope on an HTTP 429.
    too_many_body: Any
    #: The provider's error table: envelope codes (or statuses) and what each raises.
    error_codes: tuple[Row, ...]
    #: An error answer whose message carries every credential, and what it raises.
    leak: Row
    #: What the error then says: the provider's message with the credentials blanked out.
    leak_shows: str
    #: Every credential string that must never be shown.
    secrets: tuple[str, ...]
    #: The source's credential fields (configuration names) and test values.
    credentials: Mapping[str, str]
    #: ``source(*credential values, base_url=)``: the provider's QuoteSource.
    source: Callable[..., Any]
    #: The credential a budget is kept per, and the documented budget limit.
    identity: str
    budget_limit: int
    #: More "too many" answers of this provider (a rate-limit envelope code, unsigned ones).
    too_many: tuple[TooMany, ...] = ()
    #: More answers the client must refuse, whichever call: provider-specific envelopes.
    failures: tuple[Row, ...] = ()
