"""What Twilio's refusal means for the outbox; the error the channel's start-up raises.

    WhatsAppSetupError   the channel cannot start: Twilio refused the credentials or is unreachable
    (every other Twilio error stays inside: sends raise `DeliveryError`s)
"""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioException

from bot.channels.base import ChannelSetupError, DeliveryError, RetryLater, Unreachable
from bot.channels.whatsapp.http import RETRY_AFTER
from bot.channels.whatsapp.protocol import RATE_LIMIT_CODES, UNREACHABLE_CODES, WINDOW_CLOSED
from bot.errors import BotError

__all__ = ["WhatsAppSetupError", "WindowClosed", "code_of", "delivery_error", "network_code"]

log = logging.getLogger(__name__)


class WhatsAppSetupError(ChannelSetupError):
    """The WhatsApp channel cannot start; the message says what to check."""


class WindowClosed(BotError):
    """Twilio refused free text: the window is closed although our clock said open."""


def delivery_error(exc: TwilioException) -> DeliveryError:
    """What Twilio's refusal means for the outbox: wait and retry, or give up on the person."""
    status = int(getattr(exc, "status", 0) or 0)
    code = code_of(exc)
    if code in UNREACHABLE_CODES:
        return Unreachable(UNREACHABLE_CODES[code])
    if status == 429 or code in RATE_LIMIT_CODES:
        return RetryLater("rate_limited", retry_after=RETRY_AFTER.get())
    if status >= 500:
        return RetryLater(f"twilio_{status}")
    if status in (401, 403) or code == 20003:
        log.error("whatsapp: Twilio refused the credentials (%s)", code or status)
        return RetryLater("twilio_auth")
    if code == WINDOW_CLOSED:
        return RetryLater("window_closed")
    return RetryLater(f"twilio_{code or status}")


def code_of(exc: TwilioException) -> int:
    """Twilio's error code of a refusal (0 if it has none)."""
    code = getattr(exc, "code", None)
    try:
        return int(code) if code is not None else 0
    except (TypeError, ValueError):
        return 0


def network_code(exc: BaseException) -> str:
    return "timed_out" if isinstance(exc, TimeoutError) else "network"
