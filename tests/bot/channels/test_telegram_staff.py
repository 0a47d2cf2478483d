"""Counsellors on Telegram: linking an account with a one-time code, and what others learn.

End to end through the real python-telegram-bot and the fake Bot API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram_api import FakeTelegram
from telegram_support import app_of, contact, running, settle, text

from bot.config import Config
from bot.run import Service
from storage.records import StaffMember

pytestmark = pytest.mark.e2e

SARI = 9101
STRANGER = 9102
REFUSED = [text("staff.link_refused")]


def now() -> datetime:
    return datetime.now(UTC)


async def add_sari(service: Service) -> StaffMember:
    return await app_of(service).store.staff.add("sari", "Sari Wattimena", ["counsellor"], now())


async def linked_member(service: Service, chat: int) -> StaffMember | None:
    return await app_of(service).store.staff.by_contact((await contact(service, chat)).id)


async def say(service: Service, fake: FakeTelegram, chat: int, words: str) -> list[str]:
    """What the bot answered to these words."""
    before = len(fake.texts(chat))
    await settle(service, fake, fake.send_text(chat, words))
    return fake.texts(chat)[before:]


async def test_a_counsellor_links_their_account_with_a_fresh_code(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        sari = await add_sari(service)
        code = await app_of(service).store.staff.issue_link_code(sari.id, now())
        replies = await say(service, fake, SARI, f"/link {code.lower()}")
        assert replies == [text("staff.linked", username="sari")]
        assert "Wattimena" not in replies[0]
        member = await linked_member(service, SARI)
        assert member is not None and member.id == sari.id
        first = await app_of(service).store.inbox.get(1)
        assert first is not None and first.text == "", "the code is not kept"


async def test_a_linked_counsellor_gets_the_staff_desk_never_the_family_flows(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        sari = await add_sari(service)
        code = await app_of(service).store.staff.issue_link_code(sari.id, now())
        await say(service, fake, SARI, f"/link {code}")
        assert await say(service, fake, SARI, "/bantuan") == [text("staff.help")]
        assert await say(service, fake, SARI, "/start") == [text("staff.help")]
        assert await say(service, fake, SARI, "saya mau mati") == [text("staff.unknown")]
        assert await app_of(service).store.cases.open_for((await contact(service, SARI)).id) is None
        assert not any("selamat datang" in t.lower() for t in fake.texts(SARI))


@pytest.mark.parametrize("case", ["wrong", "expired", "reused", "empty", "deactivated"])
async def test_a_code_that_is_not_valid_gets_one_neutral_answer(
    fake: FakeTelegram, config: Config, case: str
) -> None:
    async with running(config) as service:
        staff = app_of(service).store.staff
        sari = await add_sari(service)
        code = await staff.issue_link_code(sari.id, now())
        if case == "wrong":
            code = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
        elif case == "expired":
            code = await staff.issue_link_code(sari.id, now() - timedelta(hours=1))
        elif case == "reused":
            await say(service, fake, SARI, f"/link {code}")
        elif case == "empty":
            code = ""
        elif case == "deactivated":
            await staff.set_active(sari.id, False, now())
        assert await say(service, fake, STRANGER, f"/link {code}".strip()) == REFUSED
        assert await linked_member(service, STRANGER) is None


async def test_an_unlinked_account_trying_counsellor_commands_learns_nothing(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await add_sari(service)
        plain = await say(service, fake, 9201, "halo")
        for chat, command in [(9202, "/kasus K-2026-0001"), (9203, "/jadwal"), (9204, "/bantuan")]:
            replies = await say(service, fake, chat, command)
            assert replies, command
            assert not any("petugas LK3" in r or "/link" in r for r in replies), command
            if command != "/bantuan":  # for a family that is the help command
                assert replies == plain, f"{command} was answered unlike any other first message"
