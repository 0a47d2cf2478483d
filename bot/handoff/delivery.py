"""How the outbox sender handles hand-off rows: alert digests, withheld alerts, edits, copies.

An alert message (`alerts:<staff id>`, storage.handoff.digests) is sealed as it
goes: its words are rendered at that moment from the cases it lists, leaving out
those taken or closed since it was queued; with none left it is not sent.

`HandoffGate` runs before a case's rows: a hotline reminder (or a single-case
alert queued before digests existed) for a case taken or closed since is
withdrawn. `register` hands both kinds to the outbox sender.

`HandoffDelivery` delivers `case:<id>:edit:<outbox id>` by editing that alert:
a digest is rendered again with every case as it is now (taken by whom, closed,
or still waiting with its button). `case:<id>:copy:<inbox id>` copies the
message the inbox row came from into the recipient's chat (Telegram copyMessage:
the bot never downloads or keeps it). `case:<id>:media:<media id>` uploads a
family's kept photo or voice note (bot.handoff.media) with the row's text as its
caption. Channels without those capabilities get the row's text as a new message.
Where a copy or an upload landed is noted (`storage.media.relays`): the privacy
worker deletes it from the counsellor's chat when the family is erased.
"""

from __future__ import annotations

import logging

from bot.channels.base import (
    ButtonEditor,
    Channel,
    MessageCopier,
    MessageEditor,
    Outbound,
    Undeliverable,
)
from bot.channels.media import MediaSender
from bot.core.outbox import OutboxSender
from bot.digits import digits
from bot.handoff.alerts import AlertRenderer
from bot.handoff.service import Handoff
from storage.handoff.records import CASE_REF, DIGEST_REF, Digest
from storage.records import OutboxRow
from storage.store import Store

__all__ = ["HandoffDelivery", "HandoffGate", "register"]

log = logging.getLogger(__name__)

_WAITING_ONLY = frozenset({"alert", "remind"})


class HandoffGate:
    """None to send the row, or the code it is withdrawn with."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def __call__(self, row: OutboxRow) -> str | None:
        ref = row.ref
        if ref is not None and ref.kind == CASE_REF and ref.action in _WAITING_ONLY:
            case = await self._store.handoff.get(ref.id)
            if case is None or case.status != "open":
                return "case_taken"
        return None


class HandoffDelivery:
    """Sends rows with a ref: edits and copies in their own way, the rest as usual."""

    def __init__(self, store: Store, handoff: Handoff) -> None:
        self._store = store
        self._handoff = handoff
        self._render = AlertRenderer(handoff)

    async def __call__(self, row: OutboxRow, channel: Channel, message: Outbound) -> str | None:
        """A case's row: an edit of its alert, a copy of a family's media, or a message."""
        ref = row.ref
        if ref is None or ref.kind != CASE_REF:
            return await channel.send(message)
        if ref.action == "edit" and digits(ref.arg):
            return await self._edit(row, channel, message, ref.id, int(ref.arg))
        if ref.action == "copy" and digits(ref.arg):
            return await self._copy(row, channel, message, int(ref.arg), ref.id)
        if ref.action == "media" and digits(ref.arg):
            return await self._media(row, channel, message, int(ref.arg), ref.id)
        return await channel.send(message)

    async def _relayed(self, row: OutboxRow, case_id: int, sent: str | None) -> str | None:
        """Notes where a family's file now sits in the counsellor's chat, so that it can
        be deleted when the family is erased (storage.media.relays)."""
        case = await self._store.handoff.get(case_id)
        if sent and case is not None:
            await self._store.relays.record(
                case.contact_id, row.contact_id, row.channel, row.address, sent
            )
        return sent

    async def _media(
        self, row: OutboxRow, channel: Channel, message: Outbound, media_id: int, case_id: int
    ) -> str | None:
        """The family's photo or voice note itself, captioned with the case; the note alone
        where the channel cannot upload, or the file is gone (erased since)."""
        if not isinstance(channel, MediaSender):
            return await channel.send(message)
        content = await self._store.media.content(media_id)
        if content is None:
            return await channel.send(message)
        sent = await channel.send_media(
            message.address, content.kind, content.mime, content.data, message.text
        )
        return await self._relayed(row, case_id, sent)

    async def send_digest(self, row: OutboxRow, channel: Channel, message: Outbound) -> str | None:
        """Seals the alert message and sends what it says now; nothing left: withdrawn."""
        body = await self._store.handoff.seal_digest(row.id, self._handoff.now(), self._render)
        if body is None:
            raise Undeliverable("case_taken")
        text, options = body
        return await channel.send(Outbound(row.id, row.address, text, options))

    async def _edit(
        self, row: OutboxRow, channel: Channel, message: Outbound, case_id: int, alert_id: int
    ) -> str | None:
        digest = await self._store.handoff.digest(alert_id)
        if digest is not None:
            return await self._edit_digest(row, channel, message, case_id, digest)
        sent = await self._store.outbox.provider_id(alert_id)
        if sent is None:
            return None  # the alert never went out (withdrawn): nothing to edit
        if not isinstance(channel, MessageEditor):
            return await channel.send(message)
        for message_id in sent.split(","):
            await channel.edit_message(row.address, message_id.strip(), row.text)
        return sent

    async def _edit_digest(
        self, row: OutboxRow, channel: Channel, message: Outbound, case_id: int, digest: Digest
    ) -> str | None:
        """Shows every case of a sent alert message as it is now; the waiting keep their button."""
        sent = digest.provider_id
        if sent is None or all(line.case.id != case_id for line in digest.lines):
            return None  # never sent, or it went without this case (taken before it left)
        ids = [part.strip() for part in sent.split(",")]
        if isinstance(channel, ButtonEditor):
            text, options = self._render(digest.lines)
            await channel.edit_message_buttons(row.address, ids[-1], text, options)
            return sent
        if isinstance(channel, MessageEditor):
            text, _ = self._render(digest.lines, buttons=False)
            for message_id in ids:
                await channel.edit_message(row.address, message_id, text)
            return sent
        return await channel.send(message)

    async def _copy(
        self, row: OutboxRow, channel: Channel, message: Outbound, inbox_id: int, case_id: int
    ) -> str | None:
        source = await self._store.inbox.get(inbox_id)
        if (
            source is None
            or source.channel != row.channel
            or not isinstance(channel, MessageCopier)
        ):
            return await channel.send(message)
        caption = "" if row.text == "…" else row.text
        sent = await channel.copy_message(source.transport_id, row.address, caption)
        return await self._relayed(row, case_id, sent)


def register(sender: OutboxSender, store: Store, handoff: Handoff) -> None:
    """Alert messages (`alerts:<staff id>`) and a case's rows (`case:<id>:...`) go out here."""
    delivery = HandoffDelivery(store, handoff)
    sender.handle_refs(DIGEST_REF, deliver=delivery.send_digest)
    sender.handle_refs(CASE_REF, gate=HandoffGate(store), deliver=delivery)
