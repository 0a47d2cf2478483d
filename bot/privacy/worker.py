"""The privacy worker: carries out, in the background, what a right asked for in a turn.

A turn commits the request together with its replies (storage.privacy.repo,
storage.privacy.erasure); this worker finishes the part that needs the network or a
delivered reply, and resumes whatever a crash interrupted:

- quick exit: asks the channel to delete the chat's messages (those of the last
  48 hours: older ones Telegram cannot delete) on channels that can
  (`MessageDeleter`); on others there is nothing to do;
- erasure: once the farewell reply is delivered (or after a day without
  delivery), removes the contact and its wrapped key and punctures its leaf of
  the key tree, so that no copy of the database can be read for them again;
- relayed files: a family's photos and voice notes sent into a counsellor's chat
  (`storage.media.relays`) are deleted there once the family is being erased, on
  channels that can (Telegram, for 48 hours after sending: older ones stay, and
  a code is logged).

Logs carry counts and ids only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.base import Channel, DeliveryError, MessageDeleter, Unreachable
from bot.core.worker import Worker
from storage.errors import is_storage_fault
from storage.store import Store

__all__ = ["DELETABLE_WINDOW", "PrivacyRound", "PrivacyWorker"]

log = logging.getLogger(__name__)

DELETABLE_WINDOW = timedelta(hours=48)
POLL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PrivacyRound:
    """What one pass did (counts only)."""

    cleanups: int = 0
    messages_deleted: int = 0
    farewells_finished: int = 0
    keys_destroyed: int = 0
    relays_deleted: int = 0


class PrivacyWorker(Worker):
    """Runs `run_once` when woken (after each committed turn) and every few seconds."""

    # A cleanup or an erasure is rare and waits a moment at most; four reads after every
    # turn were about 2% of the bot's CPU under load.
    woken_gap = 0.25

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        clock: Callable[[], datetime],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        self._store = store
        self._channels = dict(channels)
        self._clock = clock
        self._poll = poll_seconds
        self._lock = asyncio.Lock()

    async def tick(self) -> float:
        await self.run_once()
        return self._poll

    def failed(self, exc: Exception, failures: int) -> float:
        log.error(
            "privacy worker pass failed; trying again later",
            exc_info=None if is_storage_fault(exc) else exc,
        )
        return self._poll

    async def run_once(self) -> PrivacyRound:
        """Does whatever is due now: cleanups first (they are urgent), then erasures."""
        async with self._lock:
            cleanups, deleted = await self._cleanups()
            erasures = await self._store.erasure.finish()
            relays = await self._relays()
        done = PrivacyRound(
            cleanups, deleted, erasures.farewells_finished, erasures.keys_destroyed, relays
        )
        if done != PrivacyRound():
            log.info(
                "privacy: %s cleanup(s) (%s message(s) deleted), %s farewell(s) finished,"
                " %s key(s) destroyed, %s relayed file(s) deleted",
                done.cleanups,
                done.messages_deleted,
                done.farewells_finished,
                done.keys_destroyed,
                done.relays_deleted,
            )
        return done

    async def _cleanups(self) -> tuple[int, int]:
        now = self._clock()
        count = deleted = 0
        for cleanup in await self._store.privacy.pending_cleanups(now, now - DELETABLE_WINDOW):
            channel = self._channels.get(cleanup.channel)
            if channel is None:
                continue  # another process serves this channel
            if not isinstance(channel, MessageDeleter):
                await self._store.privacy.finish_cleanup(cleanup.id, None)
                count += 1
                continue
            try:
                gone = await channel.delete_messages(
                    cleanup.address, cleanup.sent_ids, cleanup.received_ids
                )
            except Unreachable as exc:
                log.info("cleanup %s: chat unreachable (%s)", cleanup.id, exc.code)
                await self._store.privacy.finish_cleanup(cleanup.id, None)
                count += 1
                continue
            except (DeliveryError, OSError, TimeoutError) as exc:
                code = exc.code if isinstance(exc, DeliveryError) else type(exc).__name__
                gave_up = await self._store.privacy.retry_cleanup(cleanup.id)
                log.warning(
                    "cleanup %s for contact %s failed (%s)%s",
                    cleanup.id,
                    cleanup.contact_id,
                    code,
                    "; given up" if gave_up else "",
                )
                continue
            await self._store.privacy.finish_cleanup(cleanup.id, gone)
            count += 1
            deleted += gone
        return count, deleted

    async def _relays(self) -> int:
        """Deletes an erased family's files from the counsellors' chats, where it can."""
        now = self._clock()
        deleted = 0
        for relay in await self._store.relays.due():
            channel = self._channels.get(relay.channel)
            if channel is None:
                continue  # another process serves this channel
            if not isinstance(channel, MessageDeleter) or now - relay.sent_at > DELETABLE_WINDOW:
                why = "too_old" if isinstance(channel, MessageDeleter) else "cannot_delete"
                log.info("relayed file %s stays in the counsellor's chat (%s)", relay.id, why)
                await self._store.relays.done(relay.id)
                continue
            try:
                gone = await channel.delete_messages(relay.address, [relay.message_ids], [])
            except Unreachable as exc:
                log.info("relayed file %s: chat unreachable (%s)", relay.id, exc.code)
                await self._store.relays.done(relay.id)
                continue
            except (DeliveryError, OSError, TimeoutError) as exc:
                code = exc.code if isinstance(exc, DeliveryError) else type(exc).__name__
                gave_up = await self._store.relays.failed(relay.id)
                log.warning(
                    "deleting relayed file %s failed (%s)%s",
                    relay.id,
                    code,
                    "; given up" if gave_up else "",
                )
                continue
            await self._store.relays.done(relay.id)
            deleted += gone
        return deleted
