"""Each office's own words: `[offices.<code>]` over `[office]`, and the family hears its office's.

One office needs no section and reads nothing more per turn. With several, a
family routed to Tual is greeted by LK3 Kota Tual and, in danger, given Tual's
numbers; a family without a link hears the default office as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import Bot
from support.channels import RecordingChannel

from bot.app import App
from bot.config import Config, ConfigError, load_config
from bot.core.texts import BotTexts
from bot.handoff.reach import WHO_IS_TOLD, WhoIsTold

TUAL = """
[office]
name = "LK3 Kota Ambon"
phone = "0911 000"

[offices.tual]
name = "LK3 Kota Tual"
hours = "Senin–Jumat, 08.00–15.00 WIT"
hotlines = [{ name = "Polres Maluku Tenggara", number = "0916-21110" }]
"""


def config_from(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "lk3.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, env={})
    return dataclasses.replace(config, data_dir=tmp_path / "data")


def test_an_office_section_keeps_what_it_does_not_say_from_the_default_office(
    tmp_path: Path,
) -> None:
    config = config_from(tmp_path, TUAL)
    (tual,) = config.offices
    assert tual.code == "tual"
    assert tual.office.name == "LK3 Kota Tual"
    assert tual.office.phone == "0911 000"  # not given: the default office's
    assert [h.number for h in tual.hotlines] == ["0916-21110"]
    seen = config.for_office("tual").context_values("id")
    assert seen["office_name"] == "LK3 Kota Tual" and "0916-21110" in seen["hotlines"]
    assert config.for_office("utama") is config
    assert config_from(tmp_path, "").offices == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[offices.Tual]\nname = "X"', "an office code is 2-32 characters"),
        ('[offices.utama]\nname = "X"', "the default office is \\[office\\] itself"),
        ('[offices.tual]\nfax = "1"', "'offices.tual.fax' is not a known setting"),
        ('[offices.tual]\ntimezone = "Mars/Base"', "'offices.tual.timezone' has value"),
        ('[offices.tual]\nname = " "', "'offices.tual.name' is empty"),
        ("offices = 3", "one table per office"),
    ],
)
def test_a_wrong_office_section_is_refused_by_name(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        config_from(tmp_path, text)


@pytest.fixture
async def tual_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    channel = RecordingChannel()
    app = await App.open(config_from(tmp_path, TUAL), [channel], env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def test_lk3_run_adds_the_offices_the_configuration_names(tual_bot: Bot) -> None:
    codes = [(o.code, o.name) for o in await tual_bot.app.store.offices.list()]
    assert codes == [("utama", ""), ("tual", "LK3 Kota Tual")]


async def test_a_family_routed_to_tual_hears_tuals_name_and_numbers(tual_bot: Bot) -> None:
    await tual_bot.send("fam-tual", "tual", kind="start")
    greeting = "\n".join(tual_bot.channel.texts_to("fam-tual"))
    assert "LK3 Kota Tual" in greeting and "LK3 Kota Ambon" not in greeting
    await tual_bot.send("fam-tual", "suami saya memukuli saya sekarang")
    danger = "\n".join(tual_bot.channel.texts_to("fam-tual"))
    assert "0916-21110" in danger
    await tual_bot.send("fam-ambon", "halo")
    assert "LK3 Kota Ambon" in "\n".join(tual_bot.channel.texts_to("fam-ambon"))


async def test_who_is_told_reads_the_roster_of_the_familys_office(tual_bot: Bot) -> None:
    """Tual has a counsellor on duty around the clock, the default office nobody: each
    family in danger is told honestly about its own office."""
    store = tual_bot.app.store
    tual = await store.offices.by_code("tual")
    assert tual is not None
    nona = await store.staff.add("nona", "Nona", ["counsellor"], datetime.now(UTC))
    await store.offices.assign_staff(nona.id, tual.id)
    await tual_bot.send(
        "nona-phone", f"/link {await store.staff.issue_link_code(nona.id, datetime.now(UTC))}"
    )
    for day in range(7):
        await store.roster.add(nona.id, day, 0, 1440, datetime.now(UTC))
    config, texts = tual_bot.app.config, BotTexts.bundled()
    now = datetime.now(UTC)
    there = await WhoIsTold(store, config.for_office("tual"), texts, tual.id).load(now, "id")
    here = await WhoIsTold(store, config, texts).load(now, "id")
    assert there[WHO_IS_TOLD] != here[WHO_IS_TOLD]
    assert there[WHO_IS_TOLD] == texts.get(
        "handoff.told.on_duty", "id", **config.for_office("tual").context_values("id")
    )
