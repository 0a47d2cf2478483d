"""WhatsApp's 24-hour customer service window, as plain arithmetic (no SDK, no I/O).

WhatsApp takes free text from a business only within 24 hours of the person's
last message; after that, only approved templates (Twilio error 63016 otherwise).
The channel decides with `remaining`; the console and the staff desk can show a
counsellor how long a reply may still be free text with `describe`.

A small margin is kept: a reply that leaves at 23:59 may reach Twilio after the
window closed, and what Twilio refuses the family never sees.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.texts import BotTexts

__all__ = ["MARGIN", "WINDOW", "describe", "is_open", "remaining"]

WINDOW = timedelta(hours=24)
MARGIN = timedelta(minutes=10)


def remaining(last_inbound_at: datetime | None, now: datetime) -> timedelta:
    """How long free text may still be sent (zero once the window is closed or never opened)."""
    if last_inbound_at is None:
        return timedelta(0)
    return max(timedelta(0), last_inbound_at + WINDOW - MARGIN - now)


def is_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    return remaining(last_inbound_at, now) > timedelta(0)


def describe(left: timedelta, language: str, texts: BotTexts) -> str:
    """For a counsellor: how long the window has left, or what happens now it is closed."""
    if left <= timedelta(0):
        return texts.get("whatsapp.window.closed", language)
    minutes = int(left.total_seconds() // 60)
    return texts.get(
        "whatsapp.window.open", language, hours=str(minutes // 60), minutes=str(minutes % 60)
    )
