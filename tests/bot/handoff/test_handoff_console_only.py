"""A counsellor who works only in the web console (no Telegram) still holds the floor."""

from __future__ import annotations

from bot_support import Bot


async def test_while_a_console_only_counsellor_holds_the_case_the_bot_stays_silent(
    bot: Bot,
) -> None:
    app = bot.app
    assert app.handoff is not None
    member = await app.store.staff.add("rina", "Rina", ["counsellor"], app.handoff.now())
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    await bot.send("chat-1", "suami saya memukuli saya sekarang")
    case = await app.store.handoff.live_for(1)
    assert case is not None
    taken = await app.handoff.take(member.id, case.id)
    assert taken.outcome == "done"
    await app.wait_idle()

    before = len(bot.channel.sent)
    await bot.send("chat-1", "menu")
    await bot.send("chat-1", "halo, apakah ada orang?")
    assert bot.channel.sent[before:] == [], "the bot never talks over the counsellor"
    events = [e.event for e in await app.store.handoff.events(case.id)]
    assert events.count("relayed_in") == 2, "both messages are in the case for the console"
