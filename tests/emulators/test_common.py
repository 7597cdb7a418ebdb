"""The emulators' shared parts: the one window limiter (blocking and plain-throttle modes)."""

from __future__ import annotations

from bench.emulators.common import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_window_refuses_without_blocking_and_says_when_the_call_fits() -> None:
    clock = Clock()
    w = SlidingWindowLimiter(3, 60.0, None, clock)
    assert w.acquire("k", 1).allowed
    clock.now = 10
    assert w.acquire("k", 2).allowed
    refused = w.acquire("k", 1)
    assert not refused.allowed and not refused.new_block
    assert refused.blocked_until == 60  # the unit booked at t=0 leaves the window
    assert w.acquire("k", 3).blocked_until == 70  # needs the t=10 units as well
    assert w.acquire("k", 4).blocked_until == 70  # more than the limit: a whole window from now
    assert w.used("k") == 3  # refusals book nothing
    clock.now = 60
    assert w.acquire("k", 1).allowed  # no block was imposed


def test_blocking_window_blocks_longer_at_each_offence() -> None:
    clock = Clock()
    w = SlidingWindowLimiter(1, 60.0, 10.0, clock)
    assert w.acquire("k", 1).allowed
    first = w.acquire("k", 1)
    assert not first.allowed and first.new_block and first.blocked_until == 10
    clock.now = 61
    assert w.acquire("k", 1).allowed
    second = w.acquire("k", 1)
    assert second.new_block and second.blocked_until == 61 + 20
