"""The one error tree of bestrate.

::

    BestrateError                      root of everything bestrate raises
    ├── InvalidRequest                 bad input from the caller (also a ValueError);
    │   │                              carries ``field`` and ``allowed``
    │   └── ConfigError                malformed configuration (file or environment)
    └── ProviderError                  something a provider did; carries provider/status/code
        ├── PermanentError             retrying the same call will not help
        │   ├── Rejected               the provider refused the request (reason provider_error)
        │   ├── AuthError              bad key or signature on our side (reason auth_failed)
        │   ├── UnsupportedPair        the provider does not convert this pair
        │   ├── AmountOutOfRange       below the minimum / above the maximum (limit_min, limit_max)
        │   ├── SignatureInvalid       the provider's *response* failed verification
        │   └── MalformedResponse      the answer could not be decoded or is impossible
        └── TransientError             the same call may succeed later
            ├── ProviderUnavailable    5xx, connection failure, maintenance, offline currency
            ├── ProviderTimeout        no answer in time
            ├── RateLimited            the provider said "too many"; ``retry_after`` seconds
            │   └── BudgetExhausted    our own budget for that provider is spent; ``retry_after``
            └── ProviderUnhealthy      its circuit is open (:mod:`router.sources.health`); not called;
                                       ``retry_after`` until it may be tried again

Every ``ProviderError`` has a class-level ``reason``: the machine-readable string that the router
puts in ``RouteSet.unavailable``. The router decides what to do from the class alone, never from
message text. Messages never contain secrets: adapters build them from codes and field names only.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "AmountOutOfRange",
    "AuthError",
    "BestrateError",
    "BudgetExhausted",
    "ConfigError",
    "InvalidRequest",
    "MalformedResponse",
    "PermanentError",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "ProviderUnhealthy",
    "RateLimited",
    "Rejected",
    "SignatureInvalid",
    "TransientError",
    "UnsupportedPair",
]


class BestrateError(Exception):
    """Root of every error bestrate raises."""


class InvalidRequest(BestrateError, ValueError):
    """Bad input: names the offending ``field`` and what is ``allowed``."""

    def __init__(self, field: str, problem: str, allowed: str = "") -> None:
        self.field = field
        self.problem = problem
        self.allowed = allowed
        text = f"{field}: {problem}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class ConfigError(InvalidRequest):
    """Malformed configuration; ``field`` is the dotted key or environment variable."""


class ProviderError(BestrateError):
    """Something a provider did or failed to do."""

    reason: str = "provider_error"

    def __init__(
        self,
        provider: str,
        message: str = "",
        *,
        status: int | None = None,
        code: int | str | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.code = code
        self.message = message
        parts = [provider, self.reason]
        if code is not None:
            parts.append(f"code={code}")
        if status is not None:
            parts.append(f"http={status}")
        if message:
            parts.append(message)
        super().__init__(": ".join(parts[:1]) + " " + " ".join(parts[1:]))

    @property
    def detail(self) -> str:
        """Human-readable detail for ``Unavailable.detail``."""
        bits = []
        if self.message:
            bits.append(self.message)
        if self.code is not None:
            bits.append(f"code {self.code}")
        if self.status is not None:
            bits.append(f"HTTP {self.status}")
        return "; ".join(bits)


class PermanentError(ProviderError):
    """Retrying the same call will not help."""


class Rejected(PermanentError):
    reason = "provider_error"


class AuthError(PermanentError):
    reason = "auth_failed"


class UnsupportedPair(PermanentError):
    reason = "unsupported_pair"


class AmountOutOfRange(PermanentError):
    """The amount is outside the provider's limits; ``limit`` is in ``asset`` units."""

    def __init__(
        self,
        provider: str,
        message: str = "",
        *,
        below_min: bool,
        limit: Decimal | None = None,
        asset: str | None = None,
        status: int | None = None,
        code: int | str | None = None,
    ) -> None:
        self.below_min = below_min
        self.limit = limit
        self.asset = asset
        super().__init__(provider, message, status=status, code=code)

    @property
    def reason(self) -> str:  # type: ignore[override]
        return "limit_min" if self.below_min else "limit_max"


class SignatureInvalid(PermanentError):
    reason = "signature_invalid"


class MalformedResponse(PermanentError):
    reason = "provider_error"


class TransientError(ProviderError):
    """The same call may succeed later."""


class ProviderUnavailable(TransientError):
    reason = "provider_error"


class ProviderTimeout(TransientError):
    reason = "timeout"


class RateLimited(TransientError):
    """The provider answered "too many"; the budget is paused for ``retry_after`` seconds."""

    reason = "rate_limited"

    def __init__(
        self,
        provider: str,
        message: str = "",
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: int | str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(provider, message, status=status, code=code)


class BudgetExhausted(RateLimited):
    """Our own budget for this provider and credential is spent until ``retry_after``."""

    reason = "budget_exhausted"


class BudgetStoreUnavailable(TransientError):
    """bestrate's own budget store (a local file, Redis) could not answer, so a call that needs a
    grant was not made: the store's failure, never the provider's (breakers do not count it)."""

    reason = "budget_store_unavailable"


class ProviderUnhealthy(TransientError):
    """The provider's circuit is open: the router skipped it; try again in ``retry_after``."""

    reason = "provider_unhealthy"

    def __init__(self, provider: str, message: str = "", *,
                 retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(provider, message)
