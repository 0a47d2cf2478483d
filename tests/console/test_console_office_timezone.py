"""The console counts and shows each office's days in its own time zone: a month's figures
are bounded by the office's midnight (`[offices.<code>] timezone`), not the default's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from console_support import add_staff, client, login, make_console, make_office
from support import Clock

from bot.config import load_config
from storage.records import NewInbound
from storage.store import Store

WIB_OFFICE = """
[office]
name = "LK3 Kota Ambon"

[offices.jkt]
name = "LK3 Jakarta Timur"
timezone = "Asia/Jakarta"
"""


async def test_a_months_figures_end_at_the_offices_own_midnight(
    tmp_path: Path, store: Store, clock: Clock
) -> None:
    path = tmp_path / "lk3.toml"
    path.write_text(WIB_OFFICE, encoding="utf-8")
    config = dataclasses.replace(load_config(path, env={}), data_dir=tmp_path / "data")
    jkt = await store.offices.add("jkt", "LK3 Jakarta Timur", clock())
    # 31 March, 23.30 in Jakarta (WIB), already 1 April, 01.30 in Ambon (WIT).
    clock.now = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)
    for n in range(5):
        item = NewInbound("telegram", f"m{n}", "start", "jkt", clock())
        contact, _ = await store.turns.receive("telegram", f"90{n}", item)
        await store.offices.route_contact(contact.id, jkt.id)
    console = make_console(store, clock, office=await make_office(store, clock, config))
    staff_id, secret = await add_staff(console, "rina", ("supervisor",))
    await store.offices.assign_staff(staff_id, jkt.id)
    async with client(console) as http:
        await login(http, "rina", secret, clock)
        march = (await http.get("/console/figures.csv?month=2026-03")).text
        april = (await http.get("/console/figures.csv?month=2026-04")).text
    assert "2026-03,contacts,first_contacts,5" in march
    assert "2026-04,contacts,first_contacts,0" in april
