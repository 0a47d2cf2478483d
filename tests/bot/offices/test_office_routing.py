"""Which office a family belongs to, and who is told of its crisis.

A deep link (`/start ambon`) puts the family with that office; its case opens
there and alerts only that office's counsellors. A counsellor of another
office cannot take it, nor learn from the desk that it exists.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot_support import Bot

from bot.core.texts import BotTexts
from storage.offices.repo import DEFAULT_OFFICE_ID

TEXTS = BotTexts.bundled()
URGENT = "suami saya memukuli saya sekarang"


def now() -> datetime:
    return datetime.now(UTC)


async def linked(bot: Bot, username: str, office_id: int, chat: str) -> int:
    staff = bot.app.store.staff
    member = await staff.add(username, username.title(), ["counsellor"], now(), office_id=office_id)
    await bot.send(chat, f"/link {await staff.issue_link_code(member.id, now())}")
    return member.id


async def contact_office(bot: Bot, address: str) -> int | None:
    contact = await bot.app.store.contacts.find("test", address)
    assert contact is not None
    return await bot.app.store.offices.office_of_contact(contact.id)


async def test_a_deep_link_puts_the_family_with_that_office(bot: Bot) -> None:
    ambon = await bot.app.store.offices.add("ambon", "LK3 Kota Ambon", now())
    await bot.send("fam-1", "Ambon", kind="start")
    assert await contact_office(bot, "fam-1") == ambon.id
    assert bot.channel.texts_to("fam-1"), "the greeting still follows"


async def test_no_link_or_an_unknown_code_leaves_the_family_in_the_default_office(
    bot: Bot,
) -> None:
    await bot.app.store.offices.add("ambon", "LK3 Kota Ambon", now())
    await bot.send("fam-1", "", kind="start")
    await bot.send("fam-2", "saumlaki", kind="start")
    await bot.send("fam-3", "halo")
    for family in ("fam-1", "fam-2", "fam-3"):
        assert await contact_office(bot, family) == DEFAULT_OFFICE_ID


async def test_a_crisis_alerts_only_the_counsellors_of_the_familys_office(bot: Bot) -> None:
    ambon = await bot.app.store.offices.add("ambon", "LK3 Kota Ambon", now())
    await linked(bot, "sari", DEFAULT_OFFICE_ID, "sari-phone")
    await linked(bot, "nona", ambon.id, "nona-phone")
    sari_before = len(bot.channel.texts_to("sari-phone"))
    await bot.send("fam-1", "ambon", kind="start")
    await bot.send("fam-1", URGENT)
    contact = await bot.app.store.contacts.find("test", "fam-1")
    assert contact is not None
    case = await bot.app.store.handoff.live_for(contact.id)
    assert case is not None and case.office_id == ambon.id
    assert bot.app.escalation is not None
    await bot.app.escalation.run_once()
    await bot.app.wait_idle()
    assert any(case.code in t for t in bot.channel.texts_to("nona-phone"))
    assert not any(case.code in t for t in bot.channel.texts_to("sari-phone")[sari_before:])
    # Sari's desk: the code does not exist for her, and her queue does not list it.
    await bot.send("sari-phone", f"/ambil {case.code}")
    assert bot.channel.texts_to("sari-phone")[-1] == TEXTS.get("handoff.not_found", "id")
    await bot.send("sari-phone", "/antrian")
    assert case.code not in bot.channel.texts_to("sari-phone")[-1]
    after = await bot.app.store.handoff.get(case.id)
    assert after is not None and after.status == "open"


async def test_a_click_to_chat_first_message_naming_an_office_routes_like_a_link(
    bot: Bot,
) -> None:
    """WhatsApp and the web chat have no /start: `wa.me/...?text=LK3%20Ambon` fills in the
    first message. Only a new conversation's first message counts; later words are answers."""
    ambon = await bot.app.store.offices.add("ambon", "LK3 Kota Ambon", now())
    tual = await bot.app.store.offices.add("tual", "LK3 Kota Tual", now())
    await bot.send("fam-1", "LK3 Ambon")
    assert await contact_office(bot, "fam-1") == ambon.id
    assert bot.channel.texts_to("fam-1"), "the greeting still follows"
    await bot.send("fam-1", "tual")  # in a conversation: an answer, not a link
    assert await contact_office(bot, "fam-1") == ambon.id
    await bot.send("fam-2", "tolong saya di tual")  # words, not a code
    assert await contact_office(bot, "fam-2") == DEFAULT_OFFICE_ID
    await bot.send("fam-3", " Tual! ")
    assert await contact_office(bot, "fam-3") == tual.id
