"""The flows the bot runs on now, and how a publish in the console reaches it.

Where flows live: the bundled (or configured) folder gives the first version of
each flow, `globals.toml` and `faq.toml`; everything published is kept in the database
(`storage.flowhost.versions`, immutable) and `storage.flowhost.current` says which
version of each flow is current. `globals.toml` and `faq.toml` (commands, everyday
words, the FAQ's answers) are published the same way, under the ids `globals` and
`faq` (`LIBRARY_FILES`; no flow can have them: those files are never flows), so
each office's library is complete and its own: an office's admin publishing the FAQ
changes what that office's families are told, and nobody else's. On start the
folder's versions are published; one never seen before (an upgrade) becomes current
in every office, otherwise the pointer keeps what an admin published or rolled back
to. `lk3 flows check` still checks the folder's files; the console checks an edit
the same way, by loading the whole set with the edited file in a temporary folder.

How it reaches running code: the shelf holds one immutable `FlowLibrary` and
swaps it for a new one after a publish, telling its listeners (the pipeline,
the hand-off), which read it at the start of every turn. The new library also
holds every version ever published, so a conversation that started on an old
version finishes on it while new conversations start on the new one.

Several processes (or a second one on the same SQLite file): a publish moves the
office's pointers in the database, and every other process's shelf of that office
follows them (`follow`, called by `FlowShelves.catch_up` every few seconds, and by the
console's flows pages before they show anything): it reloads exactly as after a local
publish, listeners told. The shelf remembers the pointers its library was built from
(`_seen`), so a process that published itself reads nothing more and reloads nothing.

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

__all__ = ["LIBRARY_FILES", "FlowShelf", "ShelfError"]

log = logging.getLogger(__name__)

MAX_SOURCE_CHARS = 200_000

LIBRARY_FILES: dict[str, str] = {"globals": GLOBALS_FILE, "faq": FAQ_FILE}
"""The library's files that are not flows, by the id they are published under."""


def folder_files(base_dir: Path) -> dict[str, str]:
    """The folder's `globals.toml` and `faq.toml` (if it has one), by id."""
    found = {}
    for file_id, name in LIBRARY_FILES.items():
        path = base_dir / name
        if path.is_file():
            found[file_id] = path.read_text(encoding="utf-8")
    return found


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
        files: Mapping[str, str] | None = None,
    ) -> None:
        self._library = library
        # The office's current globals.toml and faq.toml, by id (`LIBRARY_FILES`).
        self._files = dict(folder_files(base_dir) if files is None else files)
        self.office_id = office_id  # whose current versions this shelf points at
        self.fresh: frozenset[str] = frozenset()  # flows whose folder version was new at open
        self._store = store
        self._base_dir = base_dir
        self._languages = tuple(languages)
        self._clock = clock
        self._listeners: list[Callable[[FlowLibrary], None]] = []
        self._lock = asyncio.Lock()
        # The office's pointers (of this shelf's flows and files) the library was built
        # from: a difference with the database's means another process moved them.
        self._seen: dict[str, str] = {}

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
        own_files = folder_files(base_dir)
        folder = dict(folder_library.sources())
        folder.update({(fid, content_version(src)): src for fid, src in own_files.items()})
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
            files=own_files,
        )
        shelf.fresh = fresh
        current = await store.flow_current.current(office_id=office_id)
        as_folder = all(current.get(fid) == ver for (fid, ver) in folder)
        try:
            if as_folder:  # the usual start: nothing published over the folder's files
                library = folder_library.with_archived(await _archived(store))
            else:
                library = await shelf._build(current)
        except FlowSetError as exc:
            # A published edit no longer fits the folder's other flows (an upgrade
            # changed them): start on the folder's files rather than not at all.
            log.warning(
                "published flows do not fit the flow folder (%d problem(s)); using the folder",
                len(exc.problems),
            )
            for flow_id, version in folder:
                await store.flow_current.set_current(flow_id, version, now, office_id=office_id)
            shelf._files = own_files
            library = folder_library.with_archived(await _archived(store))
            current = {fid: ver for (fid, ver) in folder}
        shelf._library = library
        shelf._seen = shelf._own(current)
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

    def file_source(self, file_id: str) -> str:
        """The current source of `globals` or `faq` (`LIBRARY_FILES`) in this office."""
        if file_id not in self._files:
            raise ShelfError(f"unknown library file {file_id!r}")
        return self._files[file_id]

    @property
    def file_ids(self) -> tuple[str, ...]:
        return tuple(f for f in LIBRARY_FILES if f in self._files)

    def check_file(self, file_id: str, source: str) -> FlowLibrary:
        """The whole current set with `globals.toml` or `faq.toml` replaced by `source`,
        loaded and checked; FlowSetError lists every problem."""
        files = dict(self._files)
        if file_id not in files:
            raise ShelfError(f"unknown library file {file_id!r}")
        files[file_id] = source
        return self._load({f: self.source(f) for f in self._library.flow_ids}, files)

    async def publish_file(self, file_id: str, source: str) -> tuple[str, bool]:
        """Checks, stores and makes `source` this office's `globals.toml` or `faq.toml`;
        (version, changed). Raises FlowSetError (nothing stored) when the set would be
        invalid."""
        async with self._lock:
            checked = self.check_file(file_id, source)
            version = content_version(source)
            if source == self._files[file_id]:
                return version, False
            await self._store.flows.publish(file_id, version, source, self._clock())
            await self._store.flow_current.set_current(
                file_id, version, self._clock(), office_id=self.office_id
            )
            self._files[file_id] = source
            self._seen[file_id] = version
            self._library = checked.with_archived(await _archived(self._store))
            for callback in self._listeners:
                callback(self._library)
            return version, True

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

    def behind(self, pointers: Mapping[str, str]) -> bool:
        """Whether the office's pointers as the database has them (`pointers`) differ from
        the ones this shelf's library was built from: another process published, or
        rolled back. Pointers of flows this process does not know are left out."""
        return self._own(pointers) != self._seen

    async def follow(self, pointers: Mapping[str, str]) -> bool:
        """Reloads the shelf when another process moved the office's pointers (`pointers`,
        read a moment ago), telling the listeners as after a local publish; True if it
        did. Nothing is read when `pointers` are the ones the shelf holds.

        Conversations on the version before finish on it (the new library holds every
        published version). A set that does not load here (a process running older code
        than the one that published) is logged and kept as it was until the pointers move
        again, rather than tried every few seconds."""
        if not self.behind(pointers):
            return False
        async with self._lock:
            # Read again under the lock: a local publish may have moved them meanwhile.
            current = await self._store.flow_current.current(office_id=self.office_id)
            if not self.behind(current):
                return False
            try:
                await self._reload(current)
            except FlowSetError as exc:
                log.warning(
                    "office %d: flows published elsewhere do not load here (%d problem(s));"
                    " keeping the ones before",
                    self.office_id,
                    len(exc.problems),
                )
                self._seen = self._own(current)
                return False
            log.info("office %d: flows published by another process loaded", self.office_id)
            return True

    async def refresh(self) -> bool:
        """`follow` the office's pointers as they are now (one small read): a console page
        about to show or edit this office's flows."""
        return await self.follow(await self._store.flow_current.current(office_id=self.office_id))

    def _own(self, pointers: Mapping[str, str]) -> dict[str, str]:
        """The pointers of this shelf's flows and files."""
        flow_ids = set(self._library.flow_ids)
        return {k: v for k, v in pointers.items() if k in flow_ids or k in self._files}

    async def _reload(self, current: Mapping[str, str] | None = None) -> None:
        if current is None:
            current = await self._store.flow_current.current(office_id=self.office_id)
        self._library = await self._build(current)
        self._seen = self._own(current)
        for callback in self._listeners:
            callback(self._library)

    async def _build(self, pointers: Mapping[str, str]) -> FlowLibrary:
        sources: dict[str, str] = {}
        for flow_id in self._library.flow_ids:
            version = pointers.get(flow_id, self._library.current_version(flow_id))
            source = await self._store.flow_current.source(flow_id, version)
            sources[flow_id] = source if source is not None else self.source(flow_id)
        files = dict(self._files)
        for file_id, current in self._files.items():
            version = pointers.get(file_id, content_version(current))
            source = await self._store.flow_current.source(file_id, version)
            files[file_id] = source if source is not None else current
        library = self._load(sources, files).with_archived(await _archived(self._store))
        self._files = files
        return library

    def _load(
        self, sources: Mapping[str, str], files: Mapping[str, str] | None = None
    ) -> FlowLibrary:
        with tempfile.TemporaryDirectory(prefix="lk3-flows-") as folder:
            root = Path(folder)
            for file_id, text in (self._files if files is None else files).items():
                (root / LIBRARY_FILES[file_id]).write_text(text, encoding="utf-8")
            for flow_id, source in sources.items():
                (root / f"{flow_id}.toml").write_text(source, encoding="utf-8")
            return load_library(root, languages=self._languages)


async def _archived(store: Store) -> list[str]:
    """Every published flow source (older versions a conversation may still be on), the
    library's own files left out."""
    return await store.flows.sources(leaving_out=tuple(LIBRARY_FILES))
