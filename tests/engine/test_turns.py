"""Turns at the CPU (``router.steps.Turns``): about one slice of turns per loop pass (with a
slice of zero, one turn), first come first served, and a request cancelled while it waits hands
its turn on."""

from __future__ import annotations

import asyncio

import pytest

from router.steps import Turns
from tests.support.vclock import virtual_time


@virtual_time
async def test_one_turn_per_loop_pass_in_arrival_order() -> None:
    turns = Turns(slice_s=0.0)  # one turn per pass
    passes = 0
    order: list[tuple[str, int]] = []

    async def ticker() -> None:  # counts loop passes
        nonlocal passes
        while True:
            passes += 1
            await asyncio.sleep(0)

    async def request(name: str) -> None:
        await turns.turn()
        order.append((name, passes))

    tick = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    await asyncio.gather(*(request(n) for n in "abcd"))
    tick.cancel()
    assert [n for n, _ in order] == list("abcd")
    at = [p for _, p in order]
    assert all(later > earlier for earlier, later in zip(at, at[1:]))  # never two in one pass
    assert turns.waited == 3  # the first had its turn at once


@virtual_time
async def test_a_request_cancelled_while_waiting_passes_its_turn_on() -> None:
    turns = Turns(slice_s=0.0)
    done: list[str] = []

    async def request(name: str) -> None:
        await turns.turn()
        done.append(name)

    first = asyncio.ensure_future(request("a"))
    waiting = [asyncio.ensure_future(request(n)) for n in "bcd"]
    await asyncio.sleep(0)  # "a" took the turn of this pass, the others wait
    assert done == ["a"] and turns.waited == 3
    waiting[0].cancel()  # "b" gives up (its deadline)
    await asyncio.gather(first, *waiting[1:])
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
    assert done == ["a", "c", "d"]


@virtual_time
async def test_an_idle_router_takes_its_turn_without_waiting() -> None:
    turns = Turns()
    for _ in range(3):
        await turns.turn()
        await asyncio.sleep(0.01)  # the loop went idle in between
    assert turns.waited == 0


@virtual_time
async def test_a_request_cancelled_after_its_turn_came_passes_it_on() -> None:
    turns = Turns(slice_s=0.0)
    done: list[str] = []

    async def request(name: str) -> None:
        await turns.turn()
        done.append(name)

    tasks = [asyncio.ensure_future(request(n)) for n in "abc"]
    await asyncio.sleep(0)  # pass 1: "a" takes the turn, "b" and "c" wait
    await asyncio.sleep(0)  # pass 2: the turn is released and "b" is woken, not yet run
    assert done == ["a"]
    tasks[1].cancel()  # "b" is cancelled with its turn in hand
    await asyncio.gather(tasks[0], tasks[2])
    assert done == ["a", "c"] and tasks[1].cancelled()


@virtual_time
async def test_a_slice_with_room_takes_every_ready_turn_in_one_pass() -> None:
    turns = Turns(slice_s=3600.0)
    order: list[str] = []

    async def request(name: str) -> None:
        await turns.turn()
        order.append(name)

    await asyncio.gather(*(request(n) for n in "abcdefghij"))
    assert order == list("abcdefghij") and turns.waited == 0


@virtual_time
async def test_waiters_woken_without_room_keep_their_order() -> None:
    turns = Turns(slice_s=0.0)
    order: list[str] = []

    async def request(name: str) -> None:
        await turns.turn()
        order.append(name)

    names = "abcdefghijklmnopqrst"  # more than one wake-up's worth of waiters
    await asyncio.gather(*(request(n) for n in names))
    assert order == list(names)


@virtual_time
async def test_a_newcomer_queues_behind_a_waiter_already_woken() -> None:
    turns = Turns(slice_s=0.0)
    order: list[str] = []

    async def request(name: str, late: bool = False) -> None:
        if late:
            await asyncio.sleep(0)  # arrives one pass later, while "w" is woken but not yet run
        await turns.turn()
        order.append(name)

    await asyncio.gather(request("t1"), request("w"), request("n", late=True))
    assert order == ["t1", "w", "n"]
    await turns.turn()  # nothing is left waiting or woken: an idle router goes at once
    assert turns.waited == 2
