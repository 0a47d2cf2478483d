"""What a Bot API refusal means for the outbox; the error the channel's start-up raises.

    TelegramSetupError   the bot cannot start: the token is refused, the Bot API unreachable
    (every other Telegram error stays inside: sends raise `DeliveryError`s)
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import ChannelSetupError, DeliveryError, RetryLater, Unreachable

__all__ = ["TelegramSetupError", "delivery_error", "quietly", "retry_seconds"]

log = logging.getLogger(__name__)


class TelegramSetupError(ChannelSetupError):
    """The Telegram channel cannot start; the message says what to check."""


def delivery_error(exc: TelegramError) -> DeliveryError:
    """What a Bot API refusal means for the outbox: wait and retry, or give up on the chat."""
    text = str(exc).lower()
    if isinstance(exc, RetryAfter):
        return RetryLater("rate_limited", retry_after=retry_seconds(exc))
    if isinstance(exc, Forbidden):
        if "blocked" in text:
            return Unreachable("blocked")
        if "deactivated" in text:
            return Unreachable("deactivated")
        return Unreachable("forbidden")
    if isinstance(exc, ChatMigrated):
        return Unreachable("chat_migrated")
    if isinstance(exc, BadRequest):
        if "chat not found" in text or "user not found" in text or "peer_id_invalid" in text:
            return Unreachable("chat_not_found")
        return RetryLater("bad_request")
    if isinstance(exc, TimedOut):
        return RetryLater("timed_out")
    if isinstance(exc, InvalidToken | EndPointNotFound):
        # do_api_request (replies) reports a refused token as an unknown endpoint.
        return RetryLater("token_refused")
    if isinstance(exc, NetworkError):
        return RetryLater("network")
    return RetryLater("telegram_error")


def retry_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds, whichever type this PTB version gives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def quietly(what: str, call: Awaitable[object]) -> None:
    """Runs a Bot API call whose failure must not fail anything else; logs the error code."""
    try:
        await call
    except TelegramError as exc:
        log.info("telegram: %s failed (%s)", what, type(exc).__name__)
