"""The bot's one exception hierarchy: every error the service raises on purpose.

Messages name what was wrong and where (a setting's key, a flow id, an address);
they never carry a person's words or number. Catch `BotError` to handle any of
them; the leaves say what happened.

    BotError
     ├── ConfigError          bot.config: a setting is missing or malformed (names the key)
     ├── StartupError         bot.app: keys, flows, texts or the store cannot be opened
     ├── ServiceError         bot.run: the service cannot start (what to fix)
     ├── WebError             bot.web: the web server could not start (names the address)
     ├── TextsError           bot.core.texts: texts.toml is incomplete or malformed
     ├── DeliveryError        bot.channels.base: a reply could not be delivered now
     │    ├── RetryLater       wait (rate limit) or failed transiently
     │    ├── Unreachable      the person cannot be reached
     │    ├── Undeliverable    this reply can never go; the person still can be reached
     │    └── Held             the channel put the reply aside to go later
     ├── ChannelSetupError    bot.channels.base: a channel cannot open or start
     │    ├── UnknownChannel       bot.channels.registry: no channel has the configured name
     │    ├── TelegramSetupError   bot.channels.telegram: the token is refused, the API unreachable
     │    └── WhatsAppSetupError   bot.channels.whatsapp: Twilio refused the credentials
     ├── FetchError           bot.channels.media: a family's photo or voice note not fetched
     │    ├── FetchLater       a transient failure: try again
     │    └── FetchRefused     it will never come (gone, forbidden, too large)
     ├── WindowClosed         bot.channels.whatsapp: free text refused outside the window
     ├── ShelfError           bot.flowhost.shelf: a flow id or version not on the shelf
     ├── BookingError         bot.booking: an admin's input cannot be used
     ├── RosterInputError     bot.handoff.roster: a roster entry cannot be read (a ValueError)
     ├── PasswordError        bot.console.auth.passwords: a password cannot be set (a ValueError)
     └── ChatTokenError       bot.console.draft_chat: a test chat's token is not ours (a ValueError)

`bot.safety` keeps its own `SafetyError` for now: that package is being rewritten.
"""

from __future__ import annotations

__all__ = ["BotError"]


class BotError(Exception):
    """Base of every error the bot raises on purpose; the message says what and where."""
