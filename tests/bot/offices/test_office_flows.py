"""A family hears its own office's flows: a publish for Ambon reaches Ambon's families only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot_support import Bot, make_config
from support import Clock
from support.channels import RecordingChannel

from bot.app import App
from bot.flowhost.shelves import CATCH_UP

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


async def test_an_office_added_while_the_bot_runs_is_heard_without_a_restart(
    tmp_path: Path,
) -> None:
    """One office at the start; `lk3 office add tual` meanwhile (here: a write to the same
    database); within `CATCH_UP` the bot has Tual's shelf, and a family who arrives by
    Tual's link hears what Tual's admin published, the others the folder's words."""
    clock = Clock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    channel = RecordingChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={}, clock=clock)
    await app.start()
    try:
        bot = Bot(app, channel)
        assert app.shelves is not None and not app.shelves.several
        await bot.send("fam-utama", "", kind="start")
        tual = await app.store.offices.add("tual", "LK3 Kota Tual", clock())
        clock.advance(CATCH_UP.total_seconds())
        await bot.send("fam-tual-1", "tual", kind="start")  # the turn looked: Tual's shelf
        assert app.shelves.has(tual.id)
        shelf = app.shelves.for_office(tual.id)
        source = shelf.source("welcome")
        await shelf.publish("welcome", source.replace(THANKS, "Salam dari Tual, selamat datang di"))
        await bot.send("fam-tual", "tual", kind="start")
        assert "Salam dari Tual" in "\n".join(channel.texts_to("fam-tual"))
        assert "Salam dari Tual" not in "\n".join(channel.texts_to("fam-utama"))
    finally:
        await app.stop()


async def test_a_family_hears_its_own_offices_faq(tmp_path: Path) -> None:
    """Tual's admin published Tual's faq.toml: Tual's families get its answer, the default
    office's families the folder's."""
    config = make_config(tmp_path / "data")
    first = await App.open(config, [], env={})
    tual = await first.store.offices.add("tual", "LK3 Kota Tual", datetime.now(UTC))
    await first.stop()
    channel = RecordingChannel()
    app = await App.open(config, [channel], env={})
    await app.start()
    try:
        bot = Bot(app, channel)
        assert app.shelves is not None
        shelf = app.shelves.for_office(tual.id)
        faq = shelf.file_source("faq")
        await shelf.publish_file("faq", faq.replace("Kantor kami buka", "Kantor Tual buka"))
        await bot.send("fam-tual", "tual", kind="start")
        await bot.send("fam-utama", "", kind="start")
        for address in ("fam-tual", "fam-utama"):
            await bot.send(address, "jam buka kantor?")
        assert "Kantor Tual buka" in "\n".join(channel.texts_to("fam-tual"))
        utama = "\n".join(channel.texts_to("fam-utama"))
        assert "Kantor kami buka" in utama and "Kantor Tual buka" not in utama
    finally:
        await app.stop()
