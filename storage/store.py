"""The store: one object that opens, migrates, unlocks and closes the database.

Open order: writer connection (WAL), the commit mark's check (committed work
missing?), migrations, master-key check, one counted commit (the database is
writable), then the write queue and the readers. Anything that fails on the way
closes what was opened, so a wrong key never leaves a thread behind to hang
interpreter exit; what SQLite or the file system refused is said in one line
that names the file (`storage.engine.openfail`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol

import aiosqlite

from storage.booking.repo import BookingRepo
from storage.channels.keyboards import KeyboardRepo
from storage.channels.webchat import WebChatRepo
from storage.channels.whatsapp import WhatsAppRepo
from storage.console.cases import ConsoleCaseRepo
from storage.console.office import ConsoleOfficeRepo
from storage.console.repo import ConsoleRepo
from storage.console.staff import StaffRepo
from storage.console.throttle import LoginThrottleRepo
from storage.conversation.contacts import ContactRepo
from storage.conversation.delivery import DeliveryRepo
from storage.conversation.inbox import InboxRepo
from storage.conversation.outbox import OutboxRepo
from storage.conversation.sessions import SessionRepo
from storage.conversation.turns import TurnRepo
from storage.crypto.keys import KeyRing
from storage.crypto.keytree import default_tree_path
from storage.crypto.rotation import KeyRotation
from storage.crypto.vault import Vault
from storage.engine.clock import to_micros, utc_now
from storage.engine.commits import CommitMark, check_database_against_mark, recorded_mark
from storage.engine.db import Readers, Tx, Writer, WriteStats, connect
from storage.engine.migrations import apply_migrations
from storage.engine.openfail import open_failure
from storage.engine.pglive import ChangeListener
from storage.engine.pgstore import open_postgres
from storage.errors import StorageFaultError
from storage.figures.caserows import CaseRowRepo
from storage.figures.hooks import WebhookRepo
from storage.figures.tokens import ApiTokenRepo
from storage.flowhost.current import FlowCurrentRepo
from storage.flowhost.missed import MissedRepo
from storage.flowhost.ratings import RatingRepo
from storage.flowhost.versions import FlowVersionRepo
from storage.handoff.cases import CaseRepo
from storage.handoff.referrals import ReferralRepo
from storage.handoff.repo import HandoffRepo
from storage.handoff.roster import RosterRepo
from storage.media.relays import RelayRepo
from storage.media.repo import MediaRepo
from storage.monitoring.repo import MonitoringRepo
from storage.offices.repo import OfficeRepo
from storage.privacy.audit import AuditRepo
from storage.privacy.consents import ConsentRepo
from storage.privacy.erasure import ErasureRepo
from storage.privacy.repo import PrivacyRepo
from storage.safety.labels import SafetyLabelRepo

__all__ = ["Store"]

DEFAULT_READERS = 2
# A probe writes this much and takes it back: room for a few turns, not just one page.
PROBE_BYTES = 64 * 1024


class _Closing(Protocol):
    """The writer's connection (aiosqlite's or asyncpg's): all the store does is close it."""

    async def close(self) -> None: ...


class Store:
    """The database behind repositories; nothing outside `storage` issues SQL."""

    contacts: ContactRepo
    inbox: InboxRepo
    outbox: OutboxRepo
    sessions: SessionRepo
    turns: TurnRepo
    cases: CaseRepo
    flows: FlowVersionRepo
    consents: ConsentRepo
    staff: StaffRepo
    bookings: BookingRepo
    audit: AuditRepo
    privacy: PrivacyRepo
    erasure: ErasureRepo
    rotation: KeyRotation
    keyboards: KeyboardRepo
    handoff: HandoffRepo
    roster: RosterRepo
    deliveries: DeliveryRepo
    whatsapp: WhatsAppRepo
    console: ConsoleRepo
    console_cases: ConsoleCaseRepo
    flow_current: FlowCurrentRepo
    office: ConsoleOfficeRepo
    ratings: RatingRepo
    webchat: WebChatRepo
    safety_labels: SafetyLabelRepo
    missed: MissedRepo
    media: MediaRepo
    relays: RelayRepo
    login_throttle: LoginThrottleRepo
    referrals: ReferralRepo
    webhooks: WebhookRepo
    api_tokens: ApiTokenRepo
    case_rows: CaseRowRepo
    offices: OfficeRepo

    def __init__(
        self,
        path: Path,
        writer_conn: _Closing,
        writer: Writer,
        readers: Readers,
        vault: Vault,
        clock: Callable[[], datetime],
        mark: CommitMark | None = None,
        url: str | None = None,
    ) -> None:
        self.path = path
        self.url = url  # the PostgreSQL database's, None on SQLite
        self._writer_conn = writer_conn
        self._writer = writer
        self._readers = readers
        self._vault = vault
        self._clock = clock
        self._mark = mark
        self._closed = False
        self.contacts = ContactRepo(readers, writer, vault)
        self.inbox = InboxRepo(readers, vault)
        self.outbox = OutboxRepo(readers, writer, vault, clock)
        self.sessions = SessionRepo(readers, vault)
        self.turns = TurnRepo(writer, clock)
        self.cases = CaseRepo(readers)
        self.flows = FlowVersionRepo(readers, writer)
        self.consents = ConsentRepo(readers)
        self.staff = StaffRepo(readers, writer)
        self.bookings = BookingRepo(readers, writer, vault)
        self.audit = AuditRepo(readers, writer, vault, clock)
        self.privacy = PrivacyRepo(readers, writer, vault, clock)
        self.erasure = ErasureRepo(readers, writer, vault, clock)
        self.rotation = KeyRotation(readers, writer, vault, clock)
        self.keyboards = KeyboardRepo(readers, writer, vault)
        self.handoff = HandoffRepo(readers, writer, vault)
        self.roster = RosterRepo(readers, writer)
        self.deliveries = DeliveryRepo(readers, writer)
        self.whatsapp = WhatsAppRepo(readers, writer)
        self.console = ConsoleRepo(readers, writer, vault, clock)
        self.console_cases = ConsoleCaseRepo(readers, vault)
        self.flow_current = FlowCurrentRepo(readers, writer)
        self.office = ConsoleOfficeRepo(readers, writer)
        self.ratings = RatingRepo(readers)
        self.webchat = WebChatRepo(readers, writer, vault, clock)
        self.safety_labels = SafetyLabelRepo(readers, writer, vault, clock)
        self.missed = MissedRepo(readers, writer, vault, clock)
        self.monitoring = MonitoringRepo(readers, writer)
        self.media = MediaRepo(readers, writer, vault, clock)
        self.relays = RelayRepo(readers, writer, vault, clock)
        self.login_throttle = LoginThrottleRepo(writer, vault, clock)
        self.referrals = ReferralRepo(readers, writer)
        self.webhooks = WebhookRepo(readers, writer)
        self.api_tokens = ApiTokenRepo(readers, writer)
        self.case_rows = CaseRowRepo(readers)
        self.offices = OfficeRepo(readers, writer)

    @classmethod
    async def open(
        cls,
        path: Path,
        keyring: KeyRing,
        *,
        clock: Callable[[], datetime] = utc_now,
        readers: int = DEFAULT_READERS,
        keytree: Path | None = None,
        url: str | None = None,
    ) -> Store:
        """Opens (creating and migrating if needed) the database at `path`.

        `keytree` is the key tree file (default: beside the database, `lk3.keytree`
        for `lk3.db`), created with the database and never part of its backups.
        Refuses (`MissingCommitsError`) a database that lost committed work.

        With `url` (`postgresql://...`, from `[storage] url`), the database is that
        PostgreSQL database instead (`storage.engine.pgstore`); `path` then only
        places the key tree (`lk3.keytree` beside it), which never goes into the
        database or its backups.
        """
        if url is not None:
            tree = keytree if keytree is not None else default_tree_path(path)
            now = to_micros(clock(), "clock")
            conn, pg_writer, pg_readers, pg_vault = await open_postgres(
                url, keyring, now, tree, readers
            )
            return cls(path, conn, pg_writer, pg_readers, pg_vault, clock, url=url)
        opened: list[aiosqlite.Connection] = []
        mark: CommitMark | None = None
        try:
            recorded = recorded_mark(path)
            writer_conn = await connect(path, writer=True)
            opened.append(writer_conn)
            await check_database_against_mark(path, writer_conn, recorded)
            now = to_micros(clock(), "clock")
            await apply_migrations(writer_conn, now)
            tree_path = keytree if keytree is not None else default_tree_path(path)
            vault = await Vault.unlock(writer_conn, keyring, now, tree_path=tree_path)
            mark = await CommitMark.open(path, writer_conn)
            reader_conns = []
            for _ in range(max(1, readers)):
                conn = await connect(path, writer=False)
                opened.append(conn)
                reader_conns.append(conn)
            quick = Readers.open_quick(path)
        except BaseException as exc:
            for conn in opened:
                await conn.close()
            if mark is not None:
                await mark.close()
            failure = open_failure(exc, path) if isinstance(exc, Exception) else None
            if failure is None or failure is exc:
                raise
            raise failure from exc
        writer = Writer(writer_conn, vault, mark=mark)
        writer.start()
        return cls(path, writer_conn, writer, Readers(reader_conns, quick), vault, clock, mark)

    async def close(self) -> None:
        """Runs every queued write, then closes all connections (checkpointing the WAL)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close()
        finally:
            await self._readers.close()
            await self._writer_conn.close()
            if self._mark is not None:
                await self._mark.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def on_write_fault(self, listener: Callable[[StorageFaultError], None] | None) -> None:
        """Calls `listener` for every write the disk refused (full, I/O error, read-only)."""
        self._writer.on_fault = listener

    async def probe_writes(self, room: int = PROBE_BYTES) -> None:
        """Writes `room` bytes and deletes them in one committed transaction: raises
        StorageFaultError while the disk cannot take that much (the pages come back
        to the free list, so a probe that succeeds leaves the file as it found it)."""

        async def probe(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO meta (name, value) VALUES ('write_probe', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                ("0" * room,),
            )
            await tx.execute("DELETE FROM meta WHERE name = 'write_probe'")

        await self._writer.run("probe writes", probe)

    def change_listener(
        self, on_change: Callable[[str], None], on_gap: Callable[[], None]
    ) -> ChangeListener | None:
        """What other processes changed, as PostgreSQL tells it (`storage.engine.pglive`):
        None on SQLite, where one process writes and its readers poll. Not started."""
        return None if self.url is None else ChangeListener(self.url, on_change, on_gap)

    @property
    def write_stats(self) -> WriteStats:
        """How many jobs the writer ran in how many transactions."""
        return self._writer.stats
