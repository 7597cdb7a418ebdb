"""The lifecycle every provider client and source shares.

**Client** (:class:`ProviderClient`): one credential on the router's shared
``aiohttp.ClientSession``, which it never owns and never closes. :meth:`~ProviderClient.aclose` is
idempotent; a call after it raises ``RuntimeError`` before anything is signed, spent or sent.
Provider messages reach errors short and with our credentials blanked out (:func:`adapters._http.clean`).

**Source** (:class:`ProviderSource`): built from configuration, credentials held as
:class:`~router.secret.Secret` (an empty one is a ``ConfigError`` naming the field). The router
opens it once with a :class:`~router.sources.protocol.SourceContext`: a second ``open``, or one
after ``aclose``, raises ``RuntimeError``. ``open`` takes the source's budget from the context's
registry (keyed by provider and a credential's fingerprint) and builds the client on the context's
session; the client exists only between ``open`` and ``aclose`` (:attr:`~ProviderSource.client`
raises ``RuntimeError`` otherwise). ``aclose`` is idempotent: it closes what the source owns (its
caches) in the order they were made, then the client; never the session.

**reprs** name the class, the endpoint (with any ``user:password@`` left out) and a credential's
fingerprint: never a key, a secret, a PEM or a token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import msgspec

from router.errors import ConfigError
from router.secret import Secret

from ._http import clean, decode

if TYPE_CHECKING:  # pragma: no cover
    from router.budgets import Budget, BudgetPolicy
    from router.sources.bulkstore import BulkStore, Persisted
    from router.sources.protocol import SourceContext

__all__ = ["Closeable", "Fingerprinted", "ProviderClient", "ProviderSource", "require_secret",
           "shown_url"]

T = TypeVar("T")


class Fingerprinted(Protocol):
    """Something that stands for a credential by a short irreversible id (a :class:`Secret`)."""

    @property
    def fingerprint(self) -> str: ...


class Closeable(Protocol):
    async def aclose(self) -> None: ...


_C = TypeVar("_C", bound="ProviderClient")
_O = TypeVar("_O", bound=Closeable)


def require_secret(value: Secret | str, field: str, hint: str) -> Secret:
    """``value`` as a :class:`Secret`; empty is a ``ConfigError`` on ``field`` with ``hint``."""
    secret = value if isinstance(value, Secret) else Secret(value)
    if not secret:
        raise ConfigError(field, "is empty", hint)
    return secret


def shown_url(url: str) -> str:
    """``url`` as a repr may show it: without the ``user:password@`` part, if any."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class ProviderClient:
    """One credential of one provider on a shared session; see the module docstring.

    ``identity`` is shown in the repr by its fingerprint, under ``label``; ``secrets`` are blanked
    out of provider messages. Subclasses call :meth:`_ensure_open` first thing in every call.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        budget: Budget,
        provider: str,
        endpoint: str,
        identity: Fingerprinted,
        label: str = "key",
        secrets: Iterable[Secret | str] = (),
        timeout: float = 15.0,
        budget_timeout: float | None = None,
    ) -> None:
        self._session = session
        self._budget = budget
        self.provider = provider
        self._endpoint = endpoint
        self._identity = identity
        self._label = label
        self._secrets = tuple(s for s in secrets if s)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._budget_timeout = budget_timeout
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"{type(self).__name__}({shown_url(self._endpoint)!r}, "
                f"{self._label}={self._identity.fingerprint}…, {state})")

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Refuse further calls; idempotent. The session is the caller's and stays open."""
        self._closed = True

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")

    def _decode(self, decoder: msgspec.json.Decoder[T], data: msgspec.Raw, what: str) -> T:
        return decode(decoder, data, self.provider, what)

    def _clean(self, msg: str | None) -> str:
        return clean(msg, self._secrets)


class ProviderSource(Generic[_C]):
    """A provider as a :class:`~router.sources.protocol.QuoteSource`: the lifecycle of the module
    docstring. Subclasses build their client (and own their caches) in :meth:`_connect`.

    ``identity`` is the credential whose fingerprint keys the budget.
    """

    #: the router calls :meth:`firm` (1BitPay's source, indicative only, sets False)
    firm_quotes: bool = True

    def __init__(self, *, name: str, base_url: str, policy: BudgetPolicy,
                 identity: Secret) -> None:
        self._name = name
        self._base_url = base_url.rstrip("/")
        self._policy = policy
        self._identity = identity
        self._client: _C | None = None
        self._owned: list[Closeable] = []
        self._closed = False
        self._bulk: BulkStore | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, base_url={shown_url(self._base_url)!r})"

    @property
    def name(self) -> str:
        return self._name

    @property
    def client(self) -> _C:
        """The API client; only between ``open`` and ``aclose`` (else ``RuntimeError``)."""
        if self._closed or self._client is None:
            raise RuntimeError(f"{self._name} source is {'closed' if self._closed else 'not open'}")
        return self._client

    async def open(self, ctx: SourceContext) -> None:
        if self._closed or self._client is not None:
            raise RuntimeError(f"{self._name} source can be opened once")
        budget = ctx.budgets.get(self._name, self._identity.fingerprint, self._policy)
        self._bulk = ctx.bulk
        self._client = self._connect(ctx.session, budget)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for owned in self._owned:
            await owned.aclose()
        if self._client is not None:
            await self._client.aclose()

    def _connect(self, session: aiohttp.ClientSession, budget: Budget) -> _C:
        """Build the client on ``session`` with ``budget``, and what the source keeps with it."""
        raise NotImplementedError

    def _persisted(self, name: str, type: Any = None, *,  # noqa: A002 - msgspec's word
                   encode: Callable[[Any], bytes] | None = None,
                   decode: Callable[[bytes], Any] | None = None) -> Persisted[Any] | None:
        """The disk file of bulk list ``name`` (``None`` without a bulk store): JSON of
        ``type`` by default, or the ``encode``/``decode`` given. Scoped to this endpoint and
        credential."""
        if self._bulk is None:
            return None
        if decode is None:
            decode = msgspec.json.Decoder(type, strict=False).decode
        return self._bulk.persisted(self._name, f"{self._base_url}\0{self._identity.fingerprint}",
                                    name, encode=encode or msgspec.json.encode, decode=decode)

    def _own(self, thing: _O) -> _O:
        """Close ``thing`` with the source (before the client, in the order owned)."""
        self._owned.append(thing)
        return thing
