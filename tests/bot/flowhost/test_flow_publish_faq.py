"""The FAQ (faq.toml) lives in the flow folder beside globals.toml: a flow published
from the console is checked and run with it, so questions are still answered after."""

from __future__ import annotations

from bot_support import Bot, paragraphs

OLD = "Terima kasih atas kepercayaan Anda."
NEW = "Terima kasih banyak; kami menjaga kepercayaan Anda."


async def test_a_publish_keeps_the_faq_of_the_flow_folder(bot: Bot) -> None:
    shelf = bot.app.flows
    assert shelf is not None
    topics = [t.id for t in shelf.library.faq.topics]
    assert "hours" in topics
    assert [t.id for t in shelf.check("welcome", shelf.source("welcome")).faq.topics] == topics
    _, changed = await shelf.publish("welcome", shelf.source("welcome").replace(OLD, NEW))
    assert changed
    assert [t.id for t in shelf.library.faq.topics] == topics
    await bot.start("c")
    await bot.send("c", "jam buka kantor?")
    said = paragraphs(bot.channel.texts_to("c"))
    assert any(p.startswith("Kantor kami buka") for p in said)
