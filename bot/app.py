"""Wiring: keys, store, flows, classifier, pipeline and outbox sender, started together.

The only module that knows how the pieces fit; everything it builds is passed
in, never imported as a global, so tests build the same app on a temporary
folder.

    StartupError   a missing or mismatched key, an invalid flow set, unreadable texts, a data
                   folder or database that cannot be used (said in one line: what to fix)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from bot.booking import reminders
from bot.channels.base import Channel, Inbound
from bot.channels.registry import Host
from bot.config import Config
from bot.core.failpoints import armed_failpoints
from bot.core.leadership import Leadership
from bot.core.outbox import OutboxSender
from bot.core.pipeline import Pipeline
from bot.core.texts import BotTexts, TextsError
from bot.core.turns import MERGED_REPLY_CHARS
from bot.core.writehealth import WriteHealth
from bot.datadir import DataDirError, secure_data_dir
from bot.errors import BotError
from bot.figures.webhooks import WebhookSender
from bot.flowhost.handler import FlowTurns
from bot.flowhost.shelf import FlowShelf
from bot.flowhost.shelves import FlowShelves
from bot.handoff import delivery as handoff_delivery
from bot.handoff.casewake import CaseWake
from bot.handoff.desk import CaseCommands, CounsellorDesk
from bot.handoff.escalation import EscalationJob
from bot.handoff.handlers import HeldCaseRelay, StaffDesk
from bot.handoff.media import MediaFetch
from bot.handoff.service import Handoff
from bot.keyfolder import ensure_keys_folder
from bot.offices.picker import OfficePicker
from bot.offices.profiles import ensure_offices
from bot.offices.routing import OfficeRouting
from bot.privacy.retention import RetentionJob
from bot.privacy.worker import PrivacyWorker
from bot.safety import Classifier
from flows.errors import FlowSetError
from flows.exchange import ChannelCaps
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from storage.crypto.keys import KeyRing, generate_key_file
from storage.engine.claims import Claims, SoleClaims, open_claims
from storage.engine.leader import LeaderLock
from storage.errors import StorageError
from storage.figures.holds import AdvisoryHolds
from storage.store import Store

__all__ = ["App", "StartupError", "open_keyring", "utc_now"]

log = logging.getLogger(__name__)

RECOVERY_SWEEP_SECONDS = 60.0
# Several processes on PostgreSQL: how often a process looks for messages nobody holds
# (a dead process's), so that they are processed by a live one within seconds.
SHARED_SWEEP_SECONDS = 2.0


class StartupError(BotError):
    """The bot cannot start safely; the message says what to fix."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_keyring(config: Config, env: Mapping[str, str] | None = None) -> KeyRing:
    """Loads the master keys; generates a key file only for a brand-new data folder."""
    env = os.environ if env is None else env
    key_file = config.resolved_key_file
    if not env.get("LK3_MASTER_KEYS") and not key_file.exists():
        if _has_database(config):
            raise StartupError(
                f"the key file {key_file} is missing, but the database {_where(config)} "
                "exists and was written with a key. Restore the key file (or set LK3_MASTER_KEYS); "
                "a new key would not read the existing data."
            )
        try:
            key_id = generate_key_file(key_file)
        except (StorageError, OSError) as exc:
            raise StartupError(str(exc)) from None
        log.warning("generated a new master key %s in %s (mode 0600); back it up", key_id, key_file)
    try:
        return KeyRing.load(None if env.get("LK3_MASTER_KEYS") else key_file, env)
    except StorageError as exc:
        raise StartupError(str(exc)) from None


def _has_database(config: Config) -> bool:
    """Whether a database was written with a key already (on PostgreSQL: the server says)."""
    from storage.engine.dbfacts import written_with_key

    try:
        return written_with_key(config.database_path, config.storage_url)
    except StorageError as exc:
        raise StartupError(f"cannot reach the database: {exc}") from None


def _where(config: Config) -> str:
    if config.storage_url is None:
        return str(config.database_path)
    from storage.engine.pgtools import safe_url

    return safe_url(config.storage_url)


def load_flows(config: Config) -> FlowLibrary:
    directory = config.flows_dir or bundled_library_dir()
    try:
        return load_library(directory, languages=config.languages)
    except FlowSetError as exc:
        raise StartupError(f"the flows in {directory} are not valid:\n{exc}") from None


class App:
    """The running bot: call `start`, feed `receive`, and `stop` at the end."""

    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        library: FlowLibrary,
        pipeline: Pipeline,
        sender: OutboxSender,
        privacy: PrivacyWorker | None = None,
        retention: RetentionJob | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.library = library
        self.pipeline = pipeline
        self.sender = sender
        # Finishes erasures and quick-exit cleanups; erases what retention says is due.
        self.privacy = privacy if privacy is not None else PrivacyWorker(store, {}, clock=utc_now)
        self.retention = (
            retention
            if retention is not None
            else RetentionJob(store, config.retention, clock=utc_now)
        )
        self._tasks: list[asyncio.Task[None]] = []
        # The safety hand-off (case changes for the desk and the console) and its alerts.
        self.handoff: Handoff | None = None
        self.escalation: EscalationJob | None = None
        self.media: MediaFetch | None = None  # what fetches a held case's photos and voice notes
        # The flows in use, swapped by a publish in the console (bot/flowhost/shelf.py).
        self.flows: FlowShelf | None = None
        # Several processes on one PostgreSQL database: who processes and sends for a
        # contact now, and which process runs the leader's work (bot.core.leadership).
        self.claims: Claims = SoleClaims()
        self.leadership = Leadership()
        self.shelves: FlowShelves | None = None  # each office's (bot/flowhost/shelves.py)
        # Signed case events to the configured receivers (bot/figures/webhooks.py).
        self.webhooks: WebhookSender | None = None

    @classmethod
    async def open(
        cls,
        config: Config,
        channels: Sequence[Channel],
        *,
        clock: Callable[[], datetime] = utc_now,
        env: Mapping[str, str] | None = None,
    ) -> App:
        try:
            secure_data_dir(config.data_dir)
            ensure_keys_folder(config)
        except DataDirError as exc:
            raise StartupError(str(exc)) from None
        try:
            armed_failpoints()
        except ValueError as exc:
            raise StartupError(str(exc)) from None
        keyring = open_keyring(config, env)
        library = load_flows(config)
        try:
            texts = BotTexts.load(languages=config.languages)
        except TextsError as exc:
            raise StartupError(str(exc)) from None
        try:
            store = await Store.open(
                config.database_path,
                keyring,
                clock=clock,
                keytree=config.keytree_path,
                url=config.storage_url,
            )
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            claims = await open_claims(config.storage_url)
        except StorageError as exc:
            await store.close()
            raise StartupError(str(exc)) from None
        except BaseException:
            await store.close()
            raise
        try:
            await ensure_offices(store, config, clock())  # `[offices.*]` the database lacks
            # Each office its own flows, all from the folder (one office: one shelf).
            shelves = await FlowShelves.open(
                store,
                library,
                base_dir=config.flows_dir or bundled_library_dir(),
                languages=config.languages,
                clock=clock,
            )
            shelf = shelves.default
            library = shelf.library
        except StorageError as exc:
            await claims.close()
            await store.close()
            raise StartupError(str(exc)) from None
        except BaseException:
            await claims.close()
            await store.close()
            raise
        by_name = {ch.name: ch for ch in channels}
        # Any write the disk refuses pauses new work until a probe write succeeds.
        health = WriteHealth(store.probe_writes)
        store.on_write_fault(health.failing)
        handoff = Handoff(store, texts, config, library, clock)
        sender = OutboxSender(store, by_name, clock=clock, claims=claims)
        # Rows about a case, an alert message or a booking go out their own way.
        handoff_delivery.register(sender, store, handoff)
        reminders.register(sender, store, texts, config)
        escalation = EscalationJob(store, handoff, config, clock, on_queued=sender.wake)
        privacy = PrivacyWorker(store, by_name, clock=clock)
        webhooks = WebhookSender(
            store,
            config.figures.webhooks,
            clock=clock,
            holds=None if config.storage_url is None else AdvisoryHolds(config.storage_url),
        )

        def committed() -> None:
            # The sender is told by `offer` (a turn's first reply may go at once).
            privacy.wake()
            escalation.wake()
            webhooks.wake()

        pipeline = Pipeline(
            store=store,
            classifier=Classifier.bundled(),
            texts=texts,
            config=config,
            merge_limits={
                ch.name: getattr(ch, "merge_chars", MERGED_REPLY_CHARS) for ch in channels
            },
            clock=clock,
            on_committed=committed,
            offer=lambda first, alone: sender.offer(first, alone=alone),
            health=health,
            claims=claims,
        )
        # The turn handlers, in order: counsellors' own messages (before the crisis
        # check), a family whose case a counsellor holds, then the flows.
        desk = CounsellorDesk(store, texts, config, clock, CaseCommands(store, handoff))
        pipeline.add_handler(OfficeRouting(store))  # a deep link's office (never answers)
        pipeline.add_handler(StaffDesk(desk))
        flow_turns = FlowTurns(
            store=store,
            library=library,
            texts=texts,
            config=config,
            channel_caps={
                ch.name: ChannelCaps(buttons=ch.buttons, max_choices=10) for ch in channels
            },
            clock=clock,
        )
        media = MediaFetch(store, by_name)
        pipeline.add_handler(HeldCaseRelay(handoff, flows=flow_turns, media=media))
        # The web chat's "which regency or city?" when there are several offices.
        pipeline.add_handler(OfficePicker(store, texts, config, flow_turns))
        pipeline.add_handler(flow_turns)
        escalation.gathering = pipeline.reading_backlog
        sender.tally = pipeline.tally  # one set of counts for /metrics
        app = cls(
            config=config,
            store=store,
            library=library,
            pipeline=pipeline,
            sender=sender,
            privacy=privacy,
            retention=RetentionJob(store, config.retention, clock=clock),
        )
        app.handoff = handoff
        app.escalation = escalation
        app.claims = claims
        url = config.storage_url
        app.leadership = Leadership(None if url is None else LeaderLock(url))
        app.media = media
        app.webhooks = webhooks
        health.on_recovered(app._writes_back)
        # A publish in the console reaches new conversations from the next turn on.
        shelf.listen(flow_turns.use_library)
        shelf.listen(handoff.use_library)
        flow_turns.use_shelves(shelves)
        handoff.use_shelves(shelves)
        app.flows = shelf
        app.shelves = shelves
        return app

    async def start(self) -> None:
        """Processes what a crash left behind, then starts sending and sweeping."""
        await self.pipeline.recover()
        self._tasks.append(asyncio.create_task(self.sender.run()))
        self._tasks.append(asyncio.create_task(self._sweep()))
        # One process at a time runs these (all of them with SQLite: it is alone).
        self.leadership.add(self.privacy)
        self.leadership.add(self.retention)
        if self.escalation is not None:
            self.leadership.add(self.escalation, nudge=True)
            # A case another process opened wakes it at once (bot/handoff/casewake.py).
            self.leadership.add(CaseWake(self.store, self.escalation.wake))
        self._tasks.append(asyncio.create_task(self.leadership.run()))
        if self.webhooks is not None:
            await self.webhooks.sync()  # the configured receivers, and only they, get events
            if self.config.figures.webhooks:
                self._tasks.append(asyncio.create_task(self.webhooks.run()))

    async def receive(self, inbound: Inbound) -> bool:
        stored = await self.pipeline.receive(inbound)
        if stored:
            self.pipeline.tally.received[inbound.channel] += 1
        return stored

    @property
    def health(self) -> WriteHealth:
        """Whether the database takes writes (the health endpoint and the channels read it)."""
        return self.pipeline.health

    def _writes_back(self) -> None:
        """Writes succeed again: what was stored but not scheduled goes on, sends are recorded."""
        self.sender.wake()
        self._tasks.append(asyncio.create_task(self._recover()))

    def host(self) -> Host:
        """What a channel binds to: the receiver, the store, the sender's and the
        scheduler's signals."""
        return Host(
            receive=self.receive,
            store=self.store,
            wake_sender=self.sender.wake,
            defer_routine=self.pipeline.defer_routine,
            wait_idle=self.wait_idle,
            concern=self.pipeline.concern,
            until_writable=self.health.writable,
            until_leading=self.leadership.until_leading,
        )

    async def wait_idle(self) -> None:
        """Waits until every stored message is processed, every due reply sent, and
        what a right asked for (an erasure, a cleanup) carried out."""
        await self.pipeline.wait_idle()
        await self.sender.wait_idle()
        await self.privacy.run_once()

    async def stop(self) -> None:
        await self.pipeline.stop()
        await self.sender.stop()
        await self.leadership.stop()
        await self.privacy.stop()
        await self.retention.stop()
        if self.escalation is not None:
            await self.escalation.stop()
        if self.webhooks is not None:
            await self.webhooks.stop()
        await self.health.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        await self.claims.close()
        if self.webhooks is not None:
            await self.webhooks.close()
        await self.store.close()

    async def _recover(self) -> None:
        try:
            await self.pipeline.recover()
        except Exception:
            log.exception("recovery after writes came back failed")

    async def _sweep(self) -> None:
        """Re-schedules messages left unprocessed by a failed commit."""
        while True:
            shared = self.claims.shared
            await asyncio.sleep(SHARED_SWEEP_SECONDS if shared else RECOVERY_SWEEP_SECONDS)
            try:
                await self.pipeline.recover()
            except Exception:
                log.exception("recovery sweep failed")
