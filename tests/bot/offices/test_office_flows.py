"""A family hears its own office's flows: a publish for Ambon reaches Ambon's families only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot_support import Bot, make_config
from support.channels import RecordingChannel

from bot.app import App

THANKS = "Halo, selamat datang di layanan"


async def test_a_publish_for_one_office_reaches_that_offices_families_only(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path / "data")
    first = await App.open(config, [], env={})
    ambon = await first.store.offices.add("ambon", "LK3 Kota Ambon", datetime.now(UTC))
    await first.stop()
    channel = RecordingChannel()
    app = await App.open(config, [channel], env={})
    await app.start()
    try:
        bot = Bot(app, channel)
        assert app.shelves is not None and app.shelves.has(ambon.id)
        shelf = app.shelves.for_office(ambon.id)
        source = shelf.source("welcome")
        assert THANKS in source
        await shelf.publish(
            "welcome", source.replace(THANKS, "Salam dari Ambon, selamat datang di")
        )
        await bot.send("fam-ambon", "ambon", kind="start")
        await bot.send("fam-utama", "", kind="start")
        ambon_words = "\n".join(channel.texts_to("fam-ambon"))
        utama_words = "\n".join(channel.texts_to("fam-utama"))
        assert "Salam dari Ambon" in ambon_words
        assert "Salam dari Ambon" not in utama_words and THANKS in utama_words
    finally:
        await app.stop()
