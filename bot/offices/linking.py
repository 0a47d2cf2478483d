"""Which bot a counsellor links: their own office's.

A staff member's alerts, the families' relayed words and the desk's answers all go
to the one chat they linked with `/link`, through the bot that chat belongs to
(the outbox sends through the channel named on the staff contact's rows). Telegram
lets a bot write only to people who wrote to it first, so an alert cannot be moved
to another bot. When an office has its own bot (`[offices.tual.telegram]`), its
counsellors link on that bot: alerts about tual's cases then come from tual's bot,
the bot tual's families write to, and a family's photo or voice note is copied
between chats of one bot instead of fetched and uploaded.

Linking elsewhere still links (a counsellor is never left without alerts); the
answer adds a note saying where they should link instead.
"""

from __future__ import annotations

from bot.config import Config
from storage.channels.instances import instance_name
from storage.offices.schema import DEFAULT_OFFICE_CODE
from storage.records import StaffMember
from storage.store import Store

__all__ = ["office_bot", "own_bot_elsewhere", "where_to_link"]


def office_bot(config: Config, code: str) -> str | None:
    """The channel name of office `code`'s own Telegram bot, None if it has none."""
    name = instance_name("telegram", "" if code == DEFAULT_OFFICE_CODE else code)
    return name if name in config.channels else None


async def own_bot_elsewhere(
    store: Store, config: Config, member: StaffMember, channel: str
) -> str | None:
    """The name of the member's office when it has its own Telegram bot and `channel`
    (where they just linked) is not it; None when they linked where they should."""
    if len(config.channels) < 2:
        return None  # one bot: nothing to choose (one office reads nothing more)
    office = await store.offices.get(member.office_id)
    code = office.code if office is not None else DEFAULT_OFFICE_CODE
    expected = office_bot(config, code)
    if expected is None or expected == channel:
        return None
    return config.for_office(code).office.name


async def where_to_link(store: Store, config: Config, member: StaffMember) -> str:
    """Which bot `lk3 staff link-code` tells the member to send `/link` to."""
    office = await store.offices.get(member.office_id)
    code = office.code if office is not None else DEFAULT_OFFICE_CODE
    if code == DEFAULT_OFFICE_CODE or office_bot(config, code) is None:
        return "the bot"
    return f"office {code}'s own bot ([offices.{code}.telegram])"
