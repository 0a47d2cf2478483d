"""A flow published from the console reaches the running bot: new conversations
start on it, conversations under way finish on theirs, and a restart keeps it."""

from __future__ import annotations

from pathlib import Path

from bot_support import Bot, make_config, paragraphs
from support import RecordingChannel

from bot.app import App

OLD = "Terima kasih atas kepercayaan Anda."
NEW = "Terima kasih banyak; kami menjaga kepercayaan Anda."


async def test_a_publish_reaches_new_conversations_and_spares_running_ones(
    bot: Bot, tmp_path: Path
) -> None:
    shelf = bot.app.flows
    assert shelf is not None
    await bot.start("a")  # mid-way: asked for consent on the bundled version
    old_version = shelf.library.current_version("welcome")
    version, changed = await shelf.publish("welcome", shelf.source("welcome").replace(OLD, NEW))
    assert changed and version != old_version
    await bot.send("a", "setuju")
    await bot.start("b")
    await bot.send("b", "setuju")
    said_to_a = paragraphs(bot.channel.texts_to("a"))
    said_to_b = paragraphs(bot.channel.texts_to("b"))
    assert OLD in said_to_a and NEW not in said_to_a
    assert NEW in said_to_b and OLD not in said_to_b


async def test_a_published_flow_survives_a_restart_and_can_be_rolled_back(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path / "data")
    channel = RecordingChannel()
    app = await App.open(config, [channel], env={})
    assert app.flows is not None
    bundled = app.flows.library.current_version("welcome")
    edited, _ = await app.flows.publish("welcome", app.flows.source("welcome").replace(OLD, NEW))
    await app.stop()

    app = await App.open(config, [channel], env={})
    try:
        assert app.flows is not None
        assert app.flows.library.current_version("welcome") == edited
        await app.flows.make_current("welcome", bundled)
        assert app.flows.library.current_version("welcome") == bundled
        assert app.flows.library.has_flow("welcome", edited)  # still held for old chats
    finally:
        await app.stop()
    app = await App.open(config, [channel], env={})
    try:
        assert app.flows is not None
        assert app.flows.library.current_version("welcome") == bundled
    finally:
        await app.stop()
