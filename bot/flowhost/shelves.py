"""Each office its own flows: one `FlowShelf` per office, all starting from the folder.

Published sources (`flow_versions`) are shared and immutable; which version is
current is each office's (`flow_current` is keyed by office). On start every
office's shelf opens from the same folder: a flow whose folder version is new (an
upgrade) becomes current in every office, otherwise each office keeps what its
admins published or rolled back to. A publish on one office's shelf changes what
that office's families hear, and nobody else's.

One office: one shelf, exactly the single shelf of before, and a family's turn
reads nothing more to find it. Offices added while the bot runs get their shelf
at the next start (until then their families hear the default office's flows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from bot.flowhost.shelf import FlowShelf
from flows.library import FlowLibrary
from storage.offices.repo import DEFAULT_OFFICE_ID
from storage.store import Store

__all__ = ["FlowShelves"]


class FlowShelves:
    """The shelves by office id; the default office's is `default`."""

    def __init__(self, shelves: dict[int, FlowShelf]) -> None:
        self._shelves = dict(shelves)

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
        for office in await store.offices.list():
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
        return cls(shelves)

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
        """The office's shelf (the default office's for an office opened since the start)."""
        return self._shelves.get(office_id, self.default)

    def library_for(self, office_id: int) -> FlowLibrary:
        return self.for_office(office_id).library

    def all(self) -> tuple[FlowShelf, ...]:
        return tuple(self._shelves.values())
