"""Each office its own Telegram bot, end to end through python-telegram-bot.

Two offices, two tokens served by one fake Bot API: `[telegram]` is the default
office's bot, `[offices.tual.telegram]` office tual's. A family writing to a bot is
answered by that bot and belongs to its office (its case in that office's queue);
a counsellor of tual links on tual's bot and is alerted there; each bot has its own
webhook path, its own line in /readyz and /metrics, and `lk3 doctor` checks both.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from support import free_port
from support.stores import open_store, with_storage
from telegram_api import FakeTelegram
from telegram_support import FAST, SECRET, app_of, text

from bot.channels.base import Inbound
from bot.channels.registry import Host, Setup, build
from bot.config import Config, load_config
from bot.core.texts import BotTexts
from bot.handoff.alerts import TAKE_PREFIX
from bot.monitoring.doctor import _channels
from bot.run import Service
from storage.crypto.keys import KeyRing
from storage.offices.repo import DEFAULT_OFFICE_ID

pytestmark = pytest.mark.e2e

TUAL_TOKEN = "654321:TUAL-fake-token"
FAMILY = 7001
NONA = 9201  # counsellor of LK3 Kota Tual
SARI = 9101  # counsellor of the default office
URGENT = "suami saya memukuli saya sekarang"


def province(tmp_path: Path, fake: FakeTelegram, *, mode: str = "polling") -> Config:
    """The default office's bot and tual's, as an operator writes them."""
    port = free_port()
    webhook = (
        f'mode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/telegram/webhook"\n'
        f'webhook_secret = "{SECRET}"\n'
        if mode == "webhook"
        else ""
    )
    path = tmp_path / "lk3.toml"
    path.write_text(
        f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n{webhook}'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n'
        '[offices.tual]\nname = "LK3 Kota Tual"\n'
        "[offices.tual.telegram]\n",
        encoding="utf-8",
    )
    env = {"LK3_OFFICE_TUAL_TELEGRAM_TOKEN": TUAL_TOKEN}
    config = dataclasses.replace(load_config(path, env=env), data_dir=tmp_path / "data")
    return with_storage(config)  # on PostgreSQL with --db postgres


@pytest.fixture
def tual(fake: FakeTelegram) -> FakeTelegram:
    return fake.another_bot(TUAL_TOKEN, "lk3_tual_bot")


@pytest.fixture
async def service(tmp_path: Path, fake: FakeTelegram, tual: FakeTelegram) -> AsyncIterator[Service]:
    running = Service(province(tmp_path, fake), options={"telegram": FAST}, env={})
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def settle(service: Service, bot: FakeTelegram, update: dict[str, object]) -> None:
    await bot.wait_for(lambda: bot.confirmed(update))
    await app_of(service).wait_idle()


async def office_id(service: Service, code: str) -> int:
    office = await app_of(service).store.offices.by_code(code)
    assert office is not None
    return office.id


async def link(service: Service, bot: FakeTelegram, chat: int, username: str, office: int) -> None:
    """A counsellor of `office` links their chat with `bot`, as the console tells them."""
    staff = app_of(service).store.staff
    now = datetime.now(UTC)
    added = await staff.add(username, username.title(), ["counsellor"], now, office_id=office)
    code = await staff.issue_link_code(added.id, now)
    await settle(service, bot, bot.send_text(chat, f"/link {code}"))
    assert bot.texts(chat)[-1] == text("staff.linked", username=username)


async def test_a_family_writing_to_an_offices_bot_is_answered_by_it_and_belongs_to_it(
    service: Service, fake: FakeTelegram, tual: FakeTelegram
) -> None:
    assert [c.name for c in service.channels] == ["telegram", "telegram:tual"]
    await settle(service, tual, tual.send_text(FAMILY, "halo"))
    assert tual.texts(FAMILY), "tual's bot answers"
    assert not fake.texts(FAMILY), "the default office's bot says nothing to a chat it never had"
    store = app_of(service).store
    contact = await store.contacts.find("telegram:tual", str(FAMILY))
    assert contact is not None
    assert await store.offices.office_of_contact(contact.id) == await office_id(service, "tual")
    # The same person writing to the default bot is another conversation, of the default office.
    await settle(service, fake, fake.send_text(FAMILY, "halo"))
    assert fake.texts(FAMILY)
    other = await store.contacts.find("telegram", str(FAMILY))
    assert other is not None and other.id != contact.id
    assert await store.offices.office_of_contact(other.id) == DEFAULT_OFFICE_ID


async def test_buttons_on_an_offices_bot_answer_on_that_bot(
    service: Service, fake: FakeTelegram, tual: FakeTelegram
) -> None:
    await settle(service, tual, tual.send_start(FAMILY))
    keyboard = tual.latest_keyboard(FAMILY)
    before = len(tual.texts(FAMILY))
    label = keyboard.buttons()[0][0]
    await settle(service, tual, tual.press_label(FAMILY, label))
    assert len(tual.texts(FAMILY)) > before, "the press is taken as the family's choice"
    assert not fake.calls_to("sendMessage")


async def test_a_crisis_on_tuals_bot_alerts_tuals_counsellor_on_tuals_bot(
    service: Service, fake: FakeTelegram, tual: FakeTelegram
) -> None:
    tual_id = await office_id(service, "tual")
    await link(service, tual, NONA, "nona", tual_id)
    await link(service, fake, SARI, "sari", DEFAULT_OFFICE_ID)
    sari_before = len(fake.texts(SARI))
    await settle(service, tual, tual.send_text(FAMILY, URGENT))
    app = app_of(service)
    contact = await app.store.contacts.find("telegram:tual", str(FAMILY))
    assert contact is not None
    case = await app.store.handoff.live_for(contact.id)
    assert case is not None and case.office_id == tual_id, "the case is in tual's queue"
    assert app.escalation is not None
    await app.escalation.run_once()
    await app.wait_idle()
    alerts = [m for m in tual.messages(NONA) if case.code in m.text]
    assert alerts, "Nona is alerted on tual's bot"
    assert not any(case.code in t for t in fake.texts(SARI)[sari_before:])
    # She takes it with the alert's button and her words reach the family on tual's bot.
    take = f"{TAKE_PREFIX}{case.id}"
    await settle(service, tual, tual.press(NONA, take, message_id=alerts[-1].message_id))
    taken = await app.store.handoff.live_for(contact.id)
    assert taken is not None and taken.status == "taken"
    await settle(service, tual, tual.send_text(NONA, "Ibu, saya Nona dari LK3. Ibu aman sekarang?"))
    assert any("Ibu aman sekarang" in t for t in tual.texts(FAMILY))
    assert not fake.texts(FAMILY)


async def test_a_counsellor_linking_on_another_offices_bot_is_linked_and_told_where_to_link(
    service: Service, fake: FakeTelegram, tual: FakeTelegram
) -> None:
    staff = app_of(service).store.staff
    now = datetime.now(UTC)
    nona = await staff.add(
        "nona", "Nona", ["counsellor"], now, office_id=await office_id(service, "tual")
    )
    code = await staff.issue_link_code(nona.id, now)
    await settle(service, fake, fake.send_text(NONA, f"/link {code}"))
    linked = text("staff.linked", username="nona")
    note = text("staff.linked_elsewhere", office="LK3 Kota Tual")
    assert fake.texts(NONA)[-1] == f"{linked}\n\n{note}"
    contact = await app_of(service).store.contacts.find("telegram", str(NONA))
    assert contact is not None
    member = await staff.by_contact(contact.id)
    assert member is not None and member.id == nona.id, "linked all the same"


async def test_readyz_and_metrics_name_each_bot(service: Service) -> None:
    assert service.web is not None
    base = f"http://127.0.0.1:{service.web.port}"
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{base}/metrics")).text
    assert 'channel="telegram:tual"' in metrics and 'channel="telegram"' in metrics


async def test_webhook_mode_gives_each_bot_its_own_path(
    tmp_path: Path, fake: FakeTelegram, tual: FakeTelegram
) -> None:
    config = province(tmp_path, fake, mode="webhook")
    service = Service(config, options={"telegram": FAST}, env={})
    await service.start()
    try:
        assert fake.webhook is not None and tual.webhook is not None
        assert str(fake.webhook["url"]).endswith("/telegram/webhook")
        assert str(tual.webhook["url"]).endswith("/telegram/tual")
        tual.send_text(FAMILY, "halo")
        answer = await tual.post_webhook(tual.next_update())
        assert answer.status_code == 200
        await app_of(service).wait_idle()
        assert tual.texts(FAMILY) and not fake.texts(FAMILY)
        contact = await app_of(service).store.contacts.find("telegram:tual", str(FAMILY))
        assert contact is not None
        refused = await tual.post_webhook(tual.send_text(FAMILY, "lagi"), secret="wrong-secret")
        assert refused.status_code == 403
    finally:
        await service.stop()


async def test_doctor_checks_each_bots_token(tmp_path: Path, fake: FakeTelegram) -> None:
    config = province(tmp_path, fake)
    check = await _channels(config)
    assert check.ok is False and "offices.tual.telegram" in check.detail
    fake.another_bot(TUAL_TOKEN, "lk3_tual_bot")
    check = await _channels(config)
    assert check.ok is True and "telegram:tual" in check.detail


async def test_every_bot_polls_only_while_this_process_leads(
    tmp_path: Path, fake: FakeTelegram, tual: FakeTelegram
) -> None:
    """Telegram allows one getUpdates consumer per token: with several processes only
    the leader polls, and it polls every bot's token (bot.core.leadership)."""
    config = province(tmp_path, fake)
    setup = Setup(config, BotTexts.bundled(), lambda: datetime.now(UTC), {"telegram": FAST})
    channels = build(config.channels, setup)
    store = await open_store(tmp_path / "lk3.db", KeyRing.generate())
    leading = asyncio.Event()

    async def receive(inbound: Inbound) -> bool:
        return True

    async def idle() -> None:
        return None

    host = Host(receive, store, lambda: None, lambda: None, idle, until_leading=leading.wait)
    try:
        await channels.open()
        channels.bind(host)
        await channels.start()
        await asyncio.sleep(0.3)
        assert not fake.calls_to("getUpdates") and not tual.calls_to("getUpdates")
        leading.set()
        await fake.wait_for(lambda: fake.calls_to("getUpdates"))
        await tual.wait_for(lambda: tual.calls_to("getUpdates"))
    finally:
        await channels.stop()
        await channels.close()
        await store.close()
