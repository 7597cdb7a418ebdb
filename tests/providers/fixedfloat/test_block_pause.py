"""After FixedFloat says "too many", bestrate waits out the block before it asks again.

FixedFloat blocks an overrunning key for a while and longer at each later offence; the emulator's
first block is 60 s, doubling. A client that paused less (the old 5 s) came back while the key was
still blocked. Here a budget over-configured on purpose (300 units/min against FixedFloat's 250)
keeps overrunning for ten virtual minutes: every overrun is a new offence, and not one call may
arrive while the key is blocked.
"""

from __future__ import annotations

import asyncio
import dataclasses

from adapters.fixedfloat.constants import DEFAULT_BUDGET_POLICY
from bench.emulators.common import SlidingWindowLimiter
from bench.emulators.fixedfloat.model import BUDGET_LIMIT, BUDGET_WINDOW, FIRST_BLOCK
from router.budgets import Budget
from router.budgets.memory import MemoryBudgetStore, penalty_pause
from tests.support.vclock import virtual_time


def test_each_pause_is_no_shorter_than_the_block_it_answers() -> None:
    for offence in range(1, 7):  # 60 s, 120 s ... 32 min
        block = FIRST_BLOCK * 2 ** (offence - 1)
        assert penalty_pause(DEFAULT_BUDGET_POLICY, offence - 1, None) >= block


@virtual_time
async def test_no_call_reaches_a_blocked_key() -> None:
    loop = asyncio.get_running_loop()
    provider = SlidingWindowLimiter(BUDGET_LIMIT, BUDGET_WINDOW, FIRST_BLOCK, clock=loop.time)
    policy = dataclasses.replace(DEFAULT_BUDGET_POLICY, limit=300, margin=0.0, reserve=0,
                                 penalty_decay=10_000.0)
    budget = Budget(MemoryBudgetStore(clock=loop.time), "fixedfloat", "FP", policy)
    offences = while_blocked = granted = 0
    end = loop.time() + 600
    while loop.time() < end:
        await budget.acquire(1, timeout=3600)  # waits out our window and every pause
        decision = provider.acquire("key", 1)
        if decision.allowed:
            granted += 1
        elif decision.new_block:
            offences += 1
            await budget.penalize(None)
        else:
            while_blocked += 1
            await budget.penalize(None)
        await asyncio.sleep(0.05)  # 20 calls a second: the window fills in 12.5 s
    assert offences >= 2  # the over-configured budget did overrun, more than once
    assert while_blocked == 0
    assert granted > BUDGET_LIMIT
