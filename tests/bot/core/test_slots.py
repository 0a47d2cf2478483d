"""PrioritySlots: a bounded number of turns at once, and a message in danger goes first."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.scheduling import (
    DEFER_AT_MOST,
    DEFER_REST,
    DEFER_SECONDS,
    PrioritySlots,
    RoutineDeferral,
)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_no_more_than_size_hold_a_slot_at_once() -> None:
    slots = PrioritySlots(3)
    holding = 0
    most = 0
    gate = asyncio.Event()

    async def work(urgent: bool) -> None:
        nonlocal holding, most
        async with slots.take(urgent=urgent):
            holding += 1
            most = max(most, holding)
            await gate.wait()
            holding -= 1

    tasks = [asyncio.create_task(work(n % 3 == 0)) for n in range(10)]
    await _settle()
    assert holding == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert most == 3 and holding == 0


async def test_urgent_waiters_overtake_routine_ones_and_each_kind_keeps_its_order() -> None:
    slots = PrioritySlots(1)
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with slots.take():
            await release.wait()

    async def work(name: str, urgent: bool) -> None:
        async with slots.take(urgent=urgent):
            order.append(name)

    holder = asyncio.create_task(first())
    await _settle()
    tasks = []
    for name, urgent in [("r1", False), ("r2", False), ("u1", True), ("r3", False), ("u2", True)]:
        tasks.append(asyncio.create_task(work(name, urgent)))
        await _settle()
    assert slots.waiting == (2, 3)
    release.set()
    await asyncio.gather(holder, *tasks)
    assert order == ["u1", "u2", "r1", "r2", "r3"]


async def test_a_routine_newcomer_does_not_jump_a_waiting_urgent_one() -> None:
    slots = PrioritySlots(1)
    order: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with slots.take():
            await release.wait()

    async def work(name: str, urgent: bool) -> None:
        async with slots.take(urgent=urgent):
            order.append(name)

    holder = asyncio.create_task(hold())
    await _settle()
    urgent = asyncio.create_task(work("u", True))
    await _settle()
    release.set()
    late = asyncio.create_task(work("r", False))  # arrives just as the slot frees
    await asyncio.gather(holder, urgent, late)
    assert order == ["u", "r"]


async def test_a_cancelled_waiter_gives_its_turn_to_the_next_and_loses_no_slot() -> None:
    slots = PrioritySlots(1)
    release = asyncio.Event()
    done: list[str] = []

    async def hold() -> None:
        async with slots.take():
            await release.wait()

    async def work(name: str, urgent: bool) -> None:
        async with slots.take(urgent=urgent):
            done.append(name)

    holder = asyncio.create_task(hold())
    await _settle()
    cancelled = asyncio.create_task(work("gone", True))
    kept = asyncio.create_task(work("kept", False))
    await _settle()
    cancelled.cancel()
    await _settle()
    release.set()
    await asyncio.gather(holder, kept)
    assert done == ["kept"]
    assert cancelled.cancelled()
    # The one slot came back: taking it again does not wait.
    taker = asyncio.create_task(work("again", False))
    await _settle()
    assert taker.done() and done == ["kept", "again"]
    assert slots.waiting == (0, 0)


async def test_an_error_inside_gives_the_slot_back() -> None:
    slots = PrioritySlots(1)
    with pytest.raises(RuntimeError):
        async with slots.take(urgent=True):
            raise RuntimeError("boom")
    async with slots.take():
        pass


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PrioritySlots(0)


def test_a_backlog_holds_routine_turns_a_moment_each_time_it_is_seen() -> None:
    hold = RoutineDeferral()
    assert hold.wait(10.0) == 0, "nothing held before any backlog"
    hold.defer(10.0)
    assert hold.wait(10.0) == pytest.approx(DEFER_SECONDS)
    hold.defer(10.2)  # another full batch: the hold is carried on
    assert hold.wait(10.2) == pytest.approx(DEFER_SECONDS)
    assert hold.wait(10.2 + DEFER_SECONDS) == 0, "no backlog seen since: routine goes on"


def test_routine_turns_are_never_held_longer_than_the_limit_and_then_rest() -> None:
    """A backlog seen every tenth of a second for a minute (a flood beyond what the
    bot can read): routine turns are held in stretches of at most DEFER_AT_MOST,
    each followed by at least DEFER_REST free, so they always go on."""
    hold = RoutineDeferral()
    step = 0.1
    stretches: list[tuple[bool, float]] = []  # (held, seconds), run-length encoded
    for n in range(600):
        now = n * step
        hold.defer(now)
        held = hold.wait(now) > 0
        if stretches and stretches[-1][0] == held:
            stretches[-1] = (held, stretches[-1][1] + step)
        else:
            stretches.append((held, step))
    assert stretches[0][0], "a backlog holds routine turns at once"
    held_stretches = [length for held, length in stretches if held]
    free_stretches = [length for held, length in stretches[:-1] if not held]
    assert len(held_stretches) > 5, "the hold comes back while the backlog lasts"
    assert max(held_stretches) <= DEFER_AT_MOST + 1e-9
    assert min(free_stretches) >= DEFER_REST - step - 1e-9
