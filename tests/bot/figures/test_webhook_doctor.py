"""`lk3 doctor`'s webhooks line: each receiver's delivered, pending, given up and failing
counts and times, read without opening the store; never a body, an event id or a code."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import Clock, pgserver
from support.stores import open_store

from bot.config import Config, load_config
from bot.figures.config import FiguresSettings, Webhook
from bot.figures.hookcheck import webhooks_check
from storage.crypto.keys import KeyRing
from storage.records import CaseOpen, NewInbound, TurnWrite
from storage.store import Store

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SECRET = "s" * 40


def _config(data: Path, *names: str) -> Config:
    path = data / "lk3.db"
    url = pgserver.ACTIVE.database_for(path) if pgserver.ACTIVE is not None else None
    hooks = tuple(Webhook(n, f"https://{n}.example/lk3", SECRET) for n in names)
    return dataclasses.replace(
        load_config(None, env={}),
        data_dir=data,
        storage_url=url,
        figures=FiguresSettings(webhooks=hooks),
    )


async def _case(store: Store, chat: str) -> None:
    contact, inbox_id = await store.turns.receive(
        "telegram", chat, NewInbound("telegram", f"{chat}:1", "text", "tolong saya", T0)
    )
    assert inbox_id is not None
    await store.turns.commit_turn(
        TurnWrite(inbox_id, contact.id, "{}", (), T0, (CaseOpen("kdrt", "darurat"),))
    )


async def test_the_doctor_says_what_each_receiver_got_and_which_one_fails(tmp_path: Path) -> None:
    config = _config(tmp_path, "provinsi", "dinas", "baru")
    assert webhooks_check(dataclasses.replace(config, figures=FiguresSettings())) is None
    store = await open_store(config.database_path, KeyRing.generate(), clock=Clock(T0))
    try:
        await store.webhooks.sync([("provinsi", "https://p"), ("dinas", "https://d")], T0)
        await _case(store, "6281234")
        await _case(store, "6285678")
        states = {s.name: s.id for s in await store.webhooks.endpoints()}
        first, second = await store.webhooks.pending(states["provinsi"])
        await store.webhooks.delivered(first, 200, T0 + timedelta(minutes=1))
        await store.webhooks.refused(second, 500, "HTTP 500", T0, T0 + timedelta(minutes=5))
        for delivery in await store.webhooks.pending(states["dinas"]):
            await store.webhooks.delivered(delivery, 204, T0 + timedelta(minutes=2))
    finally:
        await store.close()
    check = webhooks_check(config)
    assert check is not None and check.name == "webhooks" and check.ok is False
    assert check.detail == (
        "provinsi: failing, 1 try in a row (next 09:05Z), 1 delivered"
        " (last 2026-12-07 09:01Z), 1 pending, 0 given up;"
        " dinas: 2 delivered (last 2026-12-07 09:02Z), 0 pending, 0 given up;"
        " baru: no event yet"
    )
    assert "provinsi" in check.fix and "dinas" not in check.fix
    for secret_thing in ("6281234", "tolong", "evt_", "https://"):
        assert secret_thing not in check.detail
