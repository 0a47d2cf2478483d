"""The Telegram channel, on python-telegram-bot: families and counsellors in private chats.

The only package that imports `telegram`. Inbound, each update becomes one or more
`Inbound`s that the pipeline stores before anything is acknowledged: in polling
mode our own `getUpdates` loop advances the offset only after the updates it
fetched are stored (PTB's Updater confirms them earlier, so a crash could lose
one); in webhook mode the request is answered 200 only once its update is stored.
Outbound, `send` delivers one reply: choices as inline buttons, emphasis
(`*menu*`) as bold, long texts in parts of at most 4096 characters, and the Bot
API's refusals mapped to `RetryLater` or `Unreachable` for the outbox sender.

    channel    TelegramChannel: the adapter the bot opens, binds, starts, sends through, stops
    receive    the getUpdates loop, the webhook endpoint; what an update carries, as `Inbound`s
    send       one reply: parts, bold entities, the plain fallback, group pacing
    keyboards  inline keyboards, and `LiveKeyboards`: which chat shows which buttons
    staff      the hand-off's calls: alerts edited, media copied, quick-exit deletes
    errors     Bot API refusals as `DeliveryError`s; `TelegramSetupError`
    protocol   the Bot API's limits and our button conventions; `Tuning`
    http       the aiohttp transport python-telegram-bot sends through

Importing the package registers the adapter as "telegram", keeps payloads out of
PTB's logs and the token out of HTTP logs.
"""

from __future__ import annotations

import logging
import os
import warnings

from telegram.warnings import PTBUserWarning

from bot.channels.registry import ChannelAdapter, Setup, register

# Replies and keyboard edits go through Bot.do_api_request (send.py, channel.py),
# which python-telegram-bot answers with a suggestion to use its own method instead.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendMessage|editMessageReplyMarkup)' instead",
    category=PTBUserWarning,
)
# The Bot API address carries the token: no HTTP client may log request lines.
logging.getLogger("httpx").setLevel(logging.WARNING)
# PTB 22 deprecates integer time periods (`RetryAfter.retry_after`) and warns on
# every access unless this opts in to the coming `timedelta`s; we read both.
os.environ.setdefault("PTB_TIMEDELTA", "true")


class _WithholdPayloads(logging.Filter):
    """PTB logs raw update data when it cannot parse it: keep the words out of our logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{str(record.msg).split('%', 1)[0].rstrip()} (payload withheld)"
            record.args = None
        return True


for _name in ("telegram.Bot", "telegram.request.BaseRequest"):
    logging.getLogger(_name).addFilter(_WithholdPayloads())


def _adapter(setup: Setup) -> ChannelAdapter:
    """The channel of `[telegram]`, or of an office's own bot (`telegram:tual`), tuned by
    the option given for "telegram" (tests)."""
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.telegram.protocol import CHANNEL, Tuning
    from bot.officechannels import telegram_settings

    tuning = setup.option(CHANNEL, Tuning, Tuning())
    settings = telegram_settings(setup.config, setup.office)
    return TelegramChannel.from_config(settings, setup.texts, tuning=tuning, office=setup.office)


register("telegram", _adapter, instances=True)
