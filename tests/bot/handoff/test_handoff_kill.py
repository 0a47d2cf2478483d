"""`lk3 run` killed in the middle of escalation: the alert is not lost and not filed twice.

Escalation keeps nothing in memory: what is due is read from the cases each pass,
so a process that dies after a case opened alerts it when it runs again, and one
that dies after the alert went does not alert again for the same moment (the
message itself may be sent once more if the kill came before its sent mark: at
least once). The re-alert schedule across restarts is shown in
tests/bot/handoff/test_handoff_digest.py with an injected clock.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import spawn_lk3_run
from support import free_port
from support.stores import open_store
from telegram_api import FakeTelegram
from telegram_support import text

from bot.app import open_keyring
from bot.config import load_config
from bot.core.failpoints import EXIT_CODE
from bot.datadir import secure_data_dir

pytestmark = pytest.mark.kill

SARI = 9301
FAMILY = 7301
URGENT_WORDS = "suami saya memukuli saya sekarang"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def write_config(tmp_path: Path, fake: FakeTelegram) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        'data_dir = "data"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n'
        f"\n[web]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    return config


async def counsellor_link_code(config: Path) -> str:
    """Sari, a counsellor, and her one-time `/link` code (as `lk3 staff` would issue it)."""
    settings = load_config(config, env={})
    secure_data_dir(settings.data_dir)
    now = datetime.now(UTC)
    async with await open_store(
        settings.database_path, open_keyring(settings, env={}), keytree=settings.keytree_path
    ) as store:
        member = await store.staff.add("sari", "Sari", ["counsellor"], now)
        return await store.staff.issue_link_code(member.id, now)


async def case_events(config: Path) -> list[str]:
    settings = load_config(config, env={})
    async with await open_store(
        settings.database_path, open_keyring(settings, env={}), keytree=settings.keytree_path
    ) as store:
        [case] = await store.handoff.queue()
        return [e.event for e in await store.handoff.events(case.id)]


def hotlines(fake: FakeTelegram) -> bool:
    """The family has the safety reply with the emergency numbers."""
    return any("112" in t for t in fake.texts(FAMILY))


def alerts(fake: FakeTelegram) -> list[str]:
    return [t for t in fake.texts(SARI) if "KASUS" in t]


async def stopped(process: asyncio.subprocess.Process, sig: signal.Signals) -> int:
    if process.returncode is None:
        process.send_signal(sig)
    return await asyncio.wait_for(process.wait(), timeout=30)


async def test_killed_right_after_a_case_opened_the_bot_alerts_it_when_it_runs_again(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    config = write_config(tmp_path, fake)
    code = await counsellor_link_code(config)
    # The second turn to commit is the family's: the process dies the moment its case is
    # written, before anything of it is sent and before an escalation pass could see it.
    process = await spawn_lk3_run(config, failpoint="after_commit@2")
    try:
        fake.send_text(SARI, f"/link {code}")
        await fake.wait_for(lambda: fake.texts(SARI), timeout=30)
        fake.send_text(FAMILY, URGENT_WORDS)
        assert await asyncio.wait_for(process.wait(), timeout=30) == EXIT_CODE
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert alerts(fake) == [] and fake.texts(FAMILY) == []
    process = await spawn_lk3_run(config)
    try:
        await fake.wait_for(lambda: alerts(fake) and hotlines(fake), timeout=30)
    finally:
        assert await stopped(process, signal.SIGTERM) == 0
    [alert] = alerts(fake)
    assert "DARURAT" in alert and "memukuli" not in alert
    events = await case_events(config)
    assert events.count("alerted") == 1


async def test_killed_right_after_the_alert_went_the_bot_does_not_alert_twice_for_it(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    config = write_config(tmp_path, fake)
    code = await counsellor_link_code(config)
    process = await spawn_lk3_run(config)
    try:
        fake.send_text(SARI, f"/link {code}")
        await fake.wait_for(lambda: fake.texts(SARI), timeout=30)
        fake.send_text(FAMILY, URGENT_WORDS)
        await fake.wait_for(lambda: alerts(fake), timeout=30)
    finally:
        await stopped(process, signal.SIGKILL)
    process = await spawn_lk3_run(config)
    try:
        await fake.wait_for(lambda: hotlines(fake), timeout=30)
        fake.send_text(SARI, "/antrian")
        # The queue's answer comes after any alert still due to that chat (most urgent first).
        await fake.wait_for(lambda: text("handoff.queue_head") in "\n".join(fake.texts(SARI)))
    finally:
        assert await stopped(process, signal.SIGTERM) == 0
    assert 1 <= len(alerts(fake)) <= 2, "sent at least once; again only if the kill cut its mark"
    events = await case_events(config)
    assert events.count("alerted") == 1 and "realerted" not in events
