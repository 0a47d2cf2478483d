"""Twilio's limits and error codes, the channel's paths, and its pacing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = [
    "CHANNEL",
    "HOLD",
    "HOLD_EXPIRED",
    "INCOMING_PATH",
    "MAX_TEXT",
    "MAX_WEBHOOK_BODY",
    "NO_TEMPLATE",
    "REDELIVERIES",
    "STATUS_PATH",
    "Part",
    "Tuning",
]

CHANNEL = "whatsapp"
INCOMING_PATH = "/twilio/whatsapp"
STATUS_PATH = "/twilio/status"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_TEXT = 1600  # Twilio refuses a longer Body
MAX_TEMPLATE_BODY = 1024  # a quick-reply or list-picker body
MAX_BUTTON_TITLE = 20  # quick-reply button
MAX_LIST_ITEM = 24  # list-picker row
MAX_CHOICE_ID = 200
MAX_QUICK_REPLIES = 3  # in a session, without approval
MAX_WEBHOOK_BODY = 64 * 1024  # Twilio's own posts are a few kilobytes
HOLD = timedelta(days=7)
"""How long a reply waits for the person to open the window again before it fails."""
REDELIVERIES = 3
"""How often a message the handset could not take is sent again before it is reported."""
NO_TEMPLATE = "outside_window_no_template"
HOLD_EXPIRED = "outside_window_expired"
WINDOW_CLOSED = 63016
# Twilio error codes that mean this person cannot be reached on WhatsApp at this number.
UNREACHABLE_CODES = {
    21211: "invalid_number",
    21614: "not_a_mobile_number",
    21610: "opted_out",
    63003: "not_on_whatsapp",
    63024: "invalid_recipient",
    30004: "blocked",
    30005: "unknown_handset",
    30006: "landline",
}
# ... and those worth another try later (a phone switched off, a queue full).
TRANSIENT_CODES = frozenset({30001, 30003, 30008, 63018})
RATE_LIMIT_CODES = frozenset({20429, 63018})


@dataclass(frozen=True, slots=True)
class Tuning:
    """Pacing and timeouts; the defaults suit Twilio, tests shorten them."""

    per_chat_interval: float = 1.0  # keeps one person's messages in order on their phone
    max_per_second: float = 20.0
    request_timeout: float = 15.0
    redelivery_delay: float = 300.0  # first wait before sending again what a handset missed


@dataclass(frozen=True, slots=True)
class Part:
    """One Twilio message: a Body, or a content template with its variables."""

    body: str = ""
    content_sid: str = ""
    variables: tuple[tuple[str, str], ...] = ()
