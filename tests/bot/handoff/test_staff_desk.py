"""The staff desk on any channel: guessing link codes, and staff who are deactivated."""

from __future__ import annotations

from datetime import UTC, datetime

from bot_support import Bot

from bot.core.texts import BotTexts
from bot.handoff.desk import LINK_ATTEMPTS_PER_HOUR

TEXTS = BotTexts.bundled()


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_chat_that_keeps_guessing_codes_is_refused_even_the_right_one(bot: Bot) -> None:
    staff = bot.app.store.staff
    sari = await staff.add("sari", "Sari Wattimena", ["counsellor"], now())
    for guess in range(LINK_ATTEMPTS_PER_HOUR):
        await bot.send("guesser", f"/link WRONG{guess:03d}")
    code = await staff.issue_link_code(sari.id, now())
    await bot.send("guesser", f"/link {code}")
    assert bot.channel.texts_to("guesser")[-1] == TEXTS.get("staff.link_refused", "id")
    member = await staff.get(sari.id)
    assert member is not None and member.contact_id is None
    # The code itself is still good for Sari's own chat.
    await bot.send("sari-phone", f"/link {code}")
    assert bot.channel.texts_to("sari-phone") == [TEXTS.get("staff.linked", "id", username="sari")]


async def test_a_deactivated_counsellor_is_a_stranger_again(bot: Bot) -> None:
    staff = bot.app.store.staff
    sari = await staff.add("sari", "Sari Wattimena", ["counsellor"], now())
    await bot.send("sari-phone", f"/link {await staff.issue_link_code(sari.id, now())}")
    await bot.send("sari-phone", "/bantuan")
    assert bot.channel.texts_to("sari-phone")[-1] == TEXTS.get("staff.help", "id")
    await staff.set_active(sari.id, False, now())
    before = len(bot.channel.texts_to("sari-phone"))
    await bot.send("sari-phone", "halo")
    replies = bot.channel.texts_to("sari-phone")[before:]
    assert any("selamat datang" in r.lower() for r in replies), "the family greeting"
