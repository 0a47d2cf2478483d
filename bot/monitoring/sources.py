"""What readiness, metrics and the notices read: the app's counts and write state, each
channel's pulse, the store's indexed counts. Built once by `bot.run`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.core.pulse import Pulse
from bot.core.tally import Tally
from bot.core.writehealth import WriteHealth
from storage.store import Store

__all__ = ["Sources", "pulses_of"]


@dataclass(frozen=True, slots=True)
class Sources:
    config: Config
    store: Store
    writes: WriteHealth
    tally: Tally
    pulses: Mapping[str, Pulse]  # per channel that has one (Telegram, WhatsApp)
    channels: tuple[str, ...]  # every channel running
    clock: Callable[[], datetime]


def pulses_of(channels: Iterable[object]) -> dict[str, Pulse]:
    """Each channel's `pulse`, by channel name (a channel without one has no entry)."""
    found: dict[str, Pulse] = {}
    for channel in channels:
        pulse = getattr(channel, "pulse", None)
        name = getattr(channel, "name", None)
        if isinstance(pulse, Pulse) and isinstance(name, str):
            found[name] = pulse
    return found
