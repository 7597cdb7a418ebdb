"""Work in steps (``router/steps.py``): the same result driven straight through or on the loop,
and on the loop other tasks run between the steps."""

from __future__ import annotations

import asyncio

from router.steps import Steps, drive, drive_async
from tests.support.vclock import virtual_time


def _count(n: int, log: list[str]) -> Steps[int]:
    total = 0
    for i in range(n):
        total += i
        log.append(f"step {i}")
        yield
    return total


def test_drive_runs_every_step_and_returns_the_result() -> None:
    log: list[str] = []
    assert drive(_count(5, log)) == 10
    assert log == [f"step {i}" for i in range(5)]


@virtual_time
async def test_drive_async_lets_other_tasks_run_between_slices() -> None:
    log: list[str] = []

    async def other() -> None:
        for _ in range(3):
            log.append("other")
            await asyncio.sleep(0)

    task = asyncio.ensure_future(other())
    assert await drive_async(_count(3, log), slice_s=0.0) == 3  # a slice of zero: every step
    await task
    assert log.index("other") < log.index("step 2")  # the other task ran while the work went on
    assert log.count("other") == 3


@virtual_time
async def test_a_long_slice_runs_short_work_without_yielding() -> None:
    log: list[str] = []

    async def other() -> None:
        log.append("other")

    task = asyncio.ensure_future(other())
    assert await drive_async(_count(3, log), slice_s=3600.0) == 3
    await task
    assert log == ["step 0", "step 1", "step 2", "other"]
