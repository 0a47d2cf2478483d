"""What the office pages (flows, bookings, figures) need from the running bot.

Passed to `build_console` by `lk3 run` from the `App` it started, so the
console calls the same hand-off, booking and flow code the bot uses instead
of building its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Config
from bot.core.texts import BotTexts
from bot.flowhost.shelf import FlowShelf
from bot.flowhost.shelves import FlowShelves
from bot.handoff.service import Handoff

__all__ = ["Office"]


@dataclass(frozen=True, slots=True)
class Office:
    config: Config
    texts: BotTexts
    handoff: Handoff
    flows: FlowShelf
    # Wakes the outbox sender, so a counsellor's reply from the console leaves at once.
    wake_sender: Callable[[], None] = lambda: None
    # Each office's flows (several offices); None: `flows` is every office's.
    shelves: FlowShelves | None = None
