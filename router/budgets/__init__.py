"""Rate-limit budgets for provider APIs: exact, cost-weighted, with margin, reserve and penalty.

Strategy apart from storage: a :class:`Budget` (one provider credential) decides how long to
wait and what to raise; a :class:`BudgetStore` does each check-and-consume atomically and owns
the clock. :class:`MemoryBudgetStore` serves one process; :class:`LocalBudgetStore` (one SQLite
file, one transaction per operation) every process on one machine; :class:`RedisBudgetStore`
(one Lua script per operation, Redis's own clock) several machines. All three have the same
semantics.
:class:`BudgetRegistry` hands out one ``Budget`` per key on a shared store.

Usage::

    budget = registry.get("fixedfloat", secret.fingerprint, BudgetPolicy(limit=250, reserve=50))
    await budget.acquire(1)                  # may wait until budget_deadline, else raises
    await budget.acquire(1, reserved=True)   # order creation may use the reserve
    await budget.penalize(retry_after)       # the provider answered "too many"
"""

from __future__ import annotations

from router.budgets.budget import Budget, BudgetRegistry, budget_deadline
from router.budgets.local import LocalBudgetStore
from router.budgets.memory import MemoryBudgetStore
from router.budgets.policy import (
    BudgetPolicy,
    BudgetStore,
    BudgetUsage,
    Decision,
    DecisionReason,
)
from router.budgets.redis import RedisBudgetStore

__all__ = [
    "Budget",
    "BudgetPolicy",
    "BudgetRegistry",
    "BudgetStore",
    "BudgetUsage",
    "Decision",
    "DecisionReason",
    "LocalBudgetStore",
    "MemoryBudgetStore",
    "RedisBudgetStore",
    "budget_deadline",
]
