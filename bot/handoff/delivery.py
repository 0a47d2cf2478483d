"""How the outbox sender handles hand-off rows: alert digests, withheld alerts, edits, copies.

An alert message (`alerts:<staff id>`, storage.handoff.digests) is sealed as it
goes: its words are rendered at that moment from the cases it lists, leaving out
those taken or closed since it was queued; with none left it is not sent.

`HandoffGate` runs before the other rows with a ref: a hotline reminder (or a
single-case alert queued before digests existed) for a case taken or closed
since is withdrawn; booking rows are left to `ReminderGate` (withheld while a
counsellor holds the family's case).

`HandoffDelivery` delivers `case:<id>:edit:<outbox id>` by editing that alert:
a digest is rendered again with every case as it is now (taken by whom, closed,
or still waiting with its button). `case:<id>:copy:<inbox id>` copies the
message the inbox row came from into the recipient's chat (Telegram copyMessage:
the bot never downloads or keeps it). Channels without those capabilities get
the row's text as a new message.
"""

from __future__ import annotations

import logging

from bot.booking.reminders import ReminderGate
from bot.channels.base import (
    ButtonEditor,
    Channel,
    MessageCopier,
    MessageEditor,
    Outbound,
    Undeliverable,
)
from bot.handoff.alerts import AlertRenderer
from bot.handoff.service import Handoff
from storage.handoff.digests import DIGEST_REF_PREFIX
from storage.handoff.records import Digest
from storage.records import OutboxRow
from storage.store import Store

__all__ = ["HandoffDelivery", "HandoffGate", "parse_ref"]

log = logging.getLogger(__name__)

_WAITING_ONLY = frozenset({"alert", "remind"})


def parse_ref(ref: str | None) -> tuple[int, str, str] | None:
    """`case:12:copy:40` -> (12, "copy", "40"); None for other refs."""
    if ref is None or not ref.startswith("case:"):
        return None
    parts = ref.split(":", 3)
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2], parts[3] if len(parts) > 3 else ""


class HandoffGate:
    """None to send the row, or the code it is withdrawn with."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._reminders = ReminderGate(store)

    async def __call__(self, row: OutboxRow) -> str | None:
        if _is_digest(row):
            return None  # decided as it is sealed, with what it says (HandoffDelivery)
        parsed = parse_ref(row.ref)
        if parsed is None:
            return await self._reminders(row)
        case_id, kind, _ = parsed
        if kind in _WAITING_ONLY:
            case = await self._store.handoff.get(case_id)
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
        if _is_digest(row):
            return await self._send_digest(row, channel)
        parsed = parse_ref(row.ref)
        if parsed is None:
            return await channel.send(message)
        case_id, kind, rest = parsed
        if kind == "edit" and rest.isdigit():
            return await self._edit(row, channel, message, case_id, int(rest))
        if kind == "copy" and rest.isdigit():
            return await self._copy(row, channel, message, int(rest))
        return await channel.send(message)

    async def _send_digest(self, row: OutboxRow, channel: Channel) -> str | None:
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
        self, row: OutboxRow, channel: Channel, message: Outbound, inbox_id: int
    ) -> str | None:
        source = await self._store.inbox.get(inbox_id)
        if (
            source is None
            or source.channel != row.channel
            or not isinstance(channel, MessageCopier)
        ):
            return await channel.send(message)
        # A Telegram transport id is "<chat>:<message>": where to copy from.
        chat, _, message_id = source.transport_id.partition(":")
        caption = "" if row.text == "…" else row.text
        return await channel.copy_message(chat, message_id.split(":")[0], row.address, caption)


def _is_digest(row: OutboxRow) -> bool:
    return row.ref is not None and row.ref.startswith(DIGEST_REF_PREFIX)
