"""How the outbox sender handles hand-off rows: withheld alerts, edits, copies.

`HandoffGate` runs before a row with a ref goes out: an alert or a hotline
reminder for a case that has been taken (or closed) since it was queued is
withdrawn; booking rows are left to `ReminderGate` (withheld while a counsellor
holds the family's case). `HandoffDelivery` delivers `case:<id>:edit:<outbox id>`
by editing that alert's message, and `case:<id>:copy:<inbox id>` by copying the
message the inbox row came from into the recipient's chat (Telegram
copyMessage: the bot never downloads or keeps it). Channels without those
capabilities get the text as a new message.
"""

from __future__ import annotations

import logging

from bot.booking.reminders import ReminderGate
from bot.channels.base import Channel, MessageCopier, MessageEditor, Outbound
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

    def __init__(self, store: Store) -> None:
        self._store = store

    async def __call__(self, row: OutboxRow, channel: Channel, message: Outbound) -> str | None:
        parsed = parse_ref(row.ref)
        if parsed is None:
            return await channel.send(message)
        _, kind, rest = parsed
        if kind == "edit" and rest.isdigit():
            return await self._edit(row, channel, message, int(rest))
        if kind == "copy" and rest.isdigit():
            return await self._copy(row, channel, message, int(rest))
        return await channel.send(message)

    async def _edit(
        self, row: OutboxRow, channel: Channel, message: Outbound, alert_id: int
    ) -> str | None:
        sent = await self._store.outbox.provider_id(alert_id)
        if sent is None:
            return None  # the alert never went out (withdrawn): nothing to edit
        if not isinstance(channel, MessageEditor):
            return await channel.send(message)
        for message_id in sent.split(","):
            await channel.edit_message(row.address, message_id.strip(), row.text)
        return sent

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
