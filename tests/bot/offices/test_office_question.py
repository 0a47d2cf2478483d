"""The first question: a family without a deep link says where they live, and is put with
that office by the `set_office` effect, in the turn's own commit.

The bundled flows ask nothing (one office needs no question); a province adds a flow
like `data/kantor.toml` and a command or a welcome step that leads to it.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import Bot, make_config
from support.channels import RecordingChannel

from bot.app import App
from bot.core.effects import PlanDraft, apply_effect
from bot.core.texts import BotTexts
from flows.exchange import ChannelCaps, Context, Effect
from flows.loader import bundled_library_dir
from flows.state import SessionState
from storage.offices.repo import DEFAULT_OFFICE_ID

HERE = Path(__file__).parent
COMMAND = """
[[commands]]
id = "office"
words = { id = ["kantor"], en = ["office"] }
goto = "kantor"
"""


@pytest.fixture
async def asking_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    flows = tmp_path / "flows"
    shutil.copytree(bundled_library_dir(), flows)
    shutil.copy(HERE / "data" / "kantor.toml", flows / "kantor.toml")
    with (flows / "globals.toml").open("a", encoding="utf-8") as globals_file:
        globals_file.write(COMMAND)
    config = dataclasses.replace(make_config(tmp_path / "data"), flows_dir=flows)
    channel = RecordingChannel()
    app = await App.open(config, [channel], env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def office_of(bot: Bot, address: str) -> int | None:
    contact = await bot.app.store.contacts.find("test", address)
    assert contact is not None
    return await bot.app.store.offices.office_of_contact(contact.id)


async def test_a_family_that_names_its_city_is_put_with_that_office(asking_bot: Bot) -> None:
    tual = await asking_bot.app.store.offices.add("tual", "LK3 Kota Tual", datetime.now(UTC))
    await asking_bot.send("fam-1", "halo")
    assert await office_of(asking_bot, "fam-1") == DEFAULT_OFFICE_ID
    await asking_bot.send("fam-1", "kantor")
    assert "kabupaten/kota mana" in asking_bot.channel.texts_to("fam-1")[-1]
    await asking_bot.send("fam-1", "Kota Tual")
    assert await office_of(asking_bot, "fam-1") == tual.id
    await asking_bot.send("fam-1", "suami saya memukuli saya sekarang")
    contact = await asking_bot.app.store.contacts.find("test", "fam-1")
    assert contact is not None
    case = await asking_bot.app.store.handoff.live_for(contact.id)
    assert case is not None and case.office_id == tual.id


async def test_a_city_no_office_has_changes_nothing(asking_bot: Bot) -> None:
    # "tual" is offered by the flow but was never added as an office here.
    await asking_bot.send("fam-2", "kantor")
    await asking_bot.send("fam-2", "Kota Tual")
    assert await office_of(asking_bot, "fam-2") == DEFAULT_OFFICE_ID


@pytest.mark.parametrize(("value", "office", "errors"), [("Tual", "tual", 0), ("", None, 1)])
def test_the_effect_takes_an_office_code_or_reports_the_authors_mistake(
    value: str, office: str | None, errors: int
) -> None:
    draft = PlanDraft(
        state=SessionState("id", (), ()),
        texts=BotTexts.bundled(),
        ctx=Context(now=datetime.now(UTC), channel=ChannelCaps(), values={}),
    )
    apply_effect(Effect("set_office", (("office", value),)), draft)
    assert draft.office == office and len(draft.errors) == errors
