"""Provider health: one circuit breaker per provider, so a failing provider is skipped at once.

::

    closed ──(threshold consecutive failures within window)──▶ open
      ▲                                                          │ cooldown elapses
      │ success                                                  ▼
      └──────────────────────────── half-open (one probe) ◀──────┘
                                        │ failure: open again, cooldown doubled (up to max)

* **Consecutive** failures are failures of calls that each *started* after the previous failure
  was recorded: twenty quotes waiting on the same stalled call are one piece of evidence, not
  twenty.
* **Failures** are what say the provider is not working: transient errors (5xx, connection
  trouble, timeouts, including a call still outstanding at a quote's deadline), answers that
  cannot be decoded, fail their signature or are implausible (:mod:`router.snapshot.screening`).
  Answers that show a working provider (a quote, a limit, "unsupported pair") are successes.
  "Too many" and our own budget are the budgets' business, not health, and a bad key is reported
  as ``auth_failed`` every time rather than hidden behind an open circuit: both are neutral.
* **While open** the router does not call the provider and reports it as ``provider_unhealthy``
  with ``retry_after`` = the seconds until the circuit half-opens.
* **Half-open** admits one probe (one quote call's use of the provider); the others are still
  skipped. The probe's first outcome closes or re-opens the circuit; a probe that ends without
  an outcome (the provider was not needed after all) hands the probe to the next caller.

There is no timer and no polling: states move on when they are looked at, by the injected
``clock`` (the running loop's ``time()`` by default, so tests can patch the loop clock).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from router.errors import (
    AuthError,
    BudgetStoreUnavailable,
    MalformedResponse,
    ProviderError,
    ProviderUnhealthy,
    RateLimited,
    SignatureInvalid,
    TransientError,
)
from router.model import Unavailable

__all__ = ["Admission", "Breaker", "BreakerPolicy", "Health", "State", "counts_as_failure"]

State = Literal["closed", "open", "half_open"]


def counts_as_failure(exc: BaseException) -> bool | None:
    """``True``: a health failure; ``False``: the provider answered (a success); ``None``:
    neutral (budgets, bad credentials, ``provider_unhealthy`` itself)."""
    if isinstance(exc, (RateLimited, AuthError, ProviderUnhealthy, BudgetStoreUnavailable)):
        return None
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, (MalformedResponse, SignatureInvalid)):
        return True
    if isinstance(exc, ProviderError):
        return False  # a permanent, well-formed refusal: the provider works
    return True  # a source's own bug: as good as a failure


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """``threshold`` consecutive failures, each within ``window`` seconds of the last, open the
    circuit for ``cooldown`` seconds; every failed probe doubles that, up to ``max_cooldown``."""

    threshold: int = 5
    window: float = 30.0
    cooldown: float = 5.0
    max_cooldown: float = 120.0

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.window <= 0 or self.cooldown <= 0 \
                or self.max_cooldown < self.cooldown:
            raise ValueError("BreakerPolicy: threshold >= 1, window > 0, "
                             "0 < cooldown <= max_cooldown")


@dataclass(frozen=True, slots=True)
class Admission:
    """May a call use the provider now? ``probe``: this caller holds the half-open probe and
    must :meth:`Breaker.release` it if it ends without reporting an outcome."""

    allowed: bool
    probe: bool = False
    retry_after: float | None = None


class Breaker:
    """The circuit of one provider (see the module docstring). Not thread-safe; one loop."""

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self._clock = clock
        self._state: State = "closed"
        self._failures: deque[float] = deque()
        self._open_until = 0.0
        self._cooldown = policy.cooldown
        self._probing = False
        self._last_failure = -math.inf
        self.opened = 0  # how many times the circuit opened (for reports)

    def __repr__(self) -> str:
        return f"Breaker(state={self.state!r}, failures={len(self._failures)})"

    @property
    def state(self) -> State:
        if self._state == "open" and self._clock() >= self._open_until:
            self._state, self._probing = "half_open", False
        return self._state

    def admit(self) -> Admission:
        state = self.state
        if state == "closed":
            return Admission(True)
        if state == "half_open" and not self._probing:
            self._probing = True
            return Admission(True, probe=True)
        wait = max(0.0, self._open_until - self._clock()) if state == "open" else None
        return Admission(False, retry_after=None if wait is None else round(wait, 3))

    def release(self) -> None:
        """A probe ended without an outcome: the next caller may probe."""
        if self._state == "half_open":
            self._probing = False

    def success(self) -> None:
        state = self.state
        if state == "open":
            return  # a late answer to a call made before the circuit opened
        self._failures.clear()
        if state == "half_open":
            self._state, self._probing, self._cooldown = "closed", False, self.policy.cooldown

    def failure(self, started: float | None = None) -> None:
        """A call failed; ``started``: when it began (a call begun before the last recorded
        failure was already under way when that one struck: it adds nothing)."""
        state = self.state
        now = self._clock()
        if state == "open":
            return
        if started is not None and started < self._last_failure:
            return
        self._last_failure = now
        if state == "half_open":
            self._cooldown = min(self._cooldown * 2, self.policy.max_cooldown)
            self._trip(now)
            return
        failures = self._failures
        if failures and now - failures[-1] > self.policy.window:
            failures.clear()
        failures.append(now)
        if len(failures) >= self.policy.threshold:
            self._trip(now)

    def record(self, exc: BaseException | None, started: float | None = None) -> None:
        """Record the outcome of one call begun at ``started``: ``None`` for an answer, else
        what it raised."""
        verdict = False if exc is None else counts_as_failure(exc)
        if verdict is True:
            self.failure(started)
        elif verdict is False:
            self.success()

    def _trip(self, now: float) -> None:
        self._state, self._probing = "open", False
        self._open_until = now + self._cooldown
        self._failures.clear()
        self.opened += 1


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class Health:
    """One :class:`Breaker` per provider name, created on first use."""

    def __init__(self, policy: BreakerPolicy | None = None, *,
                 clock: Callable[[], float] | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock or _loop_time
        self._breakers: dict[str, Breaker] = {}

    def __repr__(self) -> str:
        return f"Health({ {n: b.state for n, b in self._breakers.items()} })"

    def now(self) -> float:
        """The breakers' clock (what ``started`` arguments are measured on)."""
        return self._clock()

    def breaker(self, provider: str) -> Breaker:
        found = self._breakers.get(provider)
        if found is None:
            found = self._breakers[provider] = Breaker(self.policy, self._clock)
        return found

    def admit_all(self, names: Iterable[str]) -> tuple[list[str], list[Unavailable], list[str]]:
        """For one quote: the providers it may call, a ``provider_unhealthy`` entry for each it
        may not, and those it holds the half-open probe of (:meth:`release_all` them after)."""
        allowed: list[str] = []
        skipped: list[Unavailable] = []
        probes: list[str] = []
        for name in names:
            admission = self.breaker(name).admit()
            if not admission.allowed:
                opened = admission.retry_after is not None
                skipped.append(Unavailable(
                    provider=name, reason="provider_unhealthy", retry_after=admission.retry_after,
                    detail="skipped: repeated failures opened its circuit" if opened
                    else "skipped: a probe call is under way"))
                continue
            if admission.probe:
                probes.append(name)
            allowed.append(name)
        return allowed, skipped, probes

    def release_all(self, probes: Iterable[str]) -> None:
        for name in probes:
            self.breaker(name).release()

    def states(self) -> dict[str, State]:
        return {name: b.state for name, b in self._breakers.items()}

    def score(self, provider: str) -> float:
        """1.0 healthy … 0.0 open: a tie-breaker input (closed circuits lose a share per recent
        consecutive failure)."""
        b = self._breakers.get(provider)
        if b is None:
            return 1.0
        state = b.state
        if state == "open":
            return 0.0
        if state == "half_open":
            return 0.25
        return 1.0 - 0.5 * len(b._failures) / b.policy.threshold
