"""The read-only figures API: a token reads its own office's month and nothing else; counts
under five are "<5" as on the console; a missing, wrong or revoked token is refused alike."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from support import Clock
from support.stores import open_store

from bot.config import Config
from bot.figures.api import CASES_ROUTE, FIGURES_ROUTE, FiguresApi
from storage.crypto.keys import KeyRing
from storage.records import CaseOpen, NewInbound, TurnWrite
from storage.store import Store

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


async def family(store: Store, chat: str, office_id: int, category: str, urgency: str) -> str:
    message = NewInbound("telegram", f"{chat}:1", "text", "tolong", T0)
    contact, inbox_id = await store.turns.receive("telegram", chat, message)
    assert inbox_id is not None
    await store.offices.route_contact(contact.id, office_id)
    await store.turns.commit_turn(
        TurnWrite(inbox_id, contact.id, "{}", (), T0, cases=(CaseOpen(category, urgency),))
    )
    case = await store.cases.open_for(contact.id)
    assert case is not None
    return case.code


@pytest.fixture
async def setting(tmp_path: Path) -> AsyncIterator[tuple[Store, httpx.AsyncClient]]:
    store = await open_store(tmp_path / "lk3.db", KeyRing.generate(), clock=Clock(T0))
    api = FiguresApi(store, Config(), Clock(T0))
    app = Starlette(routes=[Route(FIGURES_ROUTE, api.figures), Route(CASES_ROUTE, api.cases)])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lk3.test")
    try:
        yield store, http
    finally:
        await http.aclose()
        await store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_reads_its_own_offices_counts_with_small_ones_hidden(
    setting: tuple[Store, httpx.AsyncClient],
) -> None:
    store, http = setting
    seram = await store.offices.add("seram", "LK3 Seram Bagian Barat", T0)
    for n in range(6):
        await family(store, f"a{n}", 1, "kdrt", "darurat")
    for n in range(2):
        await family(store, f"b{n}", 1, "anak", "biasa")
    for n in range(7):
        await family(store, f"s{n}", seram.id, "ekonomi", "segera")
    _, token = await store.api_tokens.add(1, "provinsi", T0)
    response = await http.get(f"{FIGURES_ROUTE}?month=2026-11", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["office"], body["month"]) == ("utama", "2026-11")
    table = {(f["section"], f["item"]): f["value"] for f in body["figures"]}
    assert table[("contacts", "first_contacts")] == "8"
    assert table[("cases_by_category", "kdrt")] == "6"
    assert table[("cases_by_category", "anak")] == "<5"
    assert ("cases_by_category", "ekonomi") not in table, "another office's cases"
    assert table[("cases_by_urgency", "segera")] == "0"
    assert "tolong" not in response.text


async def test_the_cases_csv_is_the_tokens_office_only(
    setting: tuple[Store, httpx.AsyncClient],
) -> None:
    store, http = setting
    seram = await store.offices.add("seram", "LK3 Seram Bagian Barat", T0)
    mine = await family(store, "a", seram.id, "kdrt", "darurat")
    await family(store, "b", 1, "anak", "biasa")
    _, token = await store.api_tokens.add(seram.id, "kabupaten", T0)
    response = await http.get(f"{CASES_ROUTE}?month=2026-11", headers=bearer(token))
    assert response.status_code == 200
    assert "lk3-cases-seram-2026-11.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert [r[:4] for r in rows[1:]] == [[mine, "seram", "kdrt", "darurat"]]


@pytest.mark.parametrize("route", [FIGURES_ROUTE, CASES_ROUTE])
async def test_missing_wrong_and_revoked_tokens_are_refused_alike(
    setting: tuple[Store, httpx.AsyncClient], route: str
) -> None:
    store, http = setting
    record, token = await store.api_tokens.add(1, "provinsi", T0)
    url = f"{route}?month=2026-11"
    assert (await http.get(url)).status_code == 401
    assert (await http.get(url, headers={"Authorization": f"Basic {token}"})).status_code == 401
    wrong = await http.get(url, headers=bearer(token[:-2] + "xx"))
    assert wrong.status_code == 401 and "bearer" in wrong.headers["www-authenticate"].lower()
    assert (await http.get(url, headers=bearer(token))).status_code == 200
    await store.api_tokens.revoke(record.id, T0)
    assert (await http.get(url, headers=bearer(token))).status_code == 401
    assert (await http.get(f"{route}?month=2026-13", headers=bearer(token))).status_code == 401


async def test_a_bad_month_is_a_400_for_a_good_token(
    setting: tuple[Store, httpx.AsyncClient],
) -> None:
    store, http = setting
    _, token = await store.api_tokens.add(1, "provinsi", T0)
    for month in ("2026-13", "11-2026", ""):
        got = await http.get(f"{FIGURES_ROUTE}?month={month}", headers=bearer(token))
        assert got.status_code == 400 and got.json()["error"] == "bad_month"
