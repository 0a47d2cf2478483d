"""Records going out, in storage: referral destinations as rows, the webhook queue written
with the change it tells, API tokens stored hashed, the month's case rows without identities."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from storage_support import T0, at, message, raw_query, turn

from storage.errors import InvalidRecordError
from storage.figures.tokens import token_hash
from storage.handoff.records import AlertRef, LiveCase
from storage.records import CaseOpen, NewOutbound
from storage.store import Store


async def open_case(store: Store, chat: str, urgency: str = "darurat") -> LiveCase:
    contact, inbox_id = await store.turns.receive("telegram", chat, message(f"{chat}:1"))
    assert inbox_id is not None
    await store.turns.commit_turn(
        turn(contact.id, inbox_id, cases=(CaseOpen("kdrt", urgency),), when=at(10))
    )
    case = await store.handoff.live_for(contact.id)
    assert case is not None
    return case


def nothing(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
    return []


async def test_todays_destinations_are_seeded_rows_in_their_order(store: Store) -> None:
    codes = [d.code for d in await store.referrals.list()]
    assert codes == [
        "uptd_ppa",
        "polisi",
        "rumah_sakit",
        "lbh",
        "pengacara",
        "puskesmas",
        "dinsos",
        "lainnya",
    ]
    police = await store.referrals.get("polisi")
    assert police is not None and police.label("id") == "Polisi" and police.label("en") == "Police"


async def test_an_added_destination_can_be_referred_to_and_a_retired_one_cannot(
    store: Store,
) -> None:
    case = await open_case(store, "1")
    staff = (await store.staff.add("sari", "Sari", ["counsellor"], T0)).id
    await store.referrals.add("rumah_aman", "Rumah aman", "Safe house", T0)
    done = await store.handoff.refer(case.id, staff, "rumah_aman", at(20))
    assert done.done
    await store.referrals.change("polisi", "Polisi", "Police", False, at(30))
    with pytest.raises(InvalidRecordError):
        await store.handoff.refer(case.id, staff, "polisi", at(40))
    with pytest.raises(InvalidRecordError):
        await store.handoff.refer(case.id, staff, "tidak_ada", at(40))
    assert [r.service for r in await store.handoff.referrals(case.id)] == ["rumah_aman"]
    assert [d.code for d in await store.referrals.list(active_only=True)][-1] == "rumah_aman"
    assert "polisi" not in [d.code for d in await store.referrals.list(active_only=True)]


async def test_a_referral_recorded_before_a_retirement_stays_valid(store: Store) -> None:
    case = await open_case(store, "1")
    staff = (await store.staff.add("sari", "Sari", ["counsellor"], T0)).id
    assert (await store.handoff.refer(case.id, staff, "lbh", at(20))).done
    await store.referrals.change("lbh", "LBH", "Legal aid", False, at(30))
    assert [r.service for r in await store.handoff.referrals(case.id)] == ["lbh"]
    rows = await store.case_rows.month(T0, at(3600), 1)
    assert rows[0].referrals == ("lbh",)


@pytest.mark.parametrize("code", ["", "A", "polisi!", "x" * 41, "1abc", "ada spasi"])
async def test_a_malformed_code_is_refused(store: Store, code: str) -> None:
    with pytest.raises(InvalidRecordError):
        await store.referrals.add(code, "Nama", "Name", T0)


async def test_a_taken_code_is_refused_and_a_label_cannot_be_empty(store: Store) -> None:
    with pytest.raises(InvalidRecordError):
        await store.referrals.add("polisi", "Polisi lagi", "Police again", T0)
    with pytest.raises(InvalidRecordError):
        await store.referrals.change("polisi", "   ", "Police", True, T0)


async def test_no_endpoint_means_no_delivery_rows(store: Store) -> None:
    await open_case(store, "1")
    assert raw_query(store.path, "SELECT count(*) FROM webhook_deliveries") == [(0,)]


async def test_each_followed_event_is_queued_with_its_change_codes_only(store: Store) -> None:
    await store.webhooks.sync([("prov", "http://127.0.0.1:9/hook")], T0)
    case = await open_case(store, "62812", "segera")
    contact_id = case.contact_id
    inbox = await store.turns.receive("telegram", "62812", message("62812:2"))
    assert inbox[1] is not None
    await store.turns.commit_turn(
        turn(contact_id, inbox[1], cases=(CaseOpen("bunuh_diri", "darurat"),), when=at(20))
    )
    staff = (await store.staff.add("sari", "Sari", ["counsellor"], T0)).id
    await store.handoff.take(case.id, staff, at(30), nothing)
    for n in (1, 2):
        await store.handoff.relay(case.id, staff, f"out:{n}", at(40 + n), [])
    await store.handoff.refer(case.id, staff, "uptd_ppa", at(50))
    await store.handoff.close(case.id, staff, "dirujuk", at(60), nothing)
    rows = raw_query(
        store.path, "SELECT event, body, event_id, case_code FROM webhook_deliveries ORDER BY id"
    )
    assert [r[0] for r in rows] == [
        "case.opened",
        "case.urgency_changed",
        "case.first_reply",
        "case.referred",
        "case.closed",
    ]
    bodies = [json.loads(r[1]) for r in rows]
    assert len({r[2] for r in rows}) == 5
    assert all(b["case"]["code"] == case.code and b["office"] == "utama" for b in bodies)
    assert bodies[1]["case"]["urgency"] == "darurat"
    assert bodies[3]["case"]["referral"] == "uptd_ppa"
    assert bodies[4]["case"]["outcome"] == "dirujuk"
    assert bodies[4]["at"] == "2026-03-02T08:01:00.000000Z"
    text = "".join(r[1] for r in rows)
    assert "62812" not in text and "Sari" not in text and "halo" not in text


async def test_the_endpoint_lease_is_held_by_one_at_a_time_and_runs_out(store: Store) -> None:
    await store.webhooks.sync([("prov", "http://127.0.0.1:9/hook")], T0)
    (endpoint,) = await store.webhooks.endpoints()
    assert await store.webhooks.lease(endpoint.id, T0, 30)
    assert not await store.webhooks.lease(endpoint.id, at(10), 30)
    assert await store.webhooks.lease(endpoint.id, at(31), 30)


async def test_a_refusal_pauses_the_endpoint_and_the_same_row_comes_first_again(
    store: Store,
) -> None:
    await store.webhooks.sync([("prov", "http://127.0.0.1:9/hook")], T0)
    await open_case(store, "1")
    await open_case(store, "2")
    (endpoint,) = await store.webhooks.endpoints()
    first, second = await store.webhooks.pending(endpoint.id)
    await store.webhooks.refused(first, 500, "HTTP 500", at(1), retry_at=at(5))
    assert not await store.webhooks.lease(endpoint.id, at(2), 30)
    assert await store.webhooks.lease(endpoint.id, at(5), 30)
    again = await store.webhooks.pending(endpoint.id)
    assert [d.id for d in again] == [first.id, second.id] and again[0].attempts == 1
    await store.webhooks.delivered(first, 200, at(6))
    (state,) = await store.webhooks.endpoints()
    assert (state.pending, state.delivered, state.failures) == (1, 1, 0)


async def test_api_tokens_are_stored_hashed_and_revocable(store: Store) -> None:
    record, token = await store.api_tokens.add(1, "provinsi", T0)
    assert token.startswith("lk3f_") and len(token) > 40
    stored = raw_query(store.path, "SELECT token_hash FROM api_tokens")
    assert bytes(stored[0][0]) == token_hash(token)
    assert token.encode() not in bytes(stored[0][0])
    checked = await store.api_tokens.check(token, at(5))
    assert checked is not None and (checked.office_id, checked.office) == (1, "utama")
    assert await store.api_tokens.check(token[:-1] + "x", at(5)) is None
    assert await store.api_tokens.revoke(record.id, at(6))
    assert await store.api_tokens.check(token, at(7)) is None


async def test_the_months_case_rows_hold_codes_and_times_only(store: Store) -> None:
    case = await open_case(store, "1")
    staff = (await store.staff.add("sari", "Sari", ["counsellor"], T0)).id
    await store.handoff.take(case.id, staff, at(30), nothing)
    await store.handoff.relay(case.id, staff, "out:1", at(40), [])
    await store.handoff.close(case.id, staff, "aman", at(60), nothing)
    (row,) = await store.case_rows.month(T0, at(3600), 1)
    assert (row.code, row.office, row.category, row.urgency) == (
        case.code,
        "utama",
        "kdrt",
        "darurat",
    )
    assert (row.opened_at, row.first_reply_at, row.closed_at) == (at(10), at(40), at(60))
    assert row.outcome == "aman" and row.referrals == ()
    assert await store.case_rows.month(at(3600), at(7200)) == []
