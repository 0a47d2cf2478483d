"""Channel names with an office: `telegram:tual` is office `tual`'s own Telegram bot.

A channel's name is stored on every contact, inbox and outbox row. The default
office's channels keep their plain names (`telegram`, `whatsapp`, `webchat`); an
office with a bot token or WhatsApp sender of its own has a channel instance named
`<kind>:<office code>` (bot.officechannels). The name keeps `contacts (channel,
address_bidx)` unique per bot: one person writing to two offices' bots is two
contacts, each answered by the bot they wrote to, and a contact first seen on
`telegram:tual` starts in office `tual` (storage.conversation.contacts).
"""

from __future__ import annotations

__all__ = ["SEPARATOR", "instance_name", "kind_of", "office_of"]

SEPARATOR = ":"


def instance_name(kind: str, office: str) -> str:
    """`telegram` for the default office (""), `telegram:tual` for office `tual`."""
    return f"{kind}{SEPARATOR}{office}" if office else kind


def kind_of(channel: str) -> str:
    """The adapter a channel name is an instance of: `telegram` for `telegram:tual`."""
    return channel.split(SEPARATOR, 1)[0]


def office_of(channel: str) -> str:
    """The office code a channel instance belongs to; "" for the default office's."""
    _, _, office = channel.partition(SEPARATOR)
    return office
