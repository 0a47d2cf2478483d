"""The outbox sender hands a row with a ref to the handler its kind registered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bot_support import Bot, drain
from support import RecordingChannel

from bot.channels.base import Channel, Outbound
from bot.core.outbox import OutboxSender
from storage.records import NewOutbound, OutboxRef, OutboxRow


async def test_each_ref_kind_is_gated_and_delivered_by_its_own_handler(bot: Bot) -> None:
    await bot.start("chat-1")
    await bot.app.sender.stop()
    seen: list[tuple[str, OutboxRef | None]] = []

    async def gate(row: OutboxRow) -> str | None:
        seen.append(("gate", row.ref))
        return "withdrawn" if row.ref is not None and row.ref.action == "stale" else None

    async def deliver(row: OutboxRow, channel: Channel, message: Outbound) -> str | None:
        seen.append(("deliver", row.ref))
        return await channel.send(message)

    sender = OutboxSender(bot.app.store, {"test": bot.channel}, clock=lambda: datetime.now(UTC))
    sender.handle_refs("probe", gate=gate, deliver=deliver)
    now = datetime.now(UTC)
    fresh, stale = OutboxRef("probe", 1, "fresh"), OutboxRef("probe", 2, "stale")
    other = OutboxRef("unknown", 3)
    await bot.app.store.outbox.enqueue(
        [NewOutbound(1, "test", t, (), 5, now, ref) for t, ref in (("a", fresh), ("b", stale))]
        + [NewOutbound(1, "test", "c", (), 5, now, other)]
    )
    before = len(bot.channel.sent)
    await drain(sender)
    assert seen == [("gate", fresh), ("deliver", fresh), ("gate", stale)]
    # A kind nobody registered goes out as a plain message.
    assert [m.text for m in bot.channel.sent[before:]] == ["a", "c"]


def test_a_ref_kind_has_one_handler() -> None:
    sender = OutboxSender(None, {"test": RecordingChannel()}, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    sender.handle_refs("probe")
    with pytest.raises(ValueError, match="probe"):
        sender.handle_refs("probe")
