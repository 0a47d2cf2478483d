"""A family's photo or voice note during a hand-off: fetched, kept sealed, relayed as itself.

Only while a counsellor holds the family's case is the file fetched (nobody else
would look at it): `MediaFetch.settle` runs in the family's turn, after the
message was stored and acknowledged. It checks the declared type and size, asks
the family's channel for the file (a transient failure is tried again a few
times, all tries within `FETCH_BUDGET_SECONDS`; the turn itself is retried after
a crash, since a row stays `waiting` until it is settled), recognises the bytes'
type from their first bytes, and keeps them sealed under the family's data key
(`storage.media`). Whatever happens, the message itself is never lost: the
counsellor is told what came, and what could not be fetched.

The outcome decides what the counsellor receives (`Handoff.family_turn`): the
media itself (`case:<id>:media:<media id>`, uploaded by `bot.handoff.delivery`),
or a note, and a family whose file was too large or of a type not taken is asked
kindly to write or to send a shorter one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot.channels.media import (
    ALLOWED,
    TOO_LARGE,
    FetchLater,
    FetchRefused,
    MediaFetcher,
    allowed_kind,
    sniff,
)
from storage.media.records import MediaRef
from storage.records import InboxRow
from storage.store import Store

__all__ = [
    "FETCH_ATTEMPTS",
    "FETCH_BUDGET_SECONDS",
    "MAX_MEDIA_BYTES",
    "MediaFetch",
    "MediaOutcome",
]

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 5 * 1024 * 1024
"""The largest photo or voice note kept (a few minutes of a voice note; a phone photo)."""
FETCH_ATTEMPTS = 3
FETCH_BUDGET_SECONDS = 10.0
"""All tries of one fetch together, at most. The fetch runs inside the family's turn, and
their next message (a cry for help, perhaps) waits behind it: past this the file counts
as not fetched and the counsellor is told so (Telegram copies it instead). Kept in the
turn rather than a background job so the counsellor gets the file itself, with its
caption, in the same place as the words around it; a few megabytes take well under
this from Telegram's or Twilio's servers."""


@dataclass(frozen=True, slots=True)
class MediaOutcome:
    """What became of a media message: `stored` (with `media_id`), `too_large`, `refused`
    (a type not taken), or `failed` (it could not be fetched)."""

    status: str
    media_id: int | None = None

    @property
    def refused(self) -> bool:
        """Whether the family should be asked to write or send a shorter one instead."""
        return self.status in ("too_large", "refused")


class MediaFetch:
    """Fetches and keeps the media of a held case's family, through their channel."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, object],
        *,
        limit: int = MAX_MEDIA_BYTES,
        retry_delay: float = 0.5,
        budget: float = FETCH_BUDGET_SECONDS,
    ) -> None:
        self._store = store
        self._channels = channels
        self._limit = limit
        self.retry_delay = retry_delay
        self.budget = budget

    async def settle(self, row: InboxRow) -> MediaOutcome | None:
        """The outcome for this message's media, fetching it if it is still waiting; None
        when the message carries nothing to fetch."""
        item = await self._store.media.of_message(row.id)
        if item is None:
            return None
        if item.status != "waiting":
            return MediaOutcome(item.status, item.id if item.status == "stored" else None)
        ref = await self._store.media.ref(item.id)
        status, mime, data = "failed", "", None
        if ref is None:
            pass  # settled meanwhile, or the locator is gone: nothing to fetch
        elif ref.size is not None and ref.size > self._limit:
            status = "too_large"
        elif ref.mime and allowed_kind(ref.mime) is None:
            status = "refused"
        else:
            channel = self._channels.get(row.channel)
            if isinstance(channel, MediaFetcher):
                try:
                    async with asyncio.timeout(self.budget):
                        status, mime, data = await self._fetch(channel, ref, item.kind, row)
                except TimeoutError:
                    log.warning("message %s: fetching a %s took too long", row.id, item.kind)
        settled = await self._store.media.settle(item.id, status, mime=mime, data=data)
        if settled is None:
            return MediaOutcome("failed")
        log.info("message %s: %s %s", row.id, item.kind, settled.status)
        return MediaOutcome(settled.status, settled.id if settled.status == "stored" else None)

    async def _fetch(
        self, channel: MediaFetcher, ref: MediaRef, kind: str, row: InboxRow
    ) -> tuple[str, str, bytes | None]:
        delay = self.retry_delay
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                fetched = await channel.fetch_media(ref, self._limit)
            except FetchRefused as exc:
                log.info("message %s: %s not fetched (%s)", row.id, kind, exc.code)
                return ("too_large" if exc.code == TOO_LARGE else "failed"), "", None
            except FetchLater as exc:
                log.warning(
                    "message %s: fetching a %s failed (%s), attempt %s",
                    row.id,
                    kind,
                    exc.code,
                    attempt,
                )
                if attempt < FETCH_ATTEMPTS:
                    await asyncio.sleep(delay)
                    delay *= 2
                continue
            mime = sniff(fetched.data)
            if mime is None or ALLOWED[mime] != kind:
                log.info("message %s: a %s of a type not taken was not kept", row.id, kind)
                return "refused", "", None
            return "stored", mime, fetched.data
        return "failed", "", None
