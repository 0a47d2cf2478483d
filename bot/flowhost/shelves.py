"""Each office its own flows: one `FlowShelf` per office, all starting from the folder.

Published sources (`flow_versions`) are shared and immutable; which version is
current is each office's (`flow_current` is keyed by office). On start every
office's shelf opens from the same folder: a flow whose folder version is new (an
upgrade) becomes current in every office, otherwise each office keeps what its
admins published or rolled back to. A publish on one office's shelf changes what
that office's families hear, and nobody else's.

One office: one shelf, exactly the single shelf of before, and a family's turn
reads nothing more to find it.

An office added while the bot runs (`lk3 office add` from another shell, or by
another process on the same PostgreSQL database) gets its shelf without a restart,
the same way on both backends and in every process: `ensure` opens the shelf of an
office the database has the first time someone asks for it (its admin's flows page,
a family routed there), and `catch_up` (a turn's first step) reads the offices'
ids at most once every `CATCH_UP` seconds, so a bot that started with one office
learns that it now has several (one small read per interval, never one per turn).

A publish or a rollback made by another process (another `lk3 run` on the same
PostgreSQL database, or a second process on the same SQLite file) reaches this one
by the same read: it holds every office's pointers (`flow_current.by_office`), and
each shelf whose pointers differ from the ones it was built from reloads
(`FlowShelf.follow`), its listeners told as after a local publish. So every process
speaks an office's new words within `CATCH_UP` of its next turn; conversations on the
old version finish on it. An office's change reloads that office's shelf only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bot.flowhost.shelf import FlowShelf
from flows.library import FlowLibrary
from storage.offices.repo import DEFAULT_OFFICE_ID
from storage.store import Store

__all__ = ["CATCH_UP", "FlowShelves"]

CATCH_UP = timedelta(seconds=5)
"""How often a running bot looks for offices added since it started, and for flows another
process published (turns' clock)."""


class FlowShelves:
    """The shelves by office id; the default office's is `default`."""

    def __init__(
        self,
        shelves: dict[int, FlowShelf],
        *,
        store: Store | None = None,
        folder: FlowLibrary | None = None,
        base_dir: Path | None = None,
        languages: Sequence[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._shelves = dict(shelves)
        self._store = store
        self._folder = folder
        self._base_dir = base_dir
        self._languages = tuple(languages)
        self._clock = clock
        self._checked: datetime | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        store: Store,
        folder_library: FlowLibrary,
        *,
        base_dir: Path,
        languages: Sequence[str],
        clock: Callable[[], datetime],
    ) -> FlowShelves:
        default = await FlowShelf.open(
            store, folder_library, base_dir=base_dir, languages=languages, clock=clock
        )
        shelves = {DEFAULT_OFFICE_ID: default}
        for office in await store.offices.list(include_archived=True):
            if office.id != DEFAULT_OFFICE_ID:
                shelves[office.id] = await FlowShelf.open(
                    store,
                    folder_library,
                    base_dir=base_dir,
                    languages=languages,
                    clock=clock,
                    office_id=office.id,
                    fresh=default.fresh,
                )
        opened = cls(
            shelves,
            store=store,
            folder=folder_library,
            base_dir=base_dir,
            languages=languages,
            clock=clock,
        )
        opened._checked = clock()
        return opened

    @property
    def default(self) -> FlowShelf:
        return self._shelves[DEFAULT_OFFICE_ID]

    @property
    def several(self) -> bool:
        """Whether a turn must find its family's office to know its flows."""
        return len(self._shelves) > 1

    def has(self, office_id: int) -> bool:
        return office_id in self._shelves

    def for_office(self, office_id: int) -> FlowShelf:
        """The office's shelf (the default office's for an office not opened yet:
        `ensure` opens it)."""
        return self._shelves.get(office_id, self.default)

    def library_for(self, office_id: int) -> FlowLibrary:
        return self.for_office(office_id).library

    def all(self) -> tuple[FlowShelf, ...]:
        return tuple(self._shelves.values())

    async def ensure(self, office_id: int) -> FlowShelf | None:
        """The office's shelf, opened now if the office was added since the start; None
        for an id no office has. Nothing is read for an office already open."""
        found = self._shelves.get(office_id)
        if found is not None or self._store is None:
            return found
        async with self._lock:
            found = self._shelves.get(office_id)
            if found is None and await self._store.offices.get(office_id) is not None:
                found = self._shelves[office_id] = await self._open(office_id)
            return found

    async def catch_up(self) -> None:
        """Opens the shelves of offices added since the last look and reloads those whose
        pointers another process moved, at most once every `CATCH_UP` of the turns' clock
        (a turn's first step): one read of every office's pointers."""
        if self._store is None or self._clock is None:
            return
        now = self._clock()
        if self._checked is not None and now - self._checked < CATCH_UP:
            return
        self._checked = now
        for office_id, pointers in (await self._store.flow_current.by_office()).items():
            shelf = self._shelves.get(office_id)
            if shelf is None:
                await self.ensure(office_id)
            else:
                await shelf.follow(pointers)

    async def _open(self, office_id: int) -> FlowShelf:
        assert self._store is not None and self._folder is not None
        assert self._base_dir is not None and self._clock is not None
        # The folder's versions were published at the start: a new office's pointers all
        # start there, an office another process already gave flows keeps its own.
        return await FlowShelf.open(
            self._store,
            self._folder,
            base_dir=self._base_dir,
            languages=self._languages,
            clock=self._clock,
            office_id=office_id,
            fresh=frozenset(),
        )
