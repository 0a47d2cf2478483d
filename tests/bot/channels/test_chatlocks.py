"""Per-chat locks: one chat's work is in order, other chats never wait for it."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.chatlocks import ChatLocks


async def test_one_chat_is_served_in_turn_while_other_chats_go_straight_through() -> None:
    locks = ChatLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def work(address: str, name: str, wait: bool = False) -> None:
        async with locks.hold(address):
            order.append(f"{name} in")
            if wait:
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(work("chat-1", "a", wait=True))
    await asyncio.sleep(0)
    second = asyncio.create_task(work("chat-1", "b"))
    others = [asyncio.create_task(work(f"chat-{n}", f"o{n}")) for n in range(2, 200)]
    await asyncio.gather(*others)  # none waits behind chat-1, whatever its address hashes to
    assert order[:1] == ["a in"] and "b in" not in order
    release.set()
    await asyncio.gather(first, second)
    assert order.index("a out") < order.index("b in")


async def test_a_lock_is_forgotten_once_nobody_holds_or_waits_for_it() -> None:
    locks = ChatLocks()
    for n in range(1000):
        async with locks.hold(f"chat-{n}"):
            assert len(locks) == 1
    assert len(locks) == 0


async def test_a_failure_inside_releases_the_lock() -> None:
    locks = ChatLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold("chat-1"):
            raise RuntimeError("boom")
    assert len(locks) == 0
    async with locks.hold("chat-1"):
        pass


async def test_a_waiter_cancelled_while_waiting_leaves_nothing_behind() -> None:
    locks = ChatLocks()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("chat-1"):
            await release.wait()

    async def waiter() -> None:
        async with locks.hold("chat-1"):
            pass

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await held
    assert len(locks) == 0
