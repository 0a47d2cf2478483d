"""The Bot API's limits, our conventions for button data, and the channel's pacing."""

from __future__ import annotations

import json
from dataclasses import dataclass

from telegram import LinkPreviewOptions

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "CHOSEN",
    "COMMANDS",
    "MAX_CALLBACK_DATA",
    "MAX_TEXT",
    "MAX_WEBHOOK_BODY",
    "NO_PREVIEW_JSON",
    "SECRET_HEADER",
    "TOKEN_PREFIX",
    "TYPED",
    "UPDATES_PER_FETCH",
    "WEBHOOK_PATH",
    "Tuning",
]

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_WEBHOOK_BODY = 1 << 20
# Button data beginning with this is ours: a token for a long value, or the chosen mark.
TOKEN_PREFIX = "~"
CHOSEN = "~chosen"
# The command menu; each name needs `telegram.commands.<name>` in texts.toml.
COMMANDS = ("start", "help", "menu", "bahasa", "berhenti", "hapus")
# Typed content after which the buttons shown before no longer answer anything.
TYPED = frozenset({"text", "start"})
NO_PREVIEW_JSON = json.dumps(LinkPreviewOptions(is_disabled=True).to_dict())
# getUpdates answers at most this many updates (python-telegram-bot's default limit).
UPDATES_PER_FETCH = 100


@dataclass(frozen=True, slots=True)
class Tuning:
    """Pacing and timeouts; the defaults follow Telegram's limits, tests shorten them."""

    per_chat_interval: float = 1.0  # at most one message a second to one chat
    group_interval: float = 3.0  # at most 20 a minute to one group
    typing_delay: float = 1.0  # show "typing…" when no reply has gone out by then
    # "typing…" hints a second at most: in a flood (hundreds of families waiting at
    # once) each would be one more Bot API call when calls are scarcest; past this
    # budget the hint is skipped, never the reply.
    typing_per_second: float = 5.0
    poll_timeout: int = 25  # long-poll seconds per getUpdates
    # After a failed getUpdates: waits double from the first to the cap (with jitter), so
    # the bot hears again within the cap of Telegram answering (bot.backoff).
    poll_retry_first: float = 0.5
    poll_retry_cap: float = 5.0
    request_timeout: float = 10.0  # per Bot API call (a long poll adds its own seconds)
