"""A transport at the network edge: records what it is given, fails when told to."""

from __future__ import annotations

from collections import deque

from bot.channels.base import DeliveryError, Outbound

__all__ = ["RecordingChannel"]


class RecordingChannel:
    """The channel `test`: each reply is kept in `sent`; queued `failures` are raised first."""

    name = "test"
    buttons = True
    max_per_second = 1000.0
    per_chat_interval = 0.0

    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self.failures: deque[DeliveryError] = deque()

    async def send(self, message: Outbound) -> str | None:
        if self.failures:
            raise self.failures.popleft()
        self.sent.append(message)
        return f"p{message.outbox_id}"

    def texts_to(self, address: str) -> list[str]:
        return [m.text for m in self.sent if m.address == address]
