"""An urgent case opened by one process is alerted by the leader, another process, at once:
the leader's escalation wakes on the case's notification (bot/handoff/casewake.py).

Two `App`s in this test process stand for two `lk3 run` processes on one PostgreSQL
database (as in test_shared_processes.py). The leader's polls are set to a minute, so
the leader's nudge and escalation's own timer cannot explain an alert within the wait:
only the `case:` notification can. The time from the family's message reaching the
second process to the alert leaving the leader is printed, never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import make_config
from support import RecordingChannel
from support.pgshared import SharedDatabase, shared_database

from bot.app import App
from bot.channels.base import Inbound
from bot.core.leadership import Leadership
from bot.core.live import LiveChanges
from storage.engine.leader import LeaderLock

URGENT_WORDS = "suami saya memukuli saya sekarang"
SARI = "6281200009301"
FAMILY = "6281200007301"
SLOW = 60.0  # the leader's nudge and poll: far beyond the wait below


@pytest.fixture
def database(tmp_path: Path) -> AsyncIterator[SharedDatabase]:
    db = shared_database(tmp_path)
    yield db
    db.drop()


async def _open(tmp_path: Path, name: str, url: str) -> tuple[App, RecordingChannel]:
    config = dataclasses.replace(
        make_config(tmp_path / name), keys_dir=tmp_path / "keys", storage_url=url
    )
    channel = RecordingChannel()
    app = await App.open(config, [channel], env={})
    app.leadership = Leadership(LeaderLock(url), poll=SLOW)
    await app.start()
    return app, channel


async def _until(predicate: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.005)


def _alerts(*channels: RecordingChannel) -> list[str]:
    return [t for channel in channels for t in channel.texts_to(SARI) if "KASUS" in t]


async def test_an_urgent_case_opened_by_another_process_wakes_the_leaders_escalation_at_once(
    tmp_path: Path, database: SharedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.core.leadership.NUDGE_SECONDS", SLOW)
    leader, leader_channel = await _open(tmp_path, "a", database.url)
    other, other_channel = await _open(tmp_path, "b", database.url)
    try:
        await _until(lambda: leader.leadership.leading, 10)
        assert not other.leadership.leading
        now = datetime.now(UTC)
        member = await leader.store.staff.add("sari", "Sari", ["counsellor"], now)
        code = await leader.store.staff.issue_link_code(member.id, now)
        await leader.receive(Inbound("test", "link-1", SARI, "text", f"/link {code}"))
        await _until(lambda: leader_channel.texts_to(SARI), 10)
        # The leader listens (the console's live pages share the connection); without
        # it the alert below is what fails.
        with contextlib.suppress(AssertionError):
            await _until(lambda: LiveChanges.of(leader.store).live, 5)
        # Nothing is due now: the leader's escalation sleeps on its timer (20 s) and nudge.
        await leader.wait_idle()
        await asyncio.sleep(0.2)

        started = time.monotonic()
        await other.receive(Inbound("test", "family-1", FAMILY, "text", URGENT_WORDS))
        await _until(lambda: _alerts(leader_channel, other_channel), 10)
        alerted = time.monotonic() - started
        await _until(lambda: other_channel.texts_to(FAMILY) or leader_channel.texts_to(FAMILY), 10)
    finally:
        await other.stop()
        await leader.stop()
    print(
        f"\nurgent case opened by process B, alert queued by the leader A {alerted * 1000:.0f} ms"
        " after B received the family's message (B processed it and committed the case)"
    )
    [alert] = _alerts(leader_channel, other_channel)  # sent by either process's sender
    assert "DARURAT" in alert and "memukuli" not in alert
    events = database.rows(
        "SELECT e.event FROM case_events e JOIN cases c ON c.id = e.case_id ORDER BY e.id"
    )
    assert [e for (e,) in events].count("alerted") == 1
