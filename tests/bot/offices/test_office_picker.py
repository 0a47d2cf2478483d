"""The web chat's first question with several offices: "which regency or city?", one button
per office; the press puts the family with that office as a deep link does, and the
conversation begins with that office's greeting. One office: no question. A first
message with a concern is never held up by the question."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import Bot, make_config
from support.channels import RecordingChannel

from bot.app import App
from bot.channels.base import Inbound
from storage.channels.webchat import CHANNEL

QUESTION = "Anda tinggal di kabupaten atau kota mana?"


class WebChat(RecordingChannel):
    name = CHANNEL


class Family:
    def __init__(self, bot: Bot, address: str) -> None:
        self.bot, self.address, self.n = bot, address, 0

    async def say(self, kind: str, text: str) -> list[str]:
        """What the bot answered to this message."""
        before = len(self.bot.channel.texts_to(self.address))
        self.n += 1
        message = Inbound(CHANNEL, f"{self.address}-{self.n}", self.address, kind, text)
        await self.bot.app.receive(message)
        await self.bot.app.wait_idle()
        return self.bot.channel.texts_to(self.address)[before:]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        mine = [m for m in self.bot.channel.sent if m.address == self.address]
        return list(mine[-1].options)

    async def office(self) -> str:
        contact = await self.bot.app.store.contacts.find(CHANNEL, self.address)
        assert contact is not None
        office_id = await self.bot.app.store.offices.office_of_contact(contact.id)
        office = await self.bot.app.store.offices.get(office_id or 1)
        assert office is not None
        return office.code


async def open_bot(tmp_path: Path, *codes: str) -> AsyncIterator[Bot]:
    config = make_config(tmp_path / "data")
    first = await App.open(config, [], env={})
    for code in codes:
        await first.store.offices.add(code, f"LK3 Kota {code.title()}", datetime.now(UTC))
    await first.stop()
    channel = WebChat()
    app = await App.open(dataclasses.replace(config), [channel], env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


@pytest.fixture
async def province(tmp_path: Path) -> AsyncIterator[Bot]:
    async for bot in open_bot(tmp_path, "tual", "malteng"):
        yield bot


async def test_the_first_question_puts_the_family_with_the_office_pressed(province: Bot) -> None:
    family = Family(province, "w1")
    asked = await family.say("start", "")
    assert len(asked) == 1 and QUESTION in asked[0]
    assert asked[0].startswith("Selamat datang")
    assert [code for code, _ in family.buttons] == ["utama", "tual", "malteng"]
    assert ("tual", "LK3 Kota Tual") in family.buttons
    greeting = await family.say("choice", "tual")
    assert await family.office() == "tual"
    assert any("Halo, selamat datang di layanan" in t for t in greeting)
    assert not any(QUESTION in t for t in await family.say("text", "halo"))


async def test_typed_words_that_name_an_office_count_and_others_are_answered(
    province: Bot,
) -> None:
    typed = Family(province, "w2")
    await typed.say("start", "")
    await typed.say("text", "saya dari malteng")
    assert await typed.office() == "malteng"
    other = Family(province, "w3")
    await other.say("start", "")
    answer = await other.say("text", "jam buka kantor?")
    assert await other.office() == "utama"
    assert any(t.startswith("Kantor kami buka") for t in answer)


async def test_the_english_page_asks_in_english(province: Bot) -> None:
    family = Family(province, "w4")
    (asked,) = await family.say("start", "lang-en")
    assert "which regency or city do you live in?" in asked
    greeting = await family.say("choice", "tual")
    assert any("welcome" in t.lower() for t in greeting)


async def test_a_first_message_with_a_concern_goes_to_the_crisis_reply_at_once(
    province: Bot,
) -> None:
    family = Family(province, "w5")
    said = await family.say("text", "suami saya memukuli saya sekarang, tolong")
    assert not any(QUESTION in t for t in said)
    assert said, "the crisis reply"


async def test_one_office_asks_nothing(tmp_path: Path) -> None:
    async for bot in open_bot(tmp_path):
        family = Family(bot, "w6")
        said = await family.say("start", "")
        assert not any(QUESTION in t for t in said)
        assert any("Halo, selamat datang di layanan" in t for t in said)


async def test_an_archived_office_is_not_offered_and_its_link_routes_nobody(
    province: Bot,
) -> None:
    malteng = await province.app.store.offices.by_code("malteng")
    assert malteng is not None
    await province.app.store.offices.archive(malteng.id, datetime.now(UTC))
    family = Family(province, "w7")
    await family.say("start", "")
    assert [code for code, _ in family.buttons] == ["utama", "tual"]
    await family.say("choice", "malteng")  # a button from an older page
    assert await family.office() == "utama"
    linked = Family(province, "w8")
    await linked.say("start", "malteng")
    assert await linked.office() == "utama"
