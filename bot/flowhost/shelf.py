"""The flows the bot runs on now, and how a publish in the console reaches it.

Where flows live: the bundled (or configured) folder gives the first version of
each flow, `globals.toml` and `faq.toml`; everything published is kept in the database
(`storage.flowhost.versions`, immutable) and `storage.flowhost.current` says which
version of each flow is current. On start the folder's versions are published;
one never seen before (an upgrade) becomes current, otherwise the pointer keeps
what an admin published or rolled back to. `lk3 flows check` still checks the
folder's files; the console checks an edit the same way, by loading the whole
set with the edited file in a temporary folder.

How it reaches running code: the shelf holds one immutable `FlowLibrary` and
swaps it for a new one after a publish, telling its listeners (the pipeline,
the hand-off), which read it at the start of every turn. The new library also
holds every version ever published, so a conversation that started on an old
version finishes on it while new conversations start on the new one.

    FlowSetError (flows.errors)   the edited set is invalid: every problem, with its path
    ShelfError                    a flow or version the shelf does not know
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from bot.errors import BotError
from flows.errors import FlowSetError
from flows.library import FlowLibrary
from flows.loader import FAQ_FILE, GLOBALS_FILE, load_library
from flows.sources import content_version
from storage.store import Store

__all__ = ["FlowShelf", "ShelfError"]

log = logging.getLogger(__name__)

MAX_SOURCE_CHARS = 200_000


class ShelfError(BotError):
    """A flow id or version that is not on the shelf; the message names it."""


class FlowShelf:
    """The current flow library, swapped whole on publish or rollback."""

    def __init__(
        self,
        library: FlowLibrary,
        *,
        store: Store,
        base_dir: Path,
        languages: Sequence[str],
        clock: Callable[[], datetime],
        office_id: int = 1,
    ) -> None:
        self._library = library
        self.office_id = office_id  # whose current versions this shelf points at
        self.fresh: frozenset[str] = frozenset()  # flows whose folder version was new at open
        self._store = store
        self._base_dir = base_dir
        self._languages = tuple(languages)
        self._clock = clock
        self._listeners: list[Callable[[FlowLibrary], None]] = []
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
        office_id: int = 1,
        fresh: frozenset[str] | None = None,
    ) -> FlowShelf:
        """Publishes the folder's versions and loads what the database says is current
        for `office_id`. `fresh`: the flows whose folder version another office's shelf
        found new this start (it published them); None: publish here and find out."""
        now = clock()
        pointers = await store.flow_current.current(office_id=office_id)
        folder = dict(folder_library.sources())
        if fresh is None:
            # One batch for the writer: these are independent rows.
            published = await asyncio.gather(
                *(store.flows.publish(fid, ver, src, now) for (fid, ver), src in folder.items())
            )
            fresh = frozenset(fid for (fid, _), new in zip(folder, published, strict=True) if new)
        await asyncio.gather(
            *(
                store.flow_current.set_current(fid, ver, now, office_id=office_id)
                for (fid, ver) in folder
                if fid in fresh or fid not in pointers
            )
        )
        shelf = cls(
            folder_library,
            store=store,
            base_dir=base_dir,
            languages=languages,
            clock=clock,
            office_id=office_id,
        )
        shelf.fresh = fresh
        current = await store.flow_current.current(office_id=office_id)
        as_folder = all(
            current.get(fid) == folder_library.current_version(fid)
            for fid in folder_library.flow_ids
        )
        try:
            if as_folder:  # the usual start: nothing published over the folder's files
                library = folder_library.with_archived(await store.flows.sources())
            else:
                library = await shelf._build(current)
        except FlowSetError as exc:
            # A published edit no longer fits the folder's other flows (an upgrade
            # changed them): start on the folder's files rather than not at all.
            log.warning(
                "published flows do not fit the flow folder (%d problem(s)); using the folder",
                len(exc.problems),
            )
            for flow_id in folder_library.flow_ids:
                version = folder_library.current_version(flow_id)
                await store.flow_current.set_current(flow_id, version, now, office_id=office_id)
            library = folder_library.with_archived(await store.flows.sources())
        shelf._library = library
        return shelf

    @property
    def library(self) -> FlowLibrary:
        return self._library

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def listen(self, callback: Callable[[FlowLibrary], None]) -> None:
        """`callback(library)` after every swap (the pipeline and hand-off hold a reference)."""
        self._listeners.append(callback)

    def source(self, flow_id: str) -> str:
        """The current TOML source of `flow_id`."""
        if flow_id not in self._library.flow_ids:
            raise ShelfError(f"unknown flow {flow_id!r}")
        version = self._library.current_version(flow_id)
        return self._library.sources()[(flow_id, version)]

    def check(self, flow_id: str, source: str) -> FlowLibrary:
        """The whole current set with `flow_id` replaced by `source`, loaded and checked.

        Raises FlowSetError listing every problem (file, path, message).
        """
        if flow_id not in self._library.flow_ids:
            raise ShelfError(f"unknown flow {flow_id!r}")
        sources = {f: self.source(f) for f in self._library.flow_ids}
        sources[flow_id] = source
        return self._load(sources)

    async def publish(self, flow_id: str, source: str) -> tuple[str, bool]:
        """Checks, stores and makes `source` current; (version, changed).

        `changed` is False when that exact source is already the current version.
        Raises FlowSetError (nothing is stored) when the set would be invalid.
        """
        async with self._lock:
            self.check(flow_id, source)
            version = content_version(source)
            if version == self._library.current_version(flow_id):
                return version, False
            await self._store.flows.publish(flow_id, version, source, self._clock())
            await self._store.flow_current.set_current(
                flow_id, version, self._clock(), office_id=self.office_id
            )
            await self._reload()
            return version, True

    async def make_current(self, flow_id: str, version: str) -> None:
        """Rolls `flow_id` back (or forward) to an earlier published version, if it still fits."""
        async with self._lock:
            if flow_id not in self._library.flow_ids:
                raise ShelfError(f"unknown flow {flow_id!r}")
            source = await self._store.flow_current.source(flow_id, version)
            if source is None:
                raise ShelfError(f"flow {flow_id!r} has no published version {version!r}")
            self.check(flow_id, source)
            await self._store.flow_current.set_current(
                flow_id, version, self._clock(), office_id=self.office_id
            )
            await self._reload()

    async def _reload(self) -> None:
        current = await self._store.flow_current.current(office_id=self.office_id)
        self._library = await self._build(current)
        for callback in self._listeners:
            callback(self._library)

    async def _build(self, pointers: Mapping[str, str]) -> FlowLibrary:
        sources: dict[str, str] = {}
        for flow_id in self._library.flow_ids:
            version = pointers.get(flow_id, self._library.current_version(flow_id))
            source = await self._store.flow_current.source(flow_id, version)
            sources[flow_id] = source if source is not None else self.source(flow_id)
        return self._load(sources).with_archived(await self._store.flows.sources())

    def _load(self, sources: Mapping[str, str]) -> FlowLibrary:
        globals_source = (self._base_dir / GLOBALS_FILE).read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="lk3-flows-") as folder:
            root = Path(folder)
            (root / GLOBALS_FILE).write_text(globals_source, encoding="utf-8")
            faq = self._base_dir / FAQ_FILE  # like globals.toml: edited in the folder
            if faq.is_file():
                (root / FAQ_FILE).write_text(faq.read_text(encoding="utf-8"), encoding="utf-8")
            for flow_id, source in sources.items():
                (root / f"{flow_id}.toml").write_text(source, encoding="utf-8")
            return load_library(root, languages=self._languages)
