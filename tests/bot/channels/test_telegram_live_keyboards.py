"""LiveKeyboards: what the Telegram channel remembers of each chat's live buttons."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from bot.channels.telegram.keyboards import LiveKeyboards
from storage.channels.keyboards import KeyboardRepo, LiveKeyboard


class FakeRepo:
    """The store's live keyboards in a dict, counting reads."""

    def __init__(self, live: Mapping[str, str] = {}) -> None:
        self.live_by_address: dict[str, str] = dict(live)
        self.reads = 0
        self.batch_reads: list[list[str]] = []
        self.during_batch_read: Any = None

    async def show(
        self, channel: str, address: str, message_id: str, long: Mapping[str, str], at: datetime
    ) -> LiveKeyboard | None:
        older = self.live_by_address.get(address)
        self.live_by_address[address] = message_id
        return None if older is None else LiveKeyboard(older)

    async def live(self, channel: str, address: str) -> LiveKeyboard | None:
        self.reads += 1
        found = self.live_by_address.get(address)
        return None if found is None else LiveKeyboard(found)

    async def with_live(self, channel: str, addresses: Iterable[str]) -> set[str]:
        wanted = list(addresses)
        self.batch_reads.append(wanted)
        if self.during_batch_read is not None:
            await self.during_batch_read()
        return {a for a in wanted if a in self.live_by_address}

    async def retire(
        self, channel: str, address: str, message_id: str | None = None
    ) -> LiveKeyboard | None:
        found = self.live_by_address.get(address)
        if found is None or (message_id is not None and found != message_id):
            return None
        del self.live_by_address[address]
        return LiveKeyboard(found)


def keyboards(repo: FakeRepo, known: int = 100) -> LiveKeyboards:
    return LiveKeyboards(cast(KeyboardRepo, repo), known=known)


async def test_a_chat_not_seen_since_start_up_is_read_then_known() -> None:
    repo = FakeRepo({"7": "40"})
    live = keyboards(repo)
    assert live.knows("7") is None
    assert await live.retire("7") == 40
    assert repo.reads == 1
    assert live.knows("7") is False
    # Known to have none: a typed message costs no read at all.
    assert await live.retire("7") is None
    assert repo.reads == 1


async def test_showing_a_keyboard_replaces_the_older_one() -> None:
    repo = FakeRepo()
    live = keyboards(repo)
    assert await live.show("7", 40, {}) is None
    assert live.knows("7") is True
    assert await live.show("7", 41, {}) == 40
    assert await live.retire("7") == 41
    assert repo.reads == 0


async def test_a_press_retires_only_the_keyboard_pressed() -> None:
    repo = FakeRepo()
    live = keyboards(repo)
    await live.show("7", 40, {})
    await live.pressed("7", "40")
    assert live.knows("7") is False
    assert repo.live_by_address == {}


async def test_a_batch_of_unknown_chats_costs_one_read() -> None:
    repo = FakeRepo({"1": "10"})
    live = keyboards(repo)
    await live.learn([1, 2, 3])
    assert repo.batch_reads == [["1", "2", "3"]]
    assert (live.knows("1"), live.knows("2"), live.knows("3")) == (True, False, False)
    await live.learn([1, 2])
    assert len(repo.batch_reads) == 1


async def test_a_keyboard_shown_while_a_batch_read_runs_is_not_overwritten() -> None:
    repo = FakeRepo()
    live = keyboards(repo)

    async def shown_meanwhile() -> None:
        repo.during_batch_read = None
        await live.show("5", 50, {})

    repo.during_batch_read = shown_meanwhile
    await live.learn([5])
    assert live.knows("5") is True


async def test_memory_stays_bounded_by_forgetting_what_is_known() -> None:
    repo = FakeRepo()
    live = keyboards(repo, known=2)
    for chat in ("1", "2", "3", "4"):
        live.remember(chat, False)
    assert live.knows("1") is None  # forgotten: read again when needed
    assert live.knows("4") is False


async def test_a_store_failure_on_retire_is_logged_not_raised() -> None:
    class Broken(FakeRepo):
        async def live(self, channel: str, address: str) -> LiveKeyboard | None:
            raise RuntimeError("disk")

    live = keyboards(Broken())
    assert await live.retire("9") is None
    assert live.knows("9") is None
    await asyncio.sleep(0)
